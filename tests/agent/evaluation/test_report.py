"""Evaluation reports: a real eval folder (real episodes), report.md's tables, report.html in headless Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from groundsight.agent.evaluation.report import ReportError, render_reports, wilson_interval
from groundsight.agent.loop.runner import RunConfig, Summary, run_episode
from groundsight.agent.tasks.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = ("scenarios/pick_place/red_block_in_blue_bowl.yaml", "scenarios/pick_place/absent_green_block_refuse.yaml")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _write_results(out: Path, rows: list[dict]) -> None:
    """results.jsonl as the eval command writes it: one Summary per line, plus the scenario file."""
    with open(out / "results.jsonl", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({**Summary.model_validate(r).model_dump(mode="json"), "file": r["file"]}) + "\n")


def _run_eval(out: Path, scenarios=SCENARIOS, seeds=(0, 1), instruction: str | None = None) -> list[dict]:
    rows = []
    for path in scenarios:
        scenario = load_scenario(ROOT / path)
        if instruction is not None:
            scenario = scenario.model_copy(update={"instruction": instruction})
        for seed in seeds:
            summary = run_episode(
                scenario,
                RunConfig(seed=seed, perception="oracle", reasoner="rules"),
                out / scenario.name / f"seed{seed}",
            )
            rows.append({**summary.model_dump(), "file": path})
    _write_results(out, rows)
    return rows


@pytest.fixture(scope="module")
def eval_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval")
    _run_eval(out)
    return out


def _browser():
    """A headless Debian Chromium through playwright, or a skip that says what is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return sync_api


def _open(sync_api, html_path: Path, check):
    """Open ``html_path`` in headless Chromium, run ``check(page)``, return (console errors, page errors)."""
    console, errors = [], []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(html_path.as_uri(), wait_until="load")
            check(page)
        finally:
            browser.close()
    return console, errors


def test_wilson_interval_matches_the_formula():
    lo, hi = wilson_interval(8, 10)
    assert (round(lo, 3), round(hi, 3)) == (0.490, 0.943)
    lo, hi = wilson_interval(10, 10)
    assert hi == pytest.approx(1.0) and round(lo, 3) == 0.722
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_report_md_has_the_tables_and_the_interval(eval_dir: Path):
    md_path, html_path = render_reports(eval_dir)
    assert md_path == eval_dir / "report.md" and html_path.exists()
    md = md_path.read_text(encoding="utf-8")
    results = [json.loads(line) for line in (eval_dir / "results.jsonl").read_text().splitlines()]
    passed = sum(r["passed"] for r in results)
    lo, hi = wilson_interval(passed, len(results))
    assert f"{passed}/{len(results)} episodes passed" in md
    assert f"95% interval {100 * lo:.0f}%–{100 * hi:.0f}%" in md
    for heading in ("## Overall", "## By family", "## By scenario", "## Why episodes did not pass"):
        assert heading in md
    assert "## Verifier catches by check" in md
    # the family of both scenario files, one row per scenario with its pass count and interval
    assert "| pick_place | 2 |" in md
    for r in results:
        assert f"| {r['scenario']} | pick_place | {r['expected']} |" in md
    # the refuse scenario's refusal is a verifier catch: referent_exists failed in both of its episodes
    catch = next(line for line in md.splitlines() if line.startswith("| referent_exists |"))
    assert catch.split("|")[3].strip() == "2" and "refuse 2" in catch
    # no noisy perception and no ablation file: those tables are left out
    assert "Injected hallucinations" not in md and "Ablation" not in md
    # the same inputs give the same bytes
    html = html_path.read_text(encoding="utf-8")
    render_reports(eval_dir)
    assert md_path.read_text(encoding="utf-8") == md and html_path.read_text(encoding="utf-8") == html


