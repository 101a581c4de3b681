"""The agent zero-shot in panda-gym: success by panda-gym's own ``is_success``, next to a scripted upper bound.

For each task (``PandaPush-v3``, ``PandaPickAndPlace-v3``, ``PandaStack-v3``) and seed: a fresh env reset
with the seed, then

- **agent**: :func:`groundsight.agent.hosts.panda_gym.run_panda_gym`: the adapter's instruction, the top
  camera in panda-gym's client (goal markers hidden, goals exported as named places), classical perception
  calibrated to panda-gym's paints, the rules reasoner, panda-gym's Panda through ``set_action``; no access
  to the env's true state in the agent; scored by ``task.is_success`` after the episode;
- **scripted**: :func:`groundsight.agent.hosts.panda_gym.run_scripted`: the same robot adapter driven with the
  env's true object positions and goals (up to three tries, as the agent gets), the upper bound of the
  adapter's skills.

``PandaPickAndPlace-v3`` draws 70% of its goals in the air: the agent must refuse those (the target is a
point in the air, no surface); its success rate is reported over the table-level goals, and the air goals
as refused / other.

Usage::

    python -m benchmarks.panda_gym_zero_shot [--seeds 10] [--tasks PandaPush-v3,...] [--out runs/bench/panda_gym]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from groundsight.agent.hosts.panda_gym import TASKS, goal_on_table, make_env, run_panda_gym, run_scripted


def _episode(task: str, seed: int, out: Path | None) -> dict[str, Any]:
    env = make_env(task, seed)
    on_table = goal_on_table(env)
    env.close()
    started = time.perf_counter()
    result = run_panda_gym(task, seed, out=out / f"{task}-{seed}" if out is not None else None)
    agent_s = time.perf_counter() - started
    started = time.perf_counter()
    scripted = run_scripted(task, seed)
    return {
        "task": task,
        "seed": seed,
        "on_table": on_table,
        "status": result.status,
        "reason": result.reason,
        "agent_success": bool(result.host_success),
        "scripted_success": scripted["success"],
        "actions": result.actions,
        "agent_s": round(agent_s, 1),
        "scripted_s": round(time.perf_counter() - started, 1),
    }


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.0f}%)" if n else "-"


def summarise(rows: list[dict[str, Any]]) -> str:
    """A Markdown table: per task, the agent's and the scripted upper bound's success by ``is_success``."""
    lines = [
        "| task | episodes | agent success (is_success) | scripted upper bound | air goals refused | agent s/episode |",
        "|---|---|---|---|---|---|",
    ]
    for task in dict.fromkeys(r["task"] for r in rows):
        mine = [r for r in rows if r["task"] == task]
        table = [r for r in mine if r["on_table"]]
        air = [r for r in mine if not r["on_table"]]
        refused = sum(r["status"] == "refused" and not r["actions"] for r in air)
        seconds = sum(r["agent_s"] for r in mine) / len(mine)
        agent, scripted = sum(r["agent_success"] for r in table), sum(r["scripted_success"] for r in table)
        lines.append(
            f"| {task} | {len(mine)} ({len(table)} table goals) | {_pct(agent, len(table))}"
            f" | {_pct(scripted, len(table))}"
            f" | {_pct(refused, len(air)) if air else '-'} | {seconds:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--out", type=Path, default=None, help="folder for run directories and results.json")
    args = parser.parse_args(argv)
    tasks = [t for t in args.tasks.split(",") if t]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        print(f"--tasks: unknown task(s) {', '.join(unknown)} (known: {', '.join(TASKS)})", file=sys.stderr)
        return 2
    rows = []
    for task in tasks:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            row = _episode(task, seed, args.out)
            rows.append(row)
            print(json.dumps(row), flush=True)
    report = summarise(rows)
    print(report)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        (args.out / "summary.md").write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
