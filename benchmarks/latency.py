"""Latency of the agent, side by side with a previous release (issue 16, item 5).

    python -m benchmarks.latency [--baseline 60a05ad] [--seeds 1] [--eval-seeds 3] [--rounds 5]

Measures, for this working tree and for a previous release checked out as a ``git worktree`` (``--baseline
REF``), in the same run (cold start and first decision interleaved round by round; the per-node and eval runs
one side after the other), so that the machine's load falls on both alike:

- **per node**: median and p95 of every node (``perceive``, ``reason``, ``verify``, ``act``, ``observe``) and of
  the phases inside them (``render``, ``perception``, ``screen``, one ``checkpoint`` write), over the whole suite
  in one process after a warm-up episode, and of one decision (``reason`` + ``verify``). This tree's figures are
  read from each run's ``timing.jsonl``; a release without it is timed at the same places from outside.
- **first decision**: seconds from starting ``python -m groundsight run SCENARIO`` until ``trace.jsonl`` holds
  its first ``verify`` step.
- **eval**: episodes per minute of ``python -m groundsight eval SUITE --seeds N --workers W`` for W = 1 and 2,
  and whether every episode passed or failed alike on both sides.
- **cold start**: ``python -m groundsight --help`` next to ``python -c pass``.

It prints a table of both sides and the ratio (baseline / now for times, now / baseline for rates). Use
``--json FILE`` to keep the numbers, ``--skip eval`` (or ``nodes``, ``first``, ``cold``) to leave a part out,
``--baseline none`` to measure this tree alone. Run it on a quiet machine, or at least read the ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ROOTS = ("agent", "perception", "reasoning", "knowledge", "sim", "scenarios")
"""The repository folders installed as ``groundsight.<root>`` (see setup.py)."""
NODES = ("perceive", "reason", "verify", "act", "observe")
PHASES = ("render", "perception", "screen", "checkpoint")
FIRST_DECISION_SCENARIO = "pick_place/red_block_in_blue_bowl.yaml"
PARTS = ("nodes", "first", "eval", "cold")


# ---- one side: a source tree and how to run Python on it ----------------------------------------------------
class Side:
    """A source tree to measure: this working tree (the installed editable package) or a release's worktree,
    imported through a folder of links that lays its top-level folders out as the ``groundsight`` namespace."""

    def __init__(self, name: str, root: Path, shadow: Path | None) -> None:
        self.name, self.root, self.shadow = name, root, shadow

    def env(self) -> dict[str, str]:
        """The environment of a child process: quiet, single-threaded numerics, the side's packages first."""
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
        env.pop("PYTHONPATH", None)
        if self.shadow is not None:
            env["PYTHONPATH"] = str(self.shadow)
        return env

    def python(self, *args: str) -> list[str]:
        return [sys.executable, *args]


def _shadow(worktree: Path, into: Path) -> Path:
    """A folder holding ``groundsight/`` whose entries link to ``worktree``'s package and top-level folders, so
    that ``PYTHONPATH=<folder>`` imports the worktree before the installed (editable) package."""
    package = into / "groundsight"
    package.mkdir(parents=True, exist_ok=True)
    for entry in (worktree / "groundsight").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for root in ROOTS:
        (package / root).symlink_to(worktree / root)
    return into


def _worktree(ref: str, into: Path) -> Path:
    """Check ``ref`` out into a detached ``git worktree`` under ``into``."""
    path = into / f"baseline-{ref}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref],
        check=True,
        capture_output=True,
        text=True,
    )
    return path