def test_report_html_opens_in_chromium(eval_dir: Path, tmp_path: Path):
    sync_api = _browser()
    out = tmp_path / "eval"
    shutil.copytree(eval_dir, out)
    (out / "ablation.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "perception": "noisy:oracle",
                    "noise": noise,
                    "verify": verify,
                    "passed": passed,
                    "total": 10,
                    "caught": 3 if verify else 0,
                    "injected": 4,
                    "false_rejections": 0,
                    "claims": 20,
                }
            )
            + "\n"
            for noise, verify, passed in ((0.0, True, 10), (0.2, True, 8), (0.0, False, 10), (0.2, False, 5))
        )
    )
    _, html_path = render_reports(out)
    html = html_path.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html and "<script" not in html  # self-contained
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    found: dict = {}

    def check(page) -> None:
        found["tables"] = page.locator("table").count()
        found["headers"] = page.locator("th").all_inner_texts()
        found["plots"] = page.eval_on_selector_all("img.plot", "els => els.map(e => [e.complete, e.naturalWidth])")
        found["details"] = page.eval_on_selector_all("details.episode", "els => els.map(e => e.id)")
        found["frames"] = page.eval_on_selector_all("img.frame", "els => els.map(e => e.naturalWidth)")
        first = page.locator("details.episode").first
        first.locator("summary").click()
        found["opened"] = first.evaluate("e => e.open")
        found["thought"] = first.locator("ol.thought li").count()
        found["verdicts"] = first.locator("td.verdict").all_inner_texts()

    console, errors = _open(sync_api, html_path, check)
    assert console == [] and errors == []
    assert found["tables"] >= 6  # overall, family, scenario, catches, ablation + each episode's checks
    assert "95% interval (Wilson)" in found["headers"] and "check" in found["headers"]
    assert len(found["plots"]) == 2 and all(done and width > 0 for done, width in found["plots"])
    assert found["details"] == [f"ep-{r['scenario']}-seed{r['seed']}" for r in results]
    stored = sorted(out.glob("*/seed*/frames/*.jpg"))
    if stored:  # the runner stores frames: each episode shows some, all decoded
        assert len(found["frames"]) >= len(results) and all(w > 0 for w in found["frames"])
    assert found["opened"] and found["thought"] >= 2
    assert found["verdicts"] and set(found["verdicts"]) <= {"pass", "FAIL"}


def test_frames_are_embedded_downscaled_and_capped(eval_dir: Path, tmp_path: Path):
    out = tmp_path / "eval"
    shutil.copytree(eval_dir, out)
    first = json.loads((out / "results.jsonl").read_text().splitlines()[0])
    run = out / first["scenario"] / f"seed{first['seed']}"
    (run / "frames").mkdir(exist_ok=True)
    names = []
    for i in range(10):
        name = f"frames/test_{i:02d}.jpg"
        Image.new("RGB", (640, 480), (20 * i, 100, 200)).save(run / name)
        names.append(name)
    with open(run / "trace.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"step": 99, "node": "perceive", "frame_files": names}) + "\n")
    _, html_path = render_reports(out)
    html = html_path.read_text(encoding="utf-8")
    section = html.split(f'id="ep-{first["scenario"]}-seed{first["seed"]}"')[1].split("</details>")[0]
    assert section.count('<img class="frame"') == 6 and "of " in section and "stored frames shown" in section
    assert 'title="frames/test_00.jpg"' in section and 'title="frames/test_09.jpg"' in section


def test_hostile_text_is_escaped(tmp_path: Path):
    hostile = 'Put the <script>window.pwned=1</script> <img src=x onerror="window.pwned=2"> in the blue bowl.'
    rows = _run_eval(tmp_path, SCENARIOS[:1], (0,), instruction=hostile)
    # make the hostile text reach every kind of cell: the reason, a check claim, the chain of thought
    results = tmp_path / "results.jsonl"
    row = json.loads(results.read_text())
    row["reason"] = hostile
    results.write_text(json.dumps(row) + "\n")
    trace = tmp_path / rows[0]["scenario"] / "seed0" / "trace.jsonl"
    check = {"name": "<b>bold</b>", "claim": hostile, "passed": False, "reason": hostile, "on_fail": "refuse"}
    thought = {"steps": [{"kind": "parse", "text": hostile}]}
    with open(trace, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"step": 50, "node": "verify", "checks": [check], "thought": thought}) + "\n")
    md_path, html_path = render_reports(tmp_path)
    html = html_path.read_text(encoding="utf-8")
    assert "<script" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert "window.pwned=1" in md_path.read_text(encoding="utf-8")
    sync_api = _browser()
    state: dict = {}

    def check_page(page) -> None:
        page.locator("details.episode summary").first.click()
        state["pwned"] = page.evaluate("() => window.pwned === undefined ? null : window.pwned")
        state["text"] = page.locator("details.episode").first.inner_text()

    console, errors = _open(sync_api, html_path, check_page)
    assert state["pwned"] is None and errors == []
    assert "<script>window.pwned=1</script>" in state["text"]  # shown as text, not run


