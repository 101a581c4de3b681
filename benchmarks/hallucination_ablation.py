"""Hallucination ablation: noisy:<perception> at several rates, with and without verification.

    python -m benchmarks.hallucination_ablation scenarios/pick_place scenarios/infeasible --seeds 5 --workers 2
    python -m benchmarks.hallucination_ablation scenarios --perception vlm --audit --seeds 5 --workers 2

With --audit nothing is injected: the perceiver's own mistakes (against simulator truth) are accounted for.
Writes OUT/ablation.jsonl (one row per condition), OUT/<condition>/results.jsonl and a report of the
noisiest verified condition with the ablation table and plot; prints the table.
"""

from __future__ import annotations

import argparse
import logging
import sys

from groundsight.agent.evaluation.ablation import run_ablation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="scenario files or folders")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per scenario")
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.1, 0.2], help="injection rates")
    parser.add_argument("--perception", default="classical", help="the inner perceiver of noisy:<inner>")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="runs/ablation")
    parser.add_argument("--only", choices=("verify", "no-verify"), help="run one verify setting only")
    parser.add_argument(
        "--audit",
        action="store_true",
        help="inject nothing: run --perception itself (e.g. vlm) and account for its own mistakes against truth",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    verify = (True,) if args.only == "verify" else (False,) if args.only == "no-verify" else (True, False)
    try:
        run_ablation(
            args.paths, args.seeds, args.noise, verify, args.perception, args.workers, args.out, audit=args.audit
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
