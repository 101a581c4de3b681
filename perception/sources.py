"""Camera sources for real feeds: OpenCV devices, video files and network streams, and RGB-D image folders.

Every source implements :class:`~perception.frame.CameraSource`: ``name`` and ``read() -> Frame``; a frame that
cannot be delivered raises :class:`~perception.frame.CameraError` with a one-line reason, and the end of a
finite source (a video file, an image folder) raises its subclass :class:`EndOfStream`.

Intrinsics and pose come from a :class:`~perception.calibration.Calibration` when one is given. Without one
a source guesses a pinhole camera with ``fx = fy = image width`` (a horizontal field of view of about 53
degrees, typical of webcams) and the principal point at the image centre, and uses the identity pose (world
frame = camera frame). When the calibration's image size differs from the stream's, the intrinsics are
scaled to the stream's size. Non-zero distortion coefficients are removed with OpenCV (``cv2.remap`` with
maps from ``cv2.initUndistortRectifyMap``, same camera matrix), for RGB and depth alike.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from groundsight.perception.calibration import Calibration
from groundsight.perception.frame import CameraError, CameraIntrinsics, Frame

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
"""Image files an :class:`ImageFolderSource` reads (case-insensitive)."""

DEPTH_SUFFIX = "_depth"
"""``NAME_depth.png`` next to ``NAME.png`` (or ``depth/NAME.png``) is the depth image of ``NAME``."""


class EndOfStream(CameraError):  # noqa: N818 - it is an ending, not a failure
    """A finite source (video file, image folder) has delivered its last frame."""


def default_intrinsics(width: int, height: int) -> CameraIntrinsics:
    """The pinhole guess used without a calibration: ``fx = fy = width``, principal point at the centre."""
    return CameraIntrinsics(width, height, float(width), float(width), width / 2.0, height / 2.0)


def _intrinsics_for(calibration: Calibration | None, width: int, height: int) -> CameraIntrinsics:
    if calibration is None:
        return default_intrinsics(width, height)
    k = calibration.camera_intrinsics
    if (k.width, k.height) == (width, height):
        return k
    sx, sy = width / k.width, height / k.height
    log.warning(
        "calibration is for %dx%d images but the source gives %dx%d; scaling intrinsics",
        k.width,
        k.height,
        width,
        height,
    )
    return CameraIntrinsics(width, height, k.fx * sx, k.fy * sy, k.cx * sx, k.cy * sy)


class _Undistorter:
    """Undistortion maps for one image size, built once (only when the calibration has distortion)."""

    def __init__(self, calibration: Calibration | None) -> None:
        self.calibration = calibration if calibration is not None and calibration.distorted else None
        self._maps: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, image: np.ndarray, k: CameraIntrinsics, nearest: bool = False) -> np.ndarray:
        if self.calibration is None:
            return image
        size = (k.width, k.height)
        if size not in self._maps:
            self._maps[size] = cv2.initUndistortRectifyMap(
                k.K, self.calibration.dist_coeffs, None, k.K, size, cv2.CV_32FC1
            )
        mx, my = self._maps[size]
        return cv2.remap(image, mx, my, cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR)


def _pose(calibration: Calibration | None) -> np.ndarray:
    return calibration.pose if calibration is not None else np.eye(4)


def is_stream_url(source: str) -> bool:
    """Is ``source`` a network stream (``rtsp://``, ``http://``, ...) rather than a file path?"""
    return "://" in source


CaptureFactory = Callable[[int | str, float], Any]
"""Opens a capture: ``(source, timeout_s) -> object with read(), isOpened(), get(), release()``."""


def open_capture(source: int | str, timeout_s: float) -> cv2.VideoCapture:
    """``cv2.VideoCapture`` with open and read timeouts (honoured by the FFmpeg backend for streams)."""
    ms = int(timeout_s * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
    try:
        return cv2.VideoCapture(source, cv2.CAP_ANY, params)
    except cv2.error:  # a backend that rejects the parameters
        return cv2.VideoCapture(source)


class VideoSource:
    """Frames from an OpenCV ``VideoCapture``: a device index, a video file, or an rtsp/http URL.

    RGB only (``depth`` is None). A failed read is retried up to ``max_failures`` times in a row; a device or
    URL that still gives nothing is reopened up to ``reconnect`` times; then :class:`CameraError` says the
    stream stalled. Every attempt is bounded in time (``timeout_s`` per open and per read, for backends
    that honour it, and ``timeout_s`` overall per ``read()`` call), so ``read()`` never waits forever. A video
    file that ends raises :class:`EndOfStream`, or :class:`CameraError` if it ends well before the frame count
    its header announced (a truncated or corrupt file).

    Args:
        source: device index, video file path, or stream URL.
        calibration: intrinsics, distortion and pose; None for the default guess (see the module docstring).
        max_failures: failed reads in a row tolerated before reconnecting (or ending, for a file).
        reconnect: reopen attempts for a device or URL that stopped delivering frames.
        timeout_s: time limit for opening, for one read, and for one whole ``read()`` call.
        name: camera name recorded in frames (default derived from ``source``).
        capture_factory: opens the capture (default :func:`open_capture`); tests inject a stub here.
    """

    def __init__(
        self,
        source: int | str,
        calibration: Calibration | None = None,
        max_failures: int = 5,
        reconnect: int = 2,
        timeout_s: float = 5.0,
        name: str | None = None,
        capture_factory: CaptureFactory | None = None,
    ) -> None:
        self.source = source
        self.calibration = calibration
        self.max_failures = max(1, max_failures)
        self.reconnect = max(0, reconnect)
        self.timeout_s = timeout_s
        self.live = isinstance(source, int) or is_stream_url(source)
        if isinstance(source, int):
            self.name = name or f"device{source}"
        elif self.live:
            self.name = name or "stream"
        else:
            if not Path(source).is_file():
                raise CameraError(f"video file not found: {source}")
            self.name = name or Path(source).stem
        self._factory = capture_factory or open_capture
        self._undistort = _Undistorter(calibration)
        self._pose = _pose(calibration)
        self._intrinsics: CameraIntrinsics | None = None
        self._start = time.monotonic()
        self.frames_read = 0
        self._cap = self._open()
        count = self._cap.get(cv2.CAP_PROP_FRAME_COUNT) if not self.live else 0
        self.frame_count = int(count) if count and count > 0 else None

    def _open(self) -> Any:
        cap = self._factory(self.source, self.timeout_s)
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            raise CameraError(f"cannot open video source {self.source!r}")
        return cap

    def _frame(self, bgr: np.ndarray) -> Frame:
        if bgr.ndim == 2:
            rgb = cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
        else:
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGRA2RGB if bgr.shape[2] == 4 else cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        if self._intrinsics is None or (self._intrinsics.width, self._intrinsics.height) != (w, h):
            self._intrinsics = _intrinsics_for(self.calibration, w, h)
        rgb = self._undistort(rgb, self._intrinsics)
        t = time.monotonic() - self._start if self.live else float(self._cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
        self.frames_read += 1
        return Frame(rgb=rgb, depth=None, intrinsics=self._intrinsics, T_world_cam=self._pose, t=t, camera=self.name)

    def read(self) -> Frame:
        """The next frame; :class:`EndOfStream` at the end of a file, :class:`CameraError` when stalled."""
        if self._cap is None:
            raise CameraError(f"video source {self.source!r} is closed")
        deadline = time.monotonic() + self.timeout_s
        failures = reconnects = 0
        while True:
            ok, bgr = self._cap.read()
            if ok and bgr is not None and bgr.size:
                return self._frame(bgr)
            failures += 1
            log.debug("%s: dropped frame (%d in a row)", self.name, failures)
            if time.monotonic() > deadline:
                raise CameraError(f"{self.name}: stalled: no frame within {self.timeout_s:g} s")
            if failures < self.max_failures:
                continue
            if not self.live:
                if self.frame_count is not None and self.frames_read < self.frame_count - 1:
                    raise CameraError(
                        f"{self.name}: video ended after {self.frames_read} of {self.frame_count} frames "
                        "(truncated or corrupt file?)"
                    )
                raise EndOfStream(f"{self.name}: end of stream after {self.frames_read} frames")
            if reconnects >= self.reconnect:
                raise CameraError(
                    f"{self.name}: stream stalled: no frame after {failures} reads and {reconnects} reconnects"
                )
            reconnects += 1
            failures = 0
            log.warning("%s: no frames; reconnecting (%d of %d)", self.name, reconnects, self.reconnect)
            self._cap.release()
            try:
                self._cap = self._open()
            except CameraError:
                self._cap = _ClosedCapture()

    def close(self) -> None:
        """Release the capture."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _ClosedCapture:
    """Stands in for a capture that could not be reopened: every read fails."""

    def read(self) -> tuple[bool, None]:
        return False, None

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return False

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        pass


def depth_path_for(image: Path) -> Path | None:
    """The depth image of ``image``: ``NAME_depth.png`` beside it, else ``depth/NAME.png``; None if neither."""
    for candidate in (
        image.with_name(image.stem + DEPTH_SUFFIX + ".png"),
        image.parent / "depth" / (image.stem + ".png"),
    ):
        if candidate.is_file():
            return candidate
    return None


class ImageFolderSource:
    """RGB(-D) frames from a folder of images, in sorted file-name order.

    Naming rule: every ``*.png``, ``*.jpg`` or ``*.jpeg`` in ``folder`` (not in subfolders) whose stem does not
    end in ``_depth`` is a colour image, e.g. ``000001.png``. Its depth image, if any, is ``000001_depth.png``
    beside it or ``depth/000001.png``: a single-channel 16-bit PNG, converted to metres with the
    calibration's ``depth_scale`` (default 0.001: millimetres); 0 means no reading. Frames without a depth
    image have ``depth=None``. Timestamps are ``index / fps``.

    Raises:
        CameraError: the folder is missing or holds no images (at construction), or an image cannot be read.
        EndOfStream: from ``read()`` after the last image.
    """

    def __init__(
        self, folder: str | Path, calibration: Calibration | None = None, fps: float = 30.0, name: str | None = None
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise CameraError(f"image folder not found: {self.folder}")
        self.calibration = calibration
        self.fps = fps
        self.name = name or self.folder.name or "images"
        self.images = sorted(
            p
            for p in self.folder.iterdir()
            if p.suffix.lower() in IMAGE_SUFFIXES and not p.stem.endswith(DEPTH_SUFFIX) and p.is_file()
        )
        if not self.images:
            raise CameraError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {self.folder}")
        self.index = 0
        self._undistort = _Undistorter(calibration)
        self._pose = _pose(calibration)
        self._scale = calibration.depth_scale if calibration is not None else 0.001

    def __len__(self) -> int:
        return len(self.images)

    def read(self) -> Frame:
        """The next image (and its depth); :class:`EndOfStream` after the last one."""
        if self.index >= len(self.images):
            raise EndOfStream(f"{self.name}: end of stream after {len(self.images)} images")
        path = self.images[self.index]
        t = self.index / self.fps
        self.index += 1  # a bad file is skipped: the next read() moves on
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CameraError(f"{self.name}: cannot read image {path}")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        k = _intrinsics_for(self.calibration, w, h)
        depth = None
        dpath = depth_path_for(path)
        if dpath is not None:
            raw = cv2.imread(str(dpath), cv2.IMREAD_UNCHANGED)
            if raw is None:
                raise CameraError(f"{self.name}: cannot read depth image {dpath}")
            if raw.ndim != 2 or raw.dtype != np.uint16:
                raise CameraError(f"{self.name}: depth image {dpath} is not a single-channel 16-bit PNG")
            if raw.shape != (h, w):
                raise CameraError(
                    f"{self.name}: depth image {dpath} is {raw.shape[1]}x{raw.shape[0]}, colour is {w}x{h}"
                )
            depth = self._undistort(raw.astype(np.float32) * np.float32(self._scale), k, nearest=True)
        rgb = self._undistort(rgb, k)
        return Frame(rgb=rgb, depth=depth, intrinsics=k, T_world_cam=self._pose, t=t, camera=self.name)


def open_source(source: str | int, calibration: Calibration | None = None, **video_options: Any) -> Any:
    """A source for a command-line ``--source``: a device index (``"0"``), an image folder, a video file, a URL,
    or a recorded feed ``bag:PATH`` / ``lerobot:PATH`` (see :mod:`perception.recorded`; their options, such as
    ``rgb_topic`` or ``camera_key``, go through here and must be None for the other kinds).

    Raises:
        CameraError: the file or folder does not exist, or the capture cannot be opened.
    """
    from groundsight.perception.recorded import RECORDED_OPTIONS, is_recorded_spec, open_recorded

    if is_recorded_spec(source):
        return open_recorded(str(source), calibration, **video_options)
    stray = [k for k in RECORDED_OPTIONS if video_options.pop(k, None) is not None]
    if stray:
        raise CameraError(f"--{stray[0].replace('_', '-')} applies to bag: and lerobot: sources only, not {source}")
    if isinstance(source, int) or (isinstance(source, str) and source.strip().isdigit()):
        return VideoSource(int(source), calibration, **video_options)
    if is_stream_url(source):
        return VideoSource(source, calibration, **video_options)
    path = Path(source)
    if path.is_dir():
        return ImageFolderSource(path, calibration)
    if not path.exists():
        raise CameraError(f"source not found: {source} (not a device index, URL, video file or image folder)")
    return VideoSource(source, calibration, **video_options)