def test_bad_results_file_is_one_line_naming_it(tmp_path: Path):
    with pytest.raises(ReportError, match="results.jsonl: no such file"):
        render_reports(tmp_path)
    (tmp_path / "results.jsonl").write_text('{"scenario": "x", "seed": 0}\n')
    with pytest.raises(ReportError, match=r"results.jsonl:1: status: Field required"):
        render_reports(tmp_path)
    (tmp_path / "results.jsonl").write_text("not json\n")
    with pytest.raises(ReportError, match=r"results.jsonl:1: not JSON"):
        render_reports(tmp_path)


def test_hallucination_table_counts_injections_by_kind(tmp_path: Path):
    scenario = load_scenario(ROOT / SCENARIOS[0])
    rows = []
    for seed, verify in ((0, True), (1, True), (2, False)):
        run = tmp_path / scenario.name / f"seed{seed}"
        summary = run_episode(
            scenario,
            RunConfig(
                seed=seed, perception="noisy:oracle", reasoner="rules", perception_options={"noise": 0.3}, verify=verify
            ),
            run,
        )
        rows.append({**summary.model_dump(), "file": SCENARIOS[0]})
    rows[0]["caught"] = {"missed": 1}  # a harness that counts catches: its numbers are used
    with open(tmp_path / "results.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    md = render_reports(tmp_path)[0].read_text(encoding="utf-8")
    assert "## Injected hallucinations" in md
    kinds: dict[str, list[int]] = {}
    for r in rows:
        for i in r["injections"]:
            kinds.setdefault(i["kind"], []).append(r["seed"])
    assert kinds, "noise 0.3 injected nothing in three episodes"
    for kind, seeds in kinds.items():
        line = next(line for line in md.splitlines() if line.startswith(f"| {kind} |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == str(len(seeds)) and cells[2] == str(len(set(seeds)))
    total = next(line for line in md.splitlines() if line.startswith("| all kinds |"))
    assert total.split("|")[2].strip() == str(sum(len(s) for s in kinds.values()))
    assert total.split("|")[-2].strip() == "1"
    assert "verification off" in md and "verification on" in md


def test_large_evals_show_frames_only_for_failed_episodes(eval_dir: Path, tmp_path: Path, monkeypatch):
    import groundsight.agent.evaluation.report.html_page as html_page

    out = tmp_path / "eval"
    shutil.copytree(eval_dir, out)
    row = json.loads((out / "results.jsonl").read_text().splitlines()[0])
    run = out / row["scenario"] / f"seed{row['seed']}"
    (run / "frames").mkdir(exist_ok=True)
    Image.new("RGB", (320, 240), (200, 30, 30)).save(run / "frames" / "extra.jpg")
    monkeypatch.setattr(html_page, "FRAMES_ONLY_FAILED_ABOVE", 1)
    html = render_reports(out)[1].read_text(encoding="utf-8")
    assert "frames are shown only for those that did not pass" in html
    assert '<img class="frame"' not in html and "not embedded (episode passed)" in html


def test_html_page_is_filled_from_the_packaged_templates(eval_dir: Path, tmp_path: Path) -> None:
    from importlib import resources

    out = tmp_path / "eval"
    shutil.copytree(eval_dir, out)
    html = render_reports(out)[1].read_text(encoding="utf-8")
    templates = resources.files("groundsight.agent.evaluation.report") / "templates"
    css = (templates / "report.css").read_text(encoding="utf-8")
    assert css.strip() and f"<style>\n{css}</style>" in html
    assert "$" not in html.split("<style>", 1)[0] and "$episodes" not in html and "$tables" not in html
    assert html.rstrip().endswith("</section></body></html>")
