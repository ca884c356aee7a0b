"""The coach's typed advice: what each event says, and its one JSON form."""

from __future__ import annotations

from posturecam.core.coach import ALERT_TITLE, TITLE, Advice, Coach
from posturecam.core.temporal import BREAK, CUE, Event


def test_an_alert_carries_words_and_stretches_until_it_is_written():
    coach = Coach()
    alert = Event(80.0, "alert", {"level": CUE, "slouched_s": 60.0, "issues": ["head_drop"]})
    advice = coach.advise(alert)
    assert isinstance(advice, Advice) and advice.is_alert and advice.title == ALERT_TITLE
    assert "your head has dropped" in advice.message and advice.stretches
    assert advice.red_flags and advice.body == advice.message + "\n" + advice.red_flags
    data = advice.to_dict()
    assert list(data) == ["t_s", "type", "level", "slouched_s", "issues", "stretches",
                          "message", "red_flags"]  # fmt: skip
    assert data["stretches"] == list(advice.stretches)
    again = coach.advise(Event(700.0, "alert", {"level": BREAK, "issues": ["head_drop"]}))
    assert not again.red_flags and "red_flags" not in again.to_dict()  # once a session
    assert len(again.stretches) == 2  # the stretch and a break


def test_events_without_words_stay_plain_events():
    coach = Coach()
    state = coach.advise(Event(1.0, "state", {"from": "upright", "to": "drifting"}))
    assert state.to_dict() == {"t_s": 1.0, "type": "state", "from": "upright", "to": "drifting"}
    assert state.title == TITLE and state.body == "" and state.stretches is None
    moved = coach.advise(Event(2.0, "setup_changed", {}))
    assert "stretches" not in moved.to_dict() and "moved" in moved.to_dict()["message"]
