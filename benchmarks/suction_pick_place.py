"""The suction arm in groundsight's own pick-and-place family, the agent unchanged.

Every scenario of ``scenarios/pick_place`` and seed: the scenario's world with the Panda removed and a KUKA iiwa
with a suction cup (:class:`groundsight.agent.hosts.suction.SuctionArm`) in its place, run through
:func:`groundsight.agent.hosts.run_in_host` with the scenario's top camera. An episode passes when it meets the
scenario's expectation: success on simulator truth, or a refusal / question with nothing moved.

Usage::

    python -m benchmarks.suction_pick_place [--seeds 20] [--out runs/bench/suction]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from groundsight.agent.hosts.suction import run_scenario_with_suction
from groundsight.agent.tasks.scenario import load_scenario

FAMILY = Path(__file__).resolve().parents[1] / "scenarios" / "pick_place"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None, help="folder for run directories and results.json")
    args = parser.parse_args(argv)
    rows = []
    scenarios = [(path, load_scenario(path)) for path in sorted(FAMILY.glob("*.yaml"))]
    for seed in range(args.seeds):  # seed by seed, so that a partial run covers every scenario
        for path, scenario in scenarios:
            started = time.perf_counter()
            out = args.out / f"{path.stem}-{seed}" if args.out is not None else None
            result = run_scenario_with_suction(scenario, seed, out=out)
            row = {
                "scenario": path.stem,
                "seed": seed,
                "expected": result["expected"],
                "status": result["status"],
                "passed": result["passed"],
                "reason": result["reason"],
                "s": round(time.perf_counter() - started, 1),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    passed = sum(r["passed"] for r in rows)
    print(f"suction arm, pick_place family: {passed}/{len(rows)} passed ({100 * passed / len(rows):.1f}%)")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
