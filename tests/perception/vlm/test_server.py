"""``vlm-server`` against a real local HTTP server (``http.server`` on 127.0.0.1) that answers OpenAI-style
chat completions in each model family's format, written from simulator truth; and against no server at all."""

from __future__ import annotations

import base64
import json
import math
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from groundsight.perception.perceivers import PerceptionError, make_perceiver
from groundsight.perception.vlm.families import family_from_name
from groundsight.perception.vlm.server import VLMServerPerceiver
from tests.perception.vlm.test_families import GOLDEN, POINT_GOLDEN, scene  # noqa: F401 - the fixture


class Stub:
    """A chat-completions stub: ``answer(request_json)`` gives the reply text; ``fail_first`` requests get 503."""

    def __init__(self, answer: Callable[[dict], str], fail_first: int = 0, fail_code: int = 503) -> None:
        self.answer = answer
        self.fail_first = fail_first
        self.fail_code = fail_code
        self.requests: list[tuple[str, dict, dict]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append((self.path, dict(self.headers), body))
                if len(stub.requests) <= stub.fail_first:
                    self.send_error(stub.fail_code, "refused by the stub")
                    return
                reply = {"choices": [{"index": 0, "message": {"role": "assistant", "content": stub.answer(body)}}]}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> Stub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub_for() -> Iterator[Callable[..., Stub]]:
    started: list[Stub] = []

    def start(answer: Callable[[dict], str], fail_first: int = 0, fail_code: int = 503) -> Stub:
        s = Stub(answer, fail_first, fail_code).__enter__()
        started.append(s)
        return s

    yield start
    for s in started:
        s.__exit__()


def _check_positions(percept, truth, tolerance: float) -> None:
    assert {o.id for o in percept.objects} == set(truth)
    for obj in percept.objects:
        assert math.dist(obj.position[:2], truth[obj.id].position[:2]) < tolerance, (obj.id, obj.position)


@pytest.mark.parametrize("family", sorted(GOLDEN))
def test_each_family_through_the_server(family: str, scene, stub_for, monkeypatch) -> None:  # noqa: F811
    frame, boxes, truth = scene
    k = frame.intrinsics
    stub = stub_for(lambda body: GOLDEN[family](boxes, k.width, k.height))
    monkeypatch.setenv("GROUNDSIGHT_VLM_API_KEY", "sk-test")
    perceiver = make_perceiver("vlm-server", base_url=stub.url, model="served-model", family=family)
    assert isinstance(perceiver, VLMServerPerceiver) and perceiver.family.name == family
    percept = perceiver.perceive([frame])
    assert percept.perceiver == "vlm-server" and perceiver.last_errors == []
    _check_positions(percept, truth, 0.02)
    path, headers, body = stub.requests[0]
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "served-model" and body["temperature"] == 0
    image, text = body["messages"][0]["content"]
    assert text["text"] == perceiver.family.prompt(k.width, k.height)
    png = base64.b64decode(image["image_url"]["url"].removeprefix("data:image/png;base64,"))
    sent = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    assert np.array_equal(sent, frame.rgb[..., :3])
    assert body.get("skip_special_tokens", True) is (not perceiver.family.keep_special_tokens)


@pytest.mark.parametrize("style", sorted(POINT_GOLDEN))
def test_molmo_points_through_the_server_become_objects(style: str, scene, stub_for) -> None:  # noqa: F811
    frame, boxes, truth = scene
    k = frame.intrinsics
    stub = stub_for(lambda body: POINT_GOLDEN[style](boxes, k.width, k.height))
    perceiver = make_perceiver("vlm-server", base_url=stub.url, model="allenai/Molmo-7B-D-0924")
    assert perceiver.family.name == "molmo"  # from the model name
    percept = perceiver.perceive([frame])
    _check_positions(percept, truth, 0.03)
    assert not any("point-only" in e for e in perceiver.last_errors)


def test_a_point_off_the_objects_is_kept_point_only(scene, stub_for) -> None:  # noqa: F811
    frame, _, _ = scene
    stub = stub_for(lambda body: '<point x="0.5" y="0.5" alt="red block">red block</point>')
    perceiver = make_perceiver("vlm-server", base_url=stub.url, model="m", family="molmo")
    perceiver.perceive([frame])
    assert any("point-only" in e for e in perceiver.last_errors)


def test_transient_failures_are_retried(scene, stub_for) -> None:  # noqa: F811
    frame, boxes, truth = scene
    k = frame.intrinsics
    stub = stub_for(lambda body: GOLDEN["qwen2_vl"](boxes, k.width, k.height), fail_first=1)
    perceiver = VLMServerPerceiver(stub.url, "Qwen/Qwen2-VL-7B-Instruct", retries=1)
    assert perceiver.family.name == "qwen2_vl"
    _check_positions(perceiver.perceive([frame]), truth, 0.02)
    assert len(stub.requests) == 2 and perceiver.requests == 2


def test_garbage_answers_are_recorded_not_raised(scene, stub_for) -> None:  # noqa: F811
    frame, _, _ = scene
    stub = stub_for(lambda body: "I see a table.")
    perceiver = VLMServerPerceiver(stub.url, "some-model")
    percept = perceiver.perceive([frame])
    assert percept.objects == [] and perceiver.last_errors and perceiver.last_answers == ["I see a table."]


def test_unreachable_server_is_one_line(scene) -> None:  # noqa: F811
    frame, _, _ = scene
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    perceiver = VLMServerPerceiver(f"http://127.0.0.1:{port}/v1", "m", retries=1, timeout=2)
    with pytest.raises(PerceptionError, match=r"vlm-server: .*/chat/completions: unreachable .* after 2 tries") as err:
        perceiver.perceive([frame])
    assert "\n" not in str(err.value) and perceiver.requests == 2


def test_a_server_that_keeps_failing_is_given_up(scene, stub_for) -> None:  # noqa: F811
    frame, _, _ = scene
    stub = stub_for(lambda body: "", fail_first=99)  # 503 every time: transient, retried, then given up
    perceiver = VLMServerPerceiver(stub.url, "m", retries=1)
    with pytest.raises(PerceptionError, match="HTTP 503 .* after 2 tries"):
        perceiver.perceive([frame])
    assert len(stub.requests) == 2


def test_a_client_error_is_not_retried(scene, stub_for) -> None:  # noqa: F811
    frame, _, _ = scene
    stub = stub_for(lambda body: "", fail_first=99, fail_code=404)
    perceiver = VLMServerPerceiver(stub.url, "m", retries=2)
    with pytest.raises(PerceptionError, match="HTTP 404 .* after 1 try$"):
        perceiver.perceive([frame])
    assert len(stub.requests) == 1


def test_bad_options_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="needs a base URL and a model name"):
        make_perceiver("vlm-server", model="m")
    with pytest.raises(PerceptionError, match="unknown VLM family 'nope'"):
        make_perceiver("vlm-server", base_url="http://127.0.0.1:1/v1", model="m", family="nope")


