"""Recording an episode to mp4: a camera rendered every few physics steps, encoded H.264 so browsers play it.

:class:`H264Writer` encodes RGB frames with PyAV (libx264 / FFmpeg's ``h264`` encoder, ``yuv420p`` pixels,
even frame sizes), the codec every browser's ``<video>`` element plays. Where PyAV or its H.264 encoder is
missing, it falls back to OpenCV's ``mp4v`` (MPEG-4 part 2, which browsers do not play) with a warning.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from groundsight.sim.camera import SimCamera, camera_config

if TYPE_CHECKING:
    from groundsight.sim.world import World

log = logging.getLogger(__name__)

H264_ENCODERS = ("libx264", "h264", "libopenh264")
"""PyAV encoder names tried in order; the first one FFmpeg has is used."""


def _h264_encoder() -> str | None:
    try:
        import av
    except ImportError:
        return None
    return next((name for name in H264_ENCODERS if name in av.codecs_available), None)


class H264Writer:
    """Writes RGB frames (HxWx3 uint8) to an mp4 file, H.264 / yuv420p when PyAV can, else OpenCV mp4v.

    The size is fixed by the first frame; odd sides are cropped by one pixel (yuv420p needs even sizes),
    and later frames of another size are resized to it. ``codec`` says what was used: ``"h264"`` or ``"mp4v"``.
    """

    def __init__(self, path: str | Path, fps: float = 15.0, crf: int = 23) -> None:
        self.path = Path(path)
        self.fps = fps
        self.crf = crf
        self.frames = 0
        self.size: tuple[int, int] | None = None
        self.codec: str | None = None
        self._container: Any = None
        self._stream: Any = None
        self._cv: cv2.VideoWriter | None = None

    def _open(self, width: int, height: int) -> None:
        self.size = (width - width % 2, height - height % 2)
        encoder = _h264_encoder()
        if encoder is not None:
            import av

            self._container = av.open(str(self.path), mode="w")
            options = {"crf": str(self.crf)} if encoder == "libx264" else {}
            self._stream = self._container.add_stream(
                encoder, rate=Fraction(self.fps).limit_denominator(1001), options=options
            )
            self._stream.width, self._stream.height = self.size
            self._stream.pix_fmt = "yuv420p"
            self.codec = "h264"
            return
        log.warning("%s: PyAV with an H.264 encoder is missing; writing mp4v, which browsers do not play", self.path)
        self._cv = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, self.size)
        if not self._cv.isOpened():
            raise RuntimeError(f"{self.path}: OpenCV cannot write an mp4 here")
        self.codec = "mp4v"

    def write(self, rgb: np.ndarray) -> None:
        """Append one RGB frame."""
        rgb = np.ascontiguousarray(np.asarray(rgb)[:, :, :3], dtype=np.uint8)
        if self.size is None:
            self._open(rgb.shape[1], rgb.shape[0])
        w, h = self.size  # type: ignore[misc]
        if rgb.shape[:2] != (h, w):
            cropped = rgb[:h, :w]
            rgb = np.ascontiguousarray(cropped if cropped.shape[:2] == (h, w) else cv2.resize(rgb, (w, h)))
        if self._cv is not None:
            self._cv.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        else:
            import av

            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            self._container.mux(self._stream.encode(frame))
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file; safe to call twice."""
        if self._container is not None:
            self._container.mux(self._stream.encode(None))
            self._container.close()
            self._container = None
        if self._cv is not None:
            self._cv.release()
            self._cv = None

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoRecorder:
    """Renders ``camera`` every ``every`` physics steps of ``world`` into an mp4 file until :meth:`close`.

    At the world's 240 Hz physics, ``every=16`` gives 15 frames per simulated second, played at ``fps``.
    The recorder has its own (smaller) camera, so the agent's cameras and their frames are untouched.
    The file is H.264 (see :class:`H264Writer`).
    """

    def __init__(
        self,
        world: World,
        path: str | Path,
        camera: str = "front",
        every: int = 16,
        fps: float = 15.0,
        size: tuple[int, int] = (480, 360),
    ) -> None:
        self.path = Path(path)
        self.every = every
        config = replace(camera_config(camera), name=f"video-{camera}", width=size[0], height=size[1])
        self.camera = SimCamera(world.client, config, clock=world.time, body=world.robot.body)
        self.writer: H264Writer | None = H264Writer(self.path, fps)
        self.frames = 0
        self.world = world
        world.step_listeners.append(self._on_step)
        self.capture()

    def _on_step(self, world: World) -> None:
        if world.steps % self.every == 0:
            self.capture()

    def capture(self) -> None:
        """Add the camera's current view as one frame."""
        if self.writer is not None:
            self.writer.write(self.camera.read().rgb)
            self.frames += 1

    def close(self) -> None:
        """Finish the file; safe to call twice."""
        if self._on_step in self.world.step_listeners:
            self.world.step_listeners.remove(self._on_step)
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            log.info("wrote %s (%d frames)", self.path, self.frames)
