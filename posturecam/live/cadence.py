"""The live monitor's cadence: when it looks, and whether the model must run. A frame rate
that follows the state, change gating's reuse of the last landmarks, and gaps (a computer
that slept)."""

from __future__ import annotations

from posturecam.core.temporal import DRIFTING, SLOUCHING, Step
from posturecam.core.types import Frame, Landmarks
from posturecam.frames.pose import PoseEstimator
from posturecam.live.gating import ChangeGate, GateSettings

# Sample faster this close to an alert, so it comes on time without a high rate all along.
ALERT_LEAD_S = 3.0
# Longer than this between two analysed frames (by the wall clock or the frames' own
# times) is a gap: suspend, a stalled camera. Paused and snoozed time is not a gap.
SLEEP_GAP_S = 30.0


def watchful(step: Step, persistence_s: float) -> bool:
    """Posture on the move: drifting, or an alert about to fall due.

    A settled state (upright, even near the threshold, or slouching well
    before the alert) keeps the low base rate and change gating, which is most
    of the day and most of the CPU saving: a slump changes the picture, so the
    gate runs the model on it at once, and the base rate sees it within a second.
    """
    if step.state == DRIFTING:
        return True
    if step.state == SLOUCHING:
        return step.slouch_s >= persistence_s - ALERT_LEAD_S
    return False


class Cadence:
    """Runs the model or reuses its last landmarks, and says how long to wait for the next frame."""

    def __init__(
        self,
        estimator: PoseEstimator,
        rate_hz: float,
        max_rate_hz: float,
        persistence_s: float,
        gate: GateSettings | None = None,
    ) -> None:
        self.estimator = estimator
        self.rate_hz = rate_hz
        self.max_rate_hz = max_rate_hz
        self.persistence_s = persistence_s
        self.gate = ChangeGate(gate)
        self._seen: Landmarks | None = None  # the landmarks of the gate's reference frame
        self._watch = False  # posture on the move: the model runs on every frame
        self._last_seen: tuple[float, float] | None = None  # (wall, t_s) of the last frame

    def landmarks(self, frame: Frame) -> tuple[Landmarks, bool]:
        """This frame's landmarks, and whether they were carried over from the last model run.

        While posture is on the move the model runs on every frame; otherwise the
        change gate may reuse the last landmarks of a scene that has not changed.
        """
        if frame.image is None:
            return Landmarks.empty(), False
        if self._seen is not None and not self.gate.decide(frame.image, frame.t_s, self._watch):
            return self._seen, True
        if self._seen is None:
            self.gate.decide(frame.image, frame.t_s, force=True)  # the first reference
        self._seen = self.estimator.detect(frame)
        return self._seen, False

    def interval(self, step: Step) -> float:
        """Seconds from one frame to the next, after this step: fast while posture moves."""
        self._watch = watchful(step, self.persistence_s)
        return 1.0 / (self.max_rate_hz if self._watch else self.rate_hz)

    def gap(self, wall: float, t_s: float) -> float | None:
        """The gap before this frame when it is longer than ``SLEEP_GAP_S``, else None.

        Frame times may stop while the machine sleeps (monotonic clocks do), so the
        wall clock is compared too.
        """
        last, self._last_seen = self._last_seen, (wall, t_s)
        if last is None:
            return None
        gap = max(wall - last[0], t_s - last[1])
        return gap if gap > SLEEP_GAP_S else None

    def forget(self) -> None:
        """The next frame runs the model: after a pause, recalibration or no camera."""
        self.gate.reset()
        self._seen = None
        self._last_seen = None