def test_family_from_served_model_names() -> None:
    assert family_from_name("Qwen/Qwen2.5-VL-7B-Instruct") == "qwen2_5_vl"
    assert family_from_name("Qwen/Qwen2-VL-2B-Instruct") == "qwen2_vl"
    assert family_from_name("google/paligemma2-3b-mix-448") == "paligemma"
    assert family_from_name("microsoft/Florence-2-large") == "florence2"
    assert family_from_name("HuggingFaceTB/SmolVLM-Instruct") == "normalized"
    assert family_from_name("gpt-4o") == "generic"


# ---------------------------------------------------------------------------------------------- the CLI


def test_camera_command_through_a_stub_server(tmp_path, stub_for) -> None:
    from tests.agent.cli.test_cli import cli
    from tests.perception.test_sources import write_rgbd_folder

    _, calib = write_rgbd_folder(tmp_path / "frames", n=2)
    stub = stub_for(lambda body: '[{"type": "block", "color": "red", "box": [10, 10, 40, 40]}]')
    out = tmp_path / "out"
    result = cli(
        "camera", "--source", str(tmp_path / "frames"), "--calibration", str(calib), "--out", str(out),
        "--perception", "vlm-server", "--vlm-base-url", stub.url, "--vlm-model", "served",
    )  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr, result.stderr
    assert len(stub.requests) == 2 and all(body["model"] == "served" for _, _, body in stub.requests)
    rows = [json.loads(line) for line in (out / "scene_graph.jsonl").read_text().splitlines()]
    assert [r["error"] for r in rows] == [None, None]


def test_camera_command_with_an_unreachable_server_records_one_line(tmp_path) -> None:
    import socket

    from tests.agent.cli.test_cli import cli
    from tests.perception.test_sources import write_rgbd_folder

    _, calib = write_rgbd_folder(tmp_path / "frames", n=1)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "out"
    result = cli(
        "camera", "--source", str(tmp_path / "frames"), "--calibration", str(calib), "--out", str(out),
        "--perception", "vlm-server", "--vlm-base-url", f"http://127.0.0.1:{port}/v1", "--vlm-model", "m",
    )  # fmt: skip
    assert "Traceback" not in result.stdout + result.stderr
    (row,) = [json.loads(line) for line in (out / "scene_graph.jsonl").read_text().splitlines()]
    assert row["error"].startswith("vlm-server: ") and "unreachable" in row["error"] and "\n" not in row["error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--perception", "vlm-server", "--vlm-model", "m"], "--vlm-base-url: the vlm-server perceiver needs"),
        (["--perception", "vlm-server", "--vlm-base-url", "http://x/v1"], "--vlm-model: name the model"),
        (["--perception", "classical", "--vlm-model", "m"], "only for --perception vlm-server"),
    ],
)
def test_cli_flags_are_checked_up_front(args: list[str], message: str) -> None:
    from tests.agent.cli.test_cli import cli

    result = cli("camera", "--source", "nowhere", *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
