"""Smoke test of benchmarks/gpu_check.py: on CPU with a tiny random LLaVA on 2 scenes, and the clean exit
without CUDA."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("PIL", reason="transformers image processors need Pillow (or torchvision)")

from benchmarks import gpu_check  # noqa: E402
from tests.perception.vlm.test_perceiver import build_tiny_llava  # noqa: E402


def test_cpu_run_with_a_tiny_model_reports_cpu_figures(tmp_path: Path, capsys) -> None:
    model = tmp_path / "tiny"
    build_tiny_llava(model)
    out = tmp_path / "check.json"
    code = gpu_check.main(
        ["--cpu", "--model", str(model), "--scenes", "2", "--batch", "2", "--max-new-tokens", "4", "--json", str(out)]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"model {model} (family generic) on cpu as float32, 2 scenes, batch 2")
    assert all("[CPU, not a GPU figure]" in line for line in lines[1:4])
    record = json.loads(out.read_text())
    assert record["cpu"] is True and record["scenes"] == 2 and record["ms_per_frame"] > 0
    assert record["peak_memory_mib"] > 0 and record["memory_kind"] == "process peak RSS"
    assert record["quality"]["precision"] == 0.0  # a random model finds nothing
    assert record["errors"] == 2  # both garbage answers recorded
    assert math.isnan(record["quality"]["median_mm"])


def test_without_cuda_it_says_so_and_exits_zero(monkeypatch, capsys) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main(["--model", "anything"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no CUDA device" in out


def test_an_unloadable_model_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    assert gpu_check.main(["--cpu", "--model", str(tmp_path / "nowhere"), "--scenes", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot load model" in err


def test_bad_counts_are_refused() -> None:
    with pytest.raises(SystemExit) as exc:
        gpu_check.parse_args(["--scenes", "0"])
    assert exc.value.code == 2
