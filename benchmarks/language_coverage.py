"""Coverage of the paraphrase corpus by family, and parse latency after the parser is built.

    python -m benchmarks.language_coverage [--failures]

An entry is covered when the instruction parses to the expected logical form (``expect``) or is refused or
asked about with the expected message (``refuse``). Latency: each instruction parsed with the parse cache
cleared (the grammar's parser built once before), wall clock and process CPU time, median and p95.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

from groundsight.knowledge import KnowledgeBase
from groundsight.reasoning import language
from groundsight.reasoning.logical_form import canonical
from tests.reasoning.corpus.model import CorpusEntry, load_corpus


def outcome(entry: CorpusEntry, lexicon: language.Lexicon) -> tuple[bool, str]:
    """(covered, what the parser said)."""
    try:
        said = canonical(language.parse(entry.text, lexicon))
    except language.InstructionError as exc:
        said = f"refused: {exc}"
        return entry.refuse is not None and entry.refuse in str(exc), said
    return entry.expect == said, said


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--failures", action="store_true", help="print every entry that is not covered")
    opts = args.parse_args()
    kb = KnowledgeBase()
    lexicon = language.Lexicon(nouns={**kb.type_words(), **kb.class_words()})
    corpus = load_corpus()
    start = time.perf_counter()
    language.parse("put the red block in the bowl", lexicon)
    build_ms = (time.perf_counter() - start) * 1000
    by_family: dict[str, list[bool]] = defaultdict(list)
    wall: list[float] = []
    cpu: list[float] = []
    for entry in corpus.entries:
        language._parse.cache_clear()
        w, c = time.perf_counter(), time.process_time()
        covered, said = outcome(entry, lexicon)
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        by_family[entry.family].append(covered)
        if opts.failures and not covered:
            wanted = entry.expect or f"refused: ...{entry.refuse}..."
            print(f"MISS [{entry.family}] {entry.text!r}\n  expected: {wanted}\n  got:      {said}")
    print("| family | covered |\n| --- | --- |")
    for family, results in by_family.items():
        print(f"| {family} | {sum(results)}/{len(results)} |")
    total = [r for results in by_family.values() for r in results]
    print(f"| **all** | **{sum(total)}/{len(total)}** |")
    print(
        f"\nparser built in {build_ms:.0f} ms; parse latency over {len(wall)} instructions: "
        f"wall median {statistics.median(wall):.1f} ms, p95 {_percentile(wall, 0.95):.1f} ms; "
        f"CPU median {statistics.median(cpu):.1f} ms, p95 {_percentile(cpu, 0.95):.1f} ms"
    )


if __name__ == "__main__":
    main()
