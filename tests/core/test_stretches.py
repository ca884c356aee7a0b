"""The stretch catalog is safe, valid data, and the picker is calm and reproducible."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from itertools import cycle, islice, pairwise

import pytest

from posturecam.core.catalog_format import KNOWN_ISSUES, KNOWN_TARGETS, POSITIONS, validate
from posturecam.core.rules import DEFAULT_RULES
from posturecam.core.stretches import (
    GENERAL_TARGETS,
    Catalog,
    Dose,
    RedFlagPolicy,
    StretchPicker,
    catalog_as_json,
    format_stretch,
    list_text,
    load_catalog,
    red_flag_notice,
)
from posturecam.errors import PosturecamError


def raw_catalog() -> dict:
    text = resources.files("posturecam.core").joinpath("data", "stretches.json").read_text("utf-8")
    return json.loads(text)


def all_strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in all_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in all_strings(v)]
    return []


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def entry(id_: str, targets: list[str], *, desk: bool = True, position: str = "seated") -> dict:
    return {
        "id": id_,
        "name": id_.replace("-", " ").title(),
        "targets": targets,
        "position": position,
        "desk_friendly": desk,
        "steps": ["Sit tall.", "Move gently."],
        "dose": {"hold_s": [15, 30], "reps": None, "sets": [2, 4]},
        "cautions": ["Stop if it hurts."],
    }


def small_catalog(*entries: dict) -> dict:
    return {
        "version": 1,
        "red_flags": "See a health professional if pain comes with numbness.",
        "general_caution": "Move gently.",
        "stretches": list(entries) or [entry("a", ["head_drop"]), entry("walk", ["break"])],
    }


def write(tmp_path, data) -> str:
    path = tmp_path / "stretches.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return str(path)


# --- the packaged catalog --------------------------------------------------------------------


def test_packaged_catalog_is_valid_and_large_enough(catalog):
    assert validate(raw_catalog()) == []
    assert len(catalog.stretches) >= 12
    assert catalog.version == 1
    assert len({s.id for s in catalog.stretches}) == len(catalog.stretches)


def test_known_targets_follow_the_judge():
    assert set(KNOWN_ISSUES) == set(DEFAULT_RULES)
    assert set(KNOWN_TARGETS) == set(DEFAULT_RULES) | {"break"}


@pytest.mark.parametrize("issue", list(DEFAULT_RULES))
def test_every_issue_has_a_desk_friendly_entry(catalog, issue):
    assert any(s.desk_friendly and issue in s.targets for s in catalog.stretches)


def test_there_are_desk_friendly_and_walking_breaks(catalog):
    breaks = [s for s in catalog.stretches if "break" in s.targets]
    assert any(s.desk_friendly for s in breaks)
    assert any("walk" in s.id for s in breaks)


def test_doses_and_positions_are_sensible(catalog):
    for s in catalog.stretches:
        assert s.position in POSITIONS, s.id
        if s.dose.hold_s:
            assert 5 <= s.dose.hold_s[0] <= s.dose.hold_s[1] <= 60, s.id
        if s.dose.hold_s and not s.dose.reps:  # a held stretch: 15-30 s, 2-4 times
            assert s.dose.hold_s[0] >= 15 and s.dose.hold_s[1] <= 30, s.id
            assert s.dose.sets is not None and 2 <= s.dose.sets[0] <= s.dose.sets[1] <= 4, s.id


def test_design_content_is_present(catalog):
    ids = " ".join(s.id for s in catalog.stretches)
    for needle in [
        "chin-tuck",
        "thoracic-extension",
        "cat-cow",
        "thread-the-needle",
        "rotation",
        "doorway-pec",
        "lat-stretch",
        "trapezius",
        "row",
        "face-pull",
        "y-raise",
        "swimmers",
        "back-extension",
        "dead-bug",
        "bird-dog",
        "walk",
        "shoulder-blade-squeeze",
    ]:
        assert needle in ids, needle
    positions = {s.position for s in catalog.stretches}
    assert {"foam_roller", "doorway", "floor", "seated", "standing"} <= positions


def test_every_entry_says_stop_if_it_hurts(catalog):
    for s in catalog.stretches:
        assert any(re.search(r"\bstop\b.*\bhurts?\b", c, re.I) for c in s.cautions), s.id


def test_red_flags_cover_the_warning_signs(catalog):
    text = catalog.red_flags.lower()
    for word in ["numbness", "tingling", "weakness", "injury", "chest", "abdomen", "persistent"]:
        assert word in text
    assert "health professional" in text


NO_FORCE = re.compile(
    r"pop|crack|click|manipulat|self-adjust|adjust\w* (?:your|the) (?:spine|back|neck)"
    r"|thrust|jerk|bounc|forceful|yank",
    re.I,
)


def test_catalog_never_suggests_popping_or_cracking():
    hits = [s for s in all_strings(raw_catalog()) if NO_FORCE.search(s)]
    assert hits == []


# --- validation ------------------------------------------------------------------------------


def _set(path: str, value):
    """A mutation setting ``path`` (dot/index path into the first entry) to ``value``."""

    def mutate(data: dict) -> None:
        node = data
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node[key]
        last = keys[-1]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value

    return mutate


BAD_FIELDS = [
    ("stretches.0.id", KeyError, "missing field 'id'"),
    ("stretches.0.id", "Chin Tuck", "slug"),
    ("stretches.0.id", "walk", "duplicate id"),
    ("stretches.0.name", " ", ".name"),
    ("stretches.0.targets", "head_drop", ".targets"),
    ("stretches.0.targets", [], ".targets"),
    ("stretches.0.targets", ["neck_crane"], "unknown issue 'neck_crane'"),
    ("stretches.0.targets", ["head_drop", "head_drop"], "duplicate names"),
    ("stretches.0.position", "bed", "position: 'bed'"),
    ("stretches.0.desk_friendly", "yes", "desk_friendly"),
    ("stretches.0.steps", [], ".steps"),
    ("stretches.0.steps", ["Sit tall.", ""], ".steps[1]"),
    ("stretches.0.cautions", [], ".cautions"),
    ("stretches.0.video", "https://example.org", "unknown field 'video'"),
    ("stretches.0.dose", [15, 30], ".dose"),
    ("stretches.0.dose.sets", KeyError, "missing field 'sets'"),
    ("stretches.0.dose.minutes", 2, "unknown field 'minutes'"),
    ("stretches.0.dose.hold_s", [2, 30], "hold_s"),
    ("stretches.0.dose.hold_s", [15, 90], "hold_s"),
    ("stretches.0.dose.hold_s", [30, 15], "above max"),
    ("stretches.0.dose.hold_s", [15.5, 30], "whole numbers"),
    ("stretches.0.dose.hold_s", [True, 30], "whole numbers"),
    ("stretches.0.dose.hold_s", 20, "whole numbers"),
    ("stretches.0.dose.reps", "ten", ".reps"),
    ("stretches.0.dose.sets", [0, 2], ".sets"),
    ("stretches.0.steps", ["Twist until your back pops."], "banned word 'pops'"),
    ("stretches.0.name", "Neck crack", "banned word 'crack'"),
    ("stretches.0.cautions", ["Try to self-adjust the spine."], "banned word 'self-adjust'"),
    ("red_flags", "Spinal manipulation helps.", "banned word 'manipulat'"),
    ("stretches.0.steps", ["Popping is fine."], "banned word 'Popping'"),
    ("version", 2, "version"),
    ("version", True, "version"),
    ("red_flags", "", "red_flags"),
    ("general_caution", KeyError, "missing field 'general_caution'"),
    ("stretches", [], "stretches: must be a non-empty list"),
    ("extra", 1, "unknown field 'extra'"),
    ("stretches.1.targets", ["head_drop"], "target 'break'"),
]


@pytest.mark.parametrize(("path", "value", "fragment"), BAD_FIELDS)
def test_validation_catches_each_bad_field(tmp_path, path, value, fragment):
    data = small_catalog()
    assert validate(data) == []
    _set(path, value)(data)
    problems = validate(data)
    assert any(fragment in p for p in problems), problems
    with pytest.raises(PosturecamError, match=re.escape(fragment)):
        load_catalog(write(tmp_path, data))


def test_validation_lists_every_problem(tmp_path):
    data = small_catalog()
    data["stretches"][0]["position"] = "bed"
    data["stretches"][0]["dose"]["hold_s"] = [1, 2]
    with pytest.raises(PosturecamError, match=r"2 problem\(s\)") as info:
        load_catalog(write(tmp_path, data))
    assert "position" in str(info.value) and "hold_s" in str(info.value)


@pytest.mark.parametrize("data", [[], "just text", None])
def test_validation_rejects_non_objects(data):
    assert validate(data) == ["catalog: top level must be a JSON object"]


def test_broken_json_and_missing_file_are_user_errors(tmp_path):
    with pytest.raises(PosturecamError, match="not valid JSON"):
        load_catalog(write(tmp_path, '{"version": 1,'))
    with pytest.raises(PosturecamError, match="cannot read"):
        load_catalog(tmp_path / "nope.json")


def test_a_valid_file_overrides_the_packaged_catalog(tmp_path):
    cat = load_catalog(write(tmp_path, small_catalog()))
    assert [s.id for s in cat.stretches] == ["a", "walk"]
    assert cat.stretches[0].dose == Dose(hold_s=(15, 30), reps=None, sets=(2, 4))
    assert cat.stretches[0].targets == ("head_drop",)


# --- picking ---------------------------------------------------------------------------------


def overlap(stretch, issues) -> int:
    return sum(i in stretch.targets for i in issues)


@pytest.mark.parametrize("issue", list(DEFAULT_RULES))
def test_pick_matches_the_issue_desk_friendly_first(catalog, issue):
    s = StretchPicker(catalog).pick([issue])
    assert s is not None and issue in s.targets and s.desk_friendly


@pytest.mark.parametrize(
    "issues",
    [
        ["head_drop", "head_forward", "leaning_in"],
        ["forward_head", "trunk_flexion"],
        ["head_tilt", "shoulder_tilt"],
        ["side_lean", "shoulder_tilt", "trunk_flexion"],
    ],
)
def test_pick_prefers_entries_covering_more_issues(catalog, issues):
    best = max(overlap(s, issues) for s in catalog.stretches)
    best_desk = max(overlap(s, issues) for s in catalog.stretches if s.desk_friendly)
    first = StretchPicker(catalog).pick(issues)
    assert overlap(first, issues) == best
    if best_desk == best:
        assert first.desk_friendly


def test_pick_accepts_the_judges_joined_string(catalog):
    assert StretchPicker(catalog).pick("head_drop;head_forward;leaning_in") == (
        StretchPicker(catalog).pick(["head_drop", "head_forward", "leaning_in"])
    )


def test_never_the_same_stretch_twice_in_a_row(catalog):
    picker = StretchPicker(catalog)
    issue_sets = [[i] for i in DEFAULT_RULES] + [["head_drop", "forward_head"], []]
    picks = [picker.pick(issues) for issues in islice(cycle(issue_sets), 300)]
    assert all(p is not None and not p.is_break for p in picks)
    assert all(a.id != b.id for a, b in pairwise(picks))
    # and for one issue repeated many times, it rotates rather than ping-pongs
    same = [picker.pick(["forward_head"]).id for _ in range(12)]
    assert all(a != b for a, b in pairwise(same))
    assert len(set(same)) >= 3


def test_a_lone_match_alternates_with_general_entries(tmp_path):
    cat = load_catalog(
        write(
            tmp_path,
            small_catalog(
                entry("only-tilt", ["head_tilt"]),
                entry("upper-back", ["trunk_flexion"]),
                entry("walk", ["break"]),
            ),
        )
    )
    picker = StretchPicker(cat)
    assert [picker.pick(["head_tilt"]).id for _ in range(4)] == [
        "only-tilt",
        "upper-back",
        "only-tilt",
        "upper-back",
    ]


def test_nothing_else_to_offer_gives_none_not_a_repeat(tmp_path):
    cat = load_catalog(
        write(tmp_path, small_catalog(entry("solo", ["trunk_flexion"]), entry("w", ["break"])))
    )
    picker = StretchPicker(cat)
    assert picker.pick(["trunk_flexion"]).id == "solo"
    assert picker.pick(["trunk_flexion"]) is None
    assert picker.pick_break().id == "w"


def test_picks_are_deterministic(catalog):
    sequence = [["head_drop"], ["forward_head", "trunk_flexion"], [], ["head_tilt"]] * 10

    def run() -> list[str]:
        picker = StretchPicker(catalog)
        return [picker.pick(issues).id for issues in sequence] + [
            picker.pick_break().id for _ in range(3)
        ]

    assert run() == run()


@pytest.mark.parametrize("issues", [[], ["not_an_issue"], ["break"], ""])
def test_no_matching_issue_falls_back_to_upper_back(catalog, issues):
    s = StretchPicker(catalog).pick(issues)
    assert s is not None and not s.is_break
    assert set(s.targets) & set(GENERAL_TARGETS)


def test_position_filter(catalog):
    picker = StretchPicker(catalog)
    s = picker.pick(["trunk_flexion"], position_ok=lambda p: p == "floor")
    assert s.position == "floor"
    assert picker.pick(["head_tilt"], position_ok=lambda p: False) is None


def test_break_picks_rotate_and_stay_out_of_stretch_picks(catalog):
    picker = StretchPicker(catalog)
    breaks = [picker.pick_break() for _ in range(6)]
    assert all(b.is_break for b in breaks)
    assert all(a.id != b.id for a, b in pairwise(breaks))
    assert all(not picker.pick(["head_drop"]).is_break for _ in range(20))


def test_red_flag_policy_once_per_session_for_alerts_and_every_break():
    policy = RedFlagPolicy()
    assert [policy.due("alert") for _ in range(4)] == [True, False, False, False]
    assert all(policy.due("break") for _ in range(4))
    assert policy.due("alert") is False
    fresh = RedFlagPolicy()  # a new session
    assert fresh.due("break") and fresh.due("alert") and not fresh.due("alert")
    with pytest.raises(ValueError, match="alert"):
        fresh.due("popup")


def test_red_flag_notice_uses_catalog_text(catalog):
    assert catalog.red_flags in red_flag_notice(catalog)
    assert red_flag_notice() == red_flag_notice(catalog)


# --- presenting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dose", "text"),
    [
        (Dose((15, 30), None, (2, 4)), "hold 15-30 s, 2-4 times"),
        (Dose((5, 5), (8, 10), None), "hold 5 s, 8-10 repetitions"),
        (Dose(None, (10, 15), (2, 3)), "10-15 repetitions, 2-3 sets"),
        (Dose(None, None, None), ""),
    ],
)
def test_dose_text(dose, text):
    assert dose.text() == text


def test_format_stretch(catalog):
    s = catalog.by_id("upper-trapezius-stretch")
    text = format_stretch(s)
    assert text.splitlines()[0].startswith(s.name)
    assert "seated" in text and "at your desk" in text
    for n, step in enumerate(s.steps, 1):
        assert f"{n}. {step}" in text
    assert "hold 15-30 s, 2-4 times" in text
    assert all(c in text for c in s.cautions)
    floor = format_stretch(catalog.by_id("bird-dog"))
    assert "on the floor" in floor and "at your desk" not in floor


def test_catalog_as_json_round_trips_and_filters(catalog):
    everything = catalog_as_json(catalog)
    assert everything == raw_catalog()["stretches"]
    json.dumps(everything)
    tilt = catalog_as_json(catalog, "head_tilt")
    assert tilt and all("head_tilt" in e["targets"] for e in tilt)
    assert len(tilt) < len(everything)
    assert all("break" in e["targets"] for e in catalog_as_json(catalog, "break"))


def test_list_text_filters_by_issue(catalog):
    text = list_text(catalog, "side_lean")
    for s in catalog.stretches:
        assert (f"[{s.id}]" in text) == ("side_lean" in s.targets)
    assert catalog.red_flags in text and catalog.general_caution in text
    full = list_text(catalog)
    assert all(f"[{s.id}]" in full for s in catalog.stretches)


@pytest.mark.parametrize("call", [list_text, catalog_as_json])
def test_unknown_issue_names_the_known_ones(catalog, call):
    with pytest.raises(PosturecamError, match="unknown issue 'slumping'") as info:
        call(catalog, "slumping")
    assert all(name in str(info.value) for name in KNOWN_TARGETS)


def test_catalog_objects_are_frozen(catalog):
    s = catalog.stretches[0]
    with pytest.raises(AttributeError):
        s.name = "x"  # type: ignore[misc]
    assert copy.deepcopy(s) == s
