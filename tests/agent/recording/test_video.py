"""The episode video is H.264 (yuv420p), which browsers play; the writer falls back to mp4v without PyAV."""

from __future__ import annotations

import sys
from pathlib import Path

import av
import numpy as np
import pytest

from groundsight.sim.video import H264Writer, VideoRecorder
from groundsight.sim.world import World


def _moving_square(i: int, size: tuple[int, int] = (161, 121)) -> np.ndarray:
    img = np.full((size[1], size[0], 3), 128, np.uint8)
    img[40:70, 10 + 8 * i : 40 + 8 * i] = (255, 0, 0)
    return img


def test_writer_encodes_h264_with_even_size(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    with H264Writer(path, fps=10) as writer:
        for i in range(8):
            writer.write(_moving_square(i))
    assert writer.codec == "h264" and writer.size == (160, 120)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert stream.codec_context.pix_fmt == "yuv420p"
    assert len(frames) == 8 and frames[0].shape == (120, 160, 3)
    r, g, b = frames[3][55, 50].astype(int)  # inside the square in frame 3 (x 34..63)
    assert r > 200 and g < 60 and b < 60


def test_writer_falls_back_to_mp4v_without_pyav(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # import av -> ImportError
    path = tmp_path / "clip.mp4"
    with H264Writer(path, fps=10) as writer:
        writer.write(_moving_square(0))
    assert writer.codec == "mp4v" and "browsers do not play" in caplog.text
    monkeypatch.undo()
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "mpeg4"


def test_episode_recorder_writes_h264(tmp_path: Path) -> None:
    path = tmp_path / "episode.mp4"
    with World() as world:
        recorder = VideoRecorder(world, path, size=(242, 180), every=8)
        world.settle()
        recorder.close()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (242, 180)
        assert sum(1 for _ in container.decode(stream)) == recorder.frames > 1


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--autoplay-policy=no-user-gesture-required",
]


def _play_in_chromium(html: Path) -> dict:
    """Open a page with one <video> in headless Chromium; return what the element reports once it settles."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(html.as_uri(), wait_until="load")
            page.wait_for_function(
                "() => { const v = document.querySelector('video'); return v.error || v.readyState >= 2 }"
            )
            return page.evaluate(
                "() => { const v = document.querySelector('video');"
                " return {error: v.error && v.error.code, width: v.videoWidth, ready: v.readyState} }"
            )
        finally:
            browser.close()


@pytest.mark.parametrize("pyav", [True, False])
def test_h264_plays_in_headless_chromium_and_mp4v_does_not(
    pyav: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not pyav:
        monkeypatch.setitem(sys.modules, "av", None)
    with H264Writer(tmp_path / "clip.mp4", fps=10) as writer:
        for i in range(8):
            writer.write(_moving_square(i))
    html = tmp_path / "page.html"
    html.write_text('<!doctype html><video src="clip.mp4" muted preload="auto"></video>')
    state = _play_in_chromium(html)
    if pyav:
        assert state == {"error": None, "width": 160, "ready": state["ready"]} and state["ready"] >= 2
    else:  # the fallback's MPEG-4 part 2 is what browsers refuse: the reason for H.264
        assert state["error"] == 4 and state["width"] == 0