# ---- statistics ---------------------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def p95(values: Sequence[float]) -> float | None:
    """The 95th percentile (nearest rank)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# ---- per node: runs in a child process on one side (python -c ... drive) --------------------------------------
def drive(argv: Sequence[str]) -> None:
    """Child process: run every scenario file of ``argv[1:]`` for seeds 0..``argv[0]``-1 in this process after a
    warm-up episode, and print one JSON line per graph step with its timings (to standard output)."""
    seeds, files = int(argv[0]), list(argv[1:])
    from groundsight.agent.loop import runner

    try:
        from groundsight.agent.loop.timing import TIMING_FILE
    except ImportError:  # a release before timing.jsonl: time the same places from outside
        TIMING_FILE = None
        records = _instrument(runner)
    from groundsight.agent.tasks.scenario import load_scenario

    work = Path(tempfile.mkdtemp(prefix="groundsight-latency-"))
    episodes = [(files[0], 0, True)] + [(f, s, False) for f in files for s in range(seeds)]
    for i, (path, seed, warmup) in enumerate(episodes):
        out = work / f"episode{i}"
        started = time.perf_counter()
        summary = runner.run_episode(load_scenario(path), runner.RunConfig(seed=seed), out)
        wall = time.perf_counter() - started
        if TIMING_FILE is not None:
            steps = [json.loads(line) for line in (out / TIMING_FILE).read_text().splitlines()]
        else:
            steps, records[:] = list(records), []
        row = {"file": path, "seed": seed, "warmup": warmup, "passed": summary.passed, "wall": wall, "steps": steps}
        print(json.dumps(row), flush=True)
        shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)


def _instrument(runner: Any) -> list[dict[str, Any]]:
    """Time a release's nodes, looks and checkpoint writes at the places this tree's timer does; returns the list
    that each graph step's record is appended to."""
    import functools

    from groundsight.agent.loop import graph

    seconds: dict[str, float] = {}
    writes: list[float] = []
    records: list[dict[str, Any]] = []

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started

        return call

    for node in NODES:
        setattr(graph.LoopNodes, node, timed(node, getattr(graph.LoopNodes, node)))
    from groundsight.reasoning.verifier import Verifier
    from groundsight.sim.camera import SimCamera

    SimCamera.read = timed("render", SimCamera.read)
    Verifier.screen = timed("screen", Verifier.screen)
    make_perceiver = runner.make_perceiver

    def perceiver(*args: Any, **kwargs: Any) -> Any:
        made = make_perceiver(*args, **kwargs)
        made.perceive = timed("perception", made.perceive)
        return made

    runner.make_perceiver = perceiver
    open_checkpointer = runner.open_checkpointer

    def checkpointer(path: Path) -> Any:
        saver = open_checkpointer(path)
        for method in ("put", "put_writes"):
            original = getattr(saver, method)

            def write(*args: Any, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    writes.append(time.perf_counter() - started)

            setattr(saver, method, write)
        return saver

    runner.open_checkpointer = checkpointer
    write = runner.TraceWriter.write

    def record(self: Any, node: str, update: dict[str, Any], cached: bool) -> None:
        records.append({"step": self.steps, "node": node, "seconds": dict(seconds), "checkpoint": list(writes)})
        seconds.clear()
        writes.clear()
        write(self, node, update, cached)

    runner.TraceWriter.write = record
    return records


def _drive_command(side: Side, seeds: int, files: Sequence[Path]) -> list[str]:
    code = (
        "import importlib.util as u, sys; "
        f"s = u.spec_from_file_location('latency_driver', {str(Path(__file__).resolve())!r}); "
        "m = u.module_from_spec(s); s.loader.exec_module(m); m.drive(sys.argv[1:])"
    )
    return side.python("-c", code, str(seeds), *map(str, files))


def node_stats(episodes: Iterable[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Median and p95 (ms) of every node, phase and decision (``reason`` + the ``verify`` after it) of the
    episodes that are not the warm-up."""
    samples: dict[str, list[float]] = {name: [] for name in (*NODES, *PHASES, "decision")}
    for episode in episodes:
        if episode["warmup"]:
            continue
        last_reason: float | None = None
        for step in episode["steps"]:
            seconds = step["seconds"]
            for name in (*NODES, *PHASES[:-1]):
                if name in seconds:
                    samples[name].append(1000 * seconds[name])
            samples["checkpoint"] += [1000 * s for s in step.get("checkpoint", [])]
            if step["node"] == "reason":
                last_reason = seconds.get("reason")
            elif step["node"] == "verify" and last_reason is not None:
                samples["decision"].append(1000 * (last_reason + seconds.get("verify", 0.0)))
                last_reason = None
    return {name: {"median": median(v), "p95": p95(v), "n": len(v)} for name, v in samples.items()}


# ---- first decision and cold start ----------------------------------------------------------------------------
def first_decision(side: Side, scenario: Path, work: Path, limit: float = 120.0) -> float | None:
    """Seconds from starting ``groundsight run`` until its trace holds a ``verify`` step (the process is then
    stopped); None if it never did within ``limit``."""
    out = work / f"first-{side.name}"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    proc = subprocess.Popen(
        side.python("-m", "groundsight", "run", str(scenario), "--out", str(out)),
        cwd=work,
        env=side.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    trace, seen, found = out / "trace.jsonl", 0, None
    try:
        while time.perf_counter() - started < limit and proc.poll() is None:
            if trace.exists():
                lines = trace.read_text(encoding="utf-8").splitlines()
                if any('"node": "verify"' in line for line in lines[seen:]):
                    found = time.perf_counter() - started
                    break
                seen = max(0, len(lines) - 1)
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return found


def wall(command: list[str], side: Side, work: Path) -> float:
    """Wall seconds of one command (its output discarded; a failure raises)."""
    started = time.perf_counter()
    subprocess.run(command, cwd=work, env=side.env(), check=True, capture_output=True)
    return time.perf_counter() - started


def eval_run(side: Side, suite: Path, seeds: int, workers: int, work: Path) -> tuple[float, dict[str, bool]]:
    """Episodes per minute of ``groundsight eval`` and each episode's pass/fail by ``scenario/seedN``."""
    out = work / f"eval-{side.name}-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    command = side.python(
        "-m", "groundsight", "eval", str(suite), "--seeds", str(seeds), "--workers", str(workers), "--out", str(out)
    )
    seconds = wall(command, side, work)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    shutil.rmtree(out, ignore_errors=True)
    return 60.0 * len(rows) / seconds, {f"{r['scenario']}/seed{r['seed']}": bool(r["passed"]) for r in rows}


# ---- the whole measurement -------------------------------------------------------------------------------------
class Progress:
    """A rich progress bar on standard error (a plain line per step when rich is missing)."""

    def __init__(self, total: int) -> None:
        try:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        except ImportError:  # pragma: no cover - rich is a dependency
            self.bar = None
            return
        columns = (TextColumn("{task.description:<44}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self.bar = Progress(*columns, transient=False)
        self.task = self.bar.add_task("latency", total=total)
        self.bar.start()

    def step(self, text: str, advance: int = 0) -> None:
        if self.bar is None:
            print(text, file=sys.stderr, flush=True)
            return
        self.bar.update(self.task, description=text, advance=advance)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def measure_nodes(sides: Sequence[Side], seeds: int, files: Sequence[Path], work: Path, bar: Progress) -> dict:
    """Per-node timings of each side, one child process per side (run one after the other)."""
    out: dict[str, Any] = {}
    for side in sides:
        command = _drive_command(side, seeds, files)
        log = work / f"nodes-{side.name}.log"
        with open(log, "w", encoding="utf-8") as err:
            proc = subprocess.Popen(command, cwd=work, env=side.env(), stdout=subprocess.PIPE, stderr=err, text=True)
        episodes = []
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("{"):
                episodes.append(json.loads(line))
                bar.step(f"nodes {side.name}: {Path(episodes[-1]['file']).stem[:24]}", advance=1)
        if proc.wait() != 0:
            tail = log.read_text(encoding="utf-8").strip().splitlines()[-1:]
            raise SystemExit(f"latency: the per-node run of {side.name} failed (exit {proc.returncode}): {tail}")
        out[side.name] = {
            "stats": node_stats(episodes),
            "passed": {f"{Path(e['file']).stem}/seed{e['seed']}": e["passed"] for e in episodes if not e["warmup"]},
        }
    return out


def measure(args: argparse.Namespace, sides: Sequence[Side], work: Path) -> dict[str, Any]:
    """Every part not skipped, for every side."""
    suite = Path(args.suite).resolve()
    files = sorted(suite.rglob("*.yaml")) if suite.is_dir() else [suite]
    skip = set(args.skip)
    total = (len(files) * args.seeds + 1) * len(sides) * ("nodes" not in skip)
    total += args.rounds * len(sides) * (("first" not in skip) + ("cold" not in skip))
    total += 2 * len(sides) * ("eval" not in skip)
    bar = Progress(total)
    result: dict[str, Any] = {"sides": [s.name for s in sides], "episodes": len(files) * args.seeds}
    try:
        if "cold" not in skip:
            result["cold"] = _rounds(sides, args.rounds, bar, "cold start", lambda s: _cold(s, work))
        if "first" not in skip:
            scenario = suite / FIRST_DECISION_SCENARIO
            scenario = scenario if scenario.is_file() else files[0]
            result["first"] = _rounds(
                sides, args.rounds, bar, "first decision", lambda s: first_decision(s, scenario, work)
            )
        if "nodes" not in skip:
            result["nodes"] = measure_nodes(sides, args.seeds, files, work, bar)
        if "eval" not in skip:
            result["eval"] = _evals(sides, suite, args.eval_seeds, work, bar)
    finally:
        bar.close()
    return result


def _cold(side: Side, work: Path) -> dict[str, float]:
    return {
        "pass": wall(side.python("-c", "pass"), side, work),
        "help": wall(side.python("-m", "groundsight", "--help"), side, work),
    }


def _rounds(sides: Sequence[Side], rounds: int, bar: Progress, label: str, fn: Callable[[Side], Any]) -> dict:
    """``fn`` per side, ``rounds`` times, the sides interleaved."""
    out: dict[str, list[Any]] = {s.name: [] for s in sides}
    for r in range(rounds):
        for side in sides:
            bar.step(f"{label} {side.name} ({r + 1}/{rounds})")
            out[side.name].append(fn(side))
            bar.step(f"{label} {side.name} ({r + 1}/{rounds})", advance=1)
    return out


def _evals(sides: Sequence[Side], suite: Path, seeds: int, work: Path, bar: Progress) -> dict[str, Any]:
    out: dict[str, Any] = {s.name: {} for s in sides}
    for workers in (1, 2):
        for side in sides:
            bar.step(f"eval {side.name} --workers {workers}")
            rate, passed = eval_run(side, suite, seeds, workers, work)
            out[side.name][f"workers{workers}"] = {"episodes_per_min": rate, "passed": passed}
            bar.step(f"eval {side.name} --workers {workers}", advance=1)
    return out


# ---- the table ---------------------------------------------------------------------------------------------------
def rows(result: dict[str, Any]) -> list[tuple[str, list[float | None], str]]:
    """(label, one value per side, unit) for every figure measured."""
    names = result["sides"]
    out: list[tuple[str, list[float | None], str]] = []
    if "cold" in result:
        for key, label in (("pass", "python -c pass"), ("help", "groundsight --help")):
            out.append((f"cold: {label} (median)", [median([r[key] for r in result["cold"][n]]) for n in names], "s"))
    if "first" in result:
        firsts = [[v for v in result["first"][n] if v is not None] for n in names]
        out.append(("first decision of a CLI run (median)", [median(v) for v in firsts], "s"))
    if "nodes" in result:
        for name in ("decision", *NODES, *PHASES):
            for stat in ("median", "p95"):
                label = "reason + verify per decision" if name == "decision" else name
                values = [result["nodes"][n]["stats"][name][stat] for n in names]
                out.append((f"{label} ({stat})", values, "ms"))
    if "eval" in result:
        for workers in (1, 2):
            values = [result["eval"][n][f"workers{workers}"]["episodes_per_min"] for n in names]
            out.append((f"eval --workers {workers}", values, "episodes/min"))
        speedups = [_speedup(result["eval"][n]) for n in names]
        out.append(("eval: 2 workers / 1 worker", speedups, "x"))
    return out


def _speedup(evals: dict[str, Any]) -> float:
    return evals["workers2"]["episodes_per_min"] / evals["workers1"]["episodes_per_min"]


def table(result: dict[str, Any]) -> str:
    """The figures of every side and the ratio of the first (the baseline) to the last (this tree): how many
    times faster now (a time's baseline / now, a rate's now / baseline)."""
    names = result["sides"]
    header = ["figure", *names, "unit"] + (["now vs baseline"] if len(names) > 1 else [])
    lines = [header]
    for label, values, unit in rows(result):
        cells = [label, *(_fmt(v) for v in values), unit]
        if len(names) > 1:
            before, now = values[0], values[-1]
            ratio = None
            if before and now:
                ratio = now / before if unit in ("episodes/min", "x") else before / now
            cells.append("" if ratio is None else f"{ratio:.2f}x")
        lines.append(cells)
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    text = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in lines]
    text.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(text)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def agreement(result: dict[str, Any]) -> list[str]:
    """Lines naming every episode whose pass/fail differs between the sides (eval and per-node runs)."""
    names = result["sides"]
    if len(names) < 2:
        return []
    out = []
    sources = [("nodes", lambda n: result["nodes"][n]["passed"])] if "nodes" in result else []
    if "eval" in result:
        sources += [(f"eval w{w}", lambda n, w=w: result["eval"][n][f"workers{w}"]["passed"]) for w in (1, 2)]
    for label, get in sources:
        before, now = get(names[0]), get(names[-1])
        differ = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
        same = len(before.keys() & now.keys()) - len([k for k in differ if k in before and k in now])
        out.append(
            f"{label}: {same} episodes pass/fail alike, {len(differ)} differ"
            + (f": {', '.join(differ)}" if differ else "")
        )
    return out


# ---- command line --------------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.latency",
        description="\n\n".join(p for p in (__doc__ or "").split("\n\n") if not p.startswith("    python")),
        epilog=(
            "examples:\n"
            "  python -m benchmarks.latency                      # everything, against 60a05ad\n"
            "  python -m benchmarks.latency --baseline 1ab407b   # against the commit issue 16 measured\n"
            "  python -m benchmarks.latency --skip eval --seeds 1 --rounds 3   # a quicker look\n"
            "  python -m benchmarks.latency --baseline none --suite scenarios/sorting\n"
            "Per-node figures come from each run's timing.jsonl (wall-clock times are kept out of the\n"
            "deterministic trace.jsonl). The ratio column says how many times faster this tree is."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--baseline", default="60a05ad", help="git ref of the previous release, or 'none' (default: %(default)s)"
    )
    ap.add_argument(
        "--suite", default=str(ROOT / "scenarios"), help="scenario folder or file (default: the whole suite)"
    )
    ap.add_argument(
        "--seeds", type=int, default=1, help="seeds per scenario for the per-node timings (default: %(default)s)"
    )
    ap.add_argument(
        "--eval-seeds", type=int, default=3, help="--seeds of the timed groundsight eval (default: %(default)s)"
    )
    ap.add_argument(
        "--rounds", type=int, default=5, help="rounds of the cold start and first decision (default: %(default)s)"
    )
    ap.add_argument("--skip", nargs="*", default=[], choices=PARTS, help="parts to leave out")
    ap.add_argument("--json", type=Path, default=None, help="also write every number to this JSON file")
    ap.add_argument("--keep-worktree", action="store_true", help="leave the baseline's git worktree in place")
    args = ap.parse_args(argv)
    if args.seeds < 1 or args.eval_seeds < 1 or args.rounds < 1:
        ap.error("--seeds, --eval-seeds and --rounds must be at least 1")
    if not Path(args.suite).exists():
        ap.error(f"--suite: {args.suite} does not exist")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a killed run still removes its worktree
    work = Path(tempfile.mkdtemp(prefix="groundsight-latency-"))
    worktree: Path | None = None
    try:
        sides = [Side("now", ROOT, None)]
        if args.baseline != "none":
            try:
                worktree = _worktree(args.baseline, work)
            except subprocess.CalledProcessError as exc:
                raise SystemExit(
                    f"latency: --baseline {args.baseline}: {exc.stderr.strip().splitlines()[-1]}"
                ) from None
            sides.insert(0, Side(args.baseline, worktree, _shadow(worktree, work / "shadow")))
        result = measure(args, sides, work)
    finally:
        if worktree is not None and not args.keep_worktree:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=False)
        shutil.rmtree(work, ignore_errors=True) if worktree is None or not args.keep_worktree else None
    print(table(result))
    for line in agreement(result):
        print(line)
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
