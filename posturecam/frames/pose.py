"""The MediaPipe adapter: the only module that imports mediapipe.

Everything else sees ``Landmarks``, so the model can be faked in tests and
replaced without touching geometry or judgement.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import cv2
import numpy as np

from posturecam.core.types import NUM_LANDMARKS, Frame, Landmarks
from posturecam.errors import ModelError
from posturecam.frames import netguard

VIDEO = "video"
IMAGE = "image"
ENV_ALLOW_NETWORK = "POSTURECAM_ALLOW_NETWORK"
_DEVNULL: int | None = None
# Package __init__ files that import every MediaPipe task: the audio tasks import
# sounddevice, whose search for PortAudio runs ldconfig, gcc and ld, and the vision
# package imports matplotlib.pyplot for drawing helpers we never call.
_EAGER_PACKAGES = ("mediapipe", "mediapipe.tasks.python", "mediapipe.tasks.python.vision")
log = logging.getLogger(__name__)


class PoseEstimator(Protocol):
    """Anything that turns a frame into landmarks (the real model or a fake)."""

    def detect(self, frame: Frame) -> Landmarks: ...

    def close(self) -> None: ...


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence MediaPipe's C++ logging (glog/TFLite), which ignores Python settings.

    Set POSTURECAM_DEBUG=1 to see it.
    """
    if os.environ.get("POSTURECAM_DEBUG"):
        yield
        return
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    global _DEVNULL
    if _DEVNULL is None:
        _DEVNULL = os.open(os.devnull, os.O_WRONLY)  # opened once: this runs every frame
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        os.dup2(_DEVNULL, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


_DEFERRED: dict[str, tuple[ModuleType, Any]] = {}  # package name -> (module, loader)


def _defer_package_init(name: str) -> None:
    """Register package ``name`` without running its __init__ until one of its names is read.

    Its submodules import as usual; ``mediapipe.Image`` or ``vision.FaceDetector`` (what
    the __init__ defines) still work for any other code, by running the __init__ then.
    """
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    module = importlib.util.module_from_spec(spec)

    def __getattr__(attr: str) -> Any:
        _run_deferred_inits(name)
        return getattr(module, attr)

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    _DEFERRED[name] = (module, spec.loader)
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def _run_deferred_inits(name: str) -> None:
    """Run the deferred __init__ of ``name`` and of those inside it, innermost first.

    That is the order ``import mediapipe`` runs them in, which they rely on: mediapipe's
    own __init__ rebinds ``mediapipe.tasks`` to ``mediapipe.tasks.python``.
    """
    inside = [n for n in _DEFERRED if n == name or n.startswith(name + ".")]
    for inner in sorted(inside, key=len, reverse=True):
        entry = _DEFERRED.pop(inner, None)
        if entry is not None:  # another thread may have run it
            module, loader = entry
            module.__dict__.pop("__getattr__", None)
            loader.exec_module(module)


@dataclass(frozen=True)
class _PoseApi:
    """The few MediaPipe Tasks names the adapter uses."""

    BaseOptions: Any
    PoseLandmarker: Any
    PoseLandmarkerOptions: Any
    RunningMode: Any
    Image: Any
    ImageFormat: Any


_API: _PoseApi | None = None


def _pose_api() -> _PoseApi:
    """Import the PoseLandmarker modules alone, not ``import mediapipe`` (about 0.6 s less)."""
    global _API
    if _API is None:
        for name in _EAGER_PACKAGES:
            _defer_package_init(name)
        from mediapipe.tasks.python.core.base_options import BaseOptions
        from mediapipe.tasks.python.vision.core.image import Image, ImageFormat
        from mediapipe.tasks.python.vision.core.vision_task_running_mode import (
            VisionTaskRunningMode,
        )

        # Not "from ...vision import pose_landmarker" (its hasattr would run the __init__) nor
        # "import a.b.c as x" (walks attributes, and mediapipe's __init__ rebinds "tasks").
        pose_landmarker = importlib.import_module("mediapipe.tasks.python.vision.pose_landmarker")
        _API = _PoseApi(
            BaseOptions,
            pose_landmarker.PoseLandmarker,
            pose_landmarker.PoseLandmarkerOptions,
            VisionTaskRunningMode,
            Image,
            ImageFormat,
        )
    return _API


def _dask_in_use() -> bool:
    """True in a Dask worker or client: it keeps talking TCP to its scheduler."""
    distributed: ModuleType | None = sys.modules.get("distributed")
    if distributed is None:
        return False
    for probe in ("get_worker", "default_client"):
        try:
            getattr(distributed, probe)()
        except Exception:  # ValueError "no worker/client found", or an older API
            continue
        return True
    return False


def _is_posturecam_program() -> bool:
    """True in the ``posturecam`` command and its batch workers (spawn copies ``sys.argv``)."""
    if not sys.argv or not sys.argv[0]:
        return False
    argv0 = Path(sys.argv[0])
    if argv0.stem == "posturecam":  # the console script
        return True
    try:  # python -m posturecam
        return argv0.resolve() == Path(__file__).resolve().parents[1] / "__main__.py"
    except OSError:
        return False


def deny_network(offline: bool | None = None) -> netguard.GuardResult:
    """Cut this process off the internet before MediaPipe loads (its logging client phones home).

    Called after the model file is resolved, so never before a download. True: always.
    None: only in the ``posturecam`` command and its batch workers, not in a program that
    imported posturecam (tests, notebooks), not with POSTURECAM_ALLOW_NETWORK=1, and not in
    a Dask worker or client, which talks to its scheduler over TCP. False: never.
    """
    if offline is False:
        return netguard.GuardResult(False, "offline=False")
    if offline is None:
        if not _is_posturecam_program():
            return netguard.GuardResult(False, "not the posturecam command; pass offline=True")
        if os.environ.get(ENV_ALLOW_NETWORK) == "1":
            return netguard.GuardResult(False, f"{ENV_ALLOW_NETWORK}=1")
        if _dask_in_use():
            return netguard.GuardResult(False, "Dask needs the network")
    first = netguard.last_result() is None
    result = netguard.deny_internet()
    if first and not result.denied and sys.platform.startswith("linux"):
        log.warning("posturecam could not block MediaPipe's network access: %s", result.reason)
    return result


def to_landmarks(result: object, width: int, height: int) -> Landmarks:
    """Turn a MediaPipe PoseLandmarkerResult into our type (first person only)."""
    poses = getattr(result, "pose_landmarks", None) or []
    if not poses:
        return Landmarks.empty((width, height))
    pose = poses[0]
    worlds = getattr(result, "pose_world_landmarks", None) or []
    if len(pose) != NUM_LANDMARKS:
        return Landmarks.empty((width, height))
    arr = np.fromiter(
        (v for p in pose for v in (p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0)),
        dtype=float,
        count=NUM_LANDMARKS * 5,
    ).reshape(NUM_LANDMARKS, 5)
    world = (
        np.fromiter(
            (v for w in worlds[0] for v in (w.x, w.y, w.z)), dtype=float, count=NUM_LANDMARKS * 3
        ).reshape(NUM_LANDMARKS, 3)
        if worlds and len(worlds[0]) == NUM_LANDMARKS
        else np.full((NUM_LANDMARKS, 3), np.nan)
    )
    return Landmarks(
        xy=arr[:, :2] * (width, height),
        z=arr[:, 2] * width,  # MediaPipe scales z roughly like x
        visibility=arr[:, 3],
        presence=arr[:, 4],
        world=world,
        image_size=(width, height),
    )


class MediaPipePose:
    """PoseLandmarker in VIDEO mode (tracking, for sequences) or IMAGE mode (unrelated stills)."""

    def __init__(
        self,
        model_path: str | Path,
        mode: str = VIDEO,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        *,
        offline: bool | None = None,
    ) -> None:
        """``offline``: True cuts this process off the internet, False never, None: deny_network."""
        if mode not in (VIDEO, IMAGE):
            raise ValueError(f"mode must be {VIDEO!r} or {IMAGE!r}")
        deny_network(offline)  # before the native library loads: it opens a socket on load
        with quiet_native_stderr():
            api = _pose_api()
            self._api = api
            running_mode = api.RunningMode.VIDEO if mode == VIDEO else api.RunningMode.IMAGE
            options = api.PoseLandmarkerOptions(
                base_options=api.BaseOptions(model_asset_path=str(model_path)),
                running_mode=running_mode,
                num_poses=1,
                min_pose_detection_confidence=min_detection_confidence,
                min_pose_presence_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
            try:
                self._landmarker = api.PoseLandmarker.create_from_options(options)
            except (RuntimeError, ValueError) as exc:
                raise ModelError(
                    f"MediaPipe could not load the model {model_path}: {exc}. "
                    "Check it with `posturecam model verify`."
                ) from exc
        self.mode = mode
        self._last_ms = -1

    def detect(self, frame: Frame) -> Landmarks:
        if frame.image is None:
            raise ValueError("cannot detect on a skipped frame")
        h, w = frame.image.shape[:2]
        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        image = self._api.Image(image_format=self._api.ImageFormat.SRGB, data=rgb)
        with quiet_native_stderr():
            if self.mode == VIDEO:
                # VIDEO mode needs strictly increasing integer milliseconds.
                ms = max(round(frame.t_s * 1000), self._last_ms + 1)
                self._last_ms = ms
                result = self._landmarker.detect_for_video(image, ms)
            else:
                result = self._landmarker.detect(image)
        return to_landmarks(result, w, h)

    def close(self) -> None:
        if self._landmarker is not None:
            with quiet_native_stderr():
                self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> MediaPipePose:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
