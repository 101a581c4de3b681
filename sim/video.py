"""Recording an episode to mp4: a camera rendered every few physics steps, written with OpenCV."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

from groundsight.sim.camera import SimCamera, camera_config

if TYPE_CHECKING:
    from groundsight.sim.world import World

log = logging.getLogger(__name__)


class VideoRecorder:
    """Renders ``camera`` every ``every`` physics steps of ``world`` into an mp4 file until :meth:`close`.

    At the world's 240 Hz physics, ``every=16`` gives 15 frames per simulated second, played at ``fps``.
    The recorder has its own (smaller) camera, so the agent's cameras and their frames are untouched.
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
        self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        if not self.writer.isOpened():
            raise RuntimeError(f"{self.path}: OpenCV cannot write an mp4 here")
        self.frames = 0
        self.world = world
        world.step_listeners.append(self._on_step)
        self.capture()

    def _on_step(self, world: World) -> None:
        if world.steps % self.every == 0:
            self.capture()

    def capture(self) -> None:
        """Add the camera's current view as one frame."""
        self.writer.write(cv2.cvtColor(self.camera.read().rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        """Finish the file; safe to call twice."""
        if self._on_step in self.world.step_listeners:
            self.world.step_listeners.remove(self._on_step)
        if self.writer is not None:
            self.writer.release()
            self.writer = None
            log.info("wrote %s (%d frames)", self.path, self.frames)
