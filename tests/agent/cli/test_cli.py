"""The ``groundsight`` console script as a user runs it: exit codes, one-line errors, output files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXE = shutil.which("groundsight", path=str(Path(sys.executable).parent)) or "groundsight"
DEMO = ROOT / "scenarios" / "pick_place" / "red_block_in_blue_bowl.yaml"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_run_demo_scenario(tmp_path: Path) -> None:
    result = cli("run", str(DEMO), "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("result: success (passed")
    assert result.stderr == ""
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["passed"] and summary["status"] == "succeeded" and summary["seed"] == 0
    assert len((tmp_path / "run" / "trace.jsonl").read_text().splitlines()) == summary["steps"]


BAD_CASES = [
    ("color: red", "color: teal", "scene.objects[0].color: unknown colour 'teal'"),
    ("name: red-block-in-blue-bowl\n", "", "name: missing required field"),
    ("inside: [red_block, blue_bowl]", "inside: [red_block, teal_bowl]", "goal.inside[1]: unknown object id"),
    ("position: [0.45, 0.12]", "position: [0.45, left]", "scene.objects[0].position[1]:"),
    ("instruction: Put", "instruction: [Put", "line "),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD_CASES)
def test_bad_scenario_exits_2_with_one_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = DEMO.read_text()
    assert old in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(old, new, 1))
    result = cli("run", str(bad), "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {bad}: ") and expected in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "run").exists()


def test_unknown_backend_exits_2(tmp_path: Path) -> None:
    result = cli("run", str(DEMO), "--perception", "magic", "--out", str(tmp_path))
    assert result.returncode == 2
    line = result.stderr.strip()
    assert line.startswith("error: --perception: unknown perceiver 'magic' (known: classical, oracle, vlm, noisy:")
    assert "\n" not in line


def test_refusal_exits_0_when_expected(tmp_path: Path) -> None:
    scenario = ROOT / "scenarios" / "pick_place" / "block_into_block_refuse.yaml"
    result = cli("run", str(scenario), "-q", "--out", str(tmp_path))
    assert result.returncode == 0
    assert result.stdout.startswith("result: refused (passed")


def test_validate(tmp_path: Path) -> None:
    ok = cli("scenarios", "validate", "scenarios")
    assert ok.returncode == 0 and ok.stdout.strip().endswith("scenario files valid")
    (tmp_path / "bad.yaml").write_text(DEMO.read_text().replace("color: red", "color: teal"))
    bad = cli("scenarios", "validate", str(tmp_path))
    assert bad.returncode == 2 and "unknown colour 'teal'" in bad.stderr


def test_help_teaches() -> None:
    result = cli("run", "--help")
    assert result.returncode == 0
    assert "summary.json" in result.stdout and "--perception" in result.stdout


def test_answer_option_resumes_a_question(tmp_path: Path) -> None:
    ask = ROOT / "scenarios" / "pick_place" / "two_blue_bowls_ask.yaml"
    result = cli("run", str(ask), "--answer", "the left one", "--out", str(tmp_path / "run"), "-q")
    assert result.returncode == 1, result.stdout + result.stderr  # it succeeded, but the scenario expected a question
    assert result.stdout.strip().startswith("result: success (NOT passed, expected ask")
    assert "blue_bowl_1" in result.stdout


def test_broken_kg_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "mine.ttl"
    bad.write_text("@prefix gs: <https://groundsight.dev/ontology#> .\ngs:Mug gs:fragile\n", encoding="utf-8")
    result = cli("run", str(DEMO), "--kg", str(bad), "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "mine.ttl" in lines[0] and "line" in lines[0] and "Traceback" not in result.stderr


def test_kg_query_and_types(tmp_path: Path) -> None:
    extra = tmp_path / "extra.ttl"
    extra.write_text(
        "@prefix gs: <https://groundsight.dev/ontology#> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "gs:Cylinder rdfs:subClassOf gs:Kitchenware .\n",
        encoding="utf-8",
    )
    query = "SELECT ?t WHERE { ?t rdfs:subClassOf gs:Kitchenware . ?t a gs:ObjectType }"
    plain, merged = cli("kg", "query", query), cli("kg", "query", query, "--kg", str(extra))
    assert plain.returncode == merged.returncode == 0, plain.stderr + merged.stderr
    assert "Cylinder" not in plain.stdout and "Cylinder" in merged.stdout and "Mug" in plain.stdout
    bad = cli("kg", "query", "SELECT ?x WHERE {")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    types = cli("kg", "types")
    assert types.returncode == 0 and "kitchenware" in types.stdout and "mass" in types.stdout


@pytest.mark.parametrize("backend", ["process", "ray"])
def test_eval_writes_results_and_reports(tmp_path: Path, backend: str) -> None:
    """The same two scenarios through the local process pool and through a local Ray instance."""
    pytest.importorskip("ray") if backend == "ray" else None
    suite = tmp_path / "suite"
    suite.mkdir()
    for name in ("red_block_in_blue_bowl", "absent_green_block_refuse"):
        shutil.copy(ROOT / "scenarios" / "pick_place" / f"{name}.yaml", suite)
    out = tmp_path / "eval"
    args = ("eval", str(suite), "--seeds", "2", "--workers", "2", "--perception", "oracle", "--out", str(out))
    result = cli(*args, "--backend", backend)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "eval: 4/4 episodes passed"
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["scenario"], r["seed"]) for r in rows] == [
        ("absent-green-block-refuse", 0),
        ("absent-green-block-refuse", 1),
        ("red-block-in-blue-bowl", 0),
        ("red-block-in-blue-bowl", 1),
    ]
    assert "95%" in (out / "report.md").read_text() and (out / "report.html").stat().st_size > 1000
    (out / "report.md").unlink()
    again = cli("report", str(out))
    assert again.returncode == 0 and (out / "report.md").exists()


def test_eval_rejects_an_unknown_backend(tmp_path: Path) -> None:
    result = cli("eval", str(DEMO), "--backend", "slurm", "--out", str(tmp_path))
    assert result.returncode == 2 and "--backend" in result.stderr


def test_eval_takes_the_perceivers_model_like_run(tmp_path: Path) -> None:
    result = cli("eval", str(DEMO), "--perception", "detector", "--out", str(tmp_path))
    assert result.returncode == 2 and "--model" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    vlm = ("--perception", "vlm", "--model", str(tmp_path / "no"))
    missing = cli("eval", str(DEMO), "--seeds", "1", *vlm, "--out", str(tmp_path))
    assert "eval: 0/1" in missing.stdout and "cannot load model" in (tmp_path / "results.jsonl").read_text()


def test_tools_list_and_call() -> None:
    listing = cli("tools", "list")
    assert listing.returncode == 0 and "distance" in listing.stdout and "sparql" in listing.stdout
    called = cli("tools", "call", str(DEMO), "distance", "a=red_block", "b=blue_bowl")
    assert called.returncode == 0 and float(called.stdout.strip()) > 0.1
    bad = cli("tools", "call", str(DEMO), "distance", "a=red_block", "b=purple_cube")
    assert bad.returncode == 2 and "purple_cube" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_datagen_command(tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = cli("datagen", "--out", str(out), "--scenes", "3", "--no-jitter")
    assert result.returncode == 0, result.stderr
    assert (out / "train" / "metadata.jsonl").exists() and (out / "llava" / "train.json").exists()
    bad = cli("datagen", "--out", str(tmp_path / "x"), "--scenes", "0")
    assert bad.returncode == 2 and "scenes" in bad.stderr
