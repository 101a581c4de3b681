"""What an eval folder holds: ``results.jsonl``, each episode's run folder (trace, frames, error) and the
optional ``ablation.jsonl``, read into plain rows and :class:`Episode` records."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from groundsight.agent.loop.summary import Summary

UNKNOWN_FAMILY = "(unknown)"


class ReportError(ValueError):
    """An eval folder that cannot be reported on; the message is one line naming the file."""


@dataclass
class Episode:
    """One episode's result and what its run folder holds."""

    result: dict[str, Any]
    dir: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: int = 0
    error: str = ""

    @property
    def key(self) -> str:
        return f"{self.result['scenario']} seed {self.result['seed']}"

    @property
    def anchor(self) -> str:
        return _slug(f"ep-{self.result['scenario']}-seed{self.result['seed']}")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


def load_results(out_dir: Path) -> list[dict[str, Any]]:
    """The episodes of ``out_dir/results.jsonl``, each a Summary's fields plus the extra keys of its line
    (``file``; ``family`` is added: the scenario file's folder, or ``(unknown)``)."""
    path = out_dir / "results.jsonl"
    if not path.is_file():
        raise ReportError(f"{path}: no such file (write it with `groundsight eval ... --out {out_dir}`)")
    results: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReportError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(raw, dict):
            raise ReportError(f"{path}:{number}: not a JSON object")
        try:
            summary = Summary.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "line"
            raise ReportError(f"{path}:{number}: {where}: {err['msg']}") from None
        row = {**raw, **summary.model_dump(mode="json")}
        if not row.get("family"):
            row["family"] = Path(str(raw["file"])).parent.name if raw.get("file") else UNKNOWN_FAMILY
        results.append(row)
    if not results:
        raise ReportError(f"{path}: no episodes in it")
    return results


def load_episode(out_dir: Path, result: dict[str, Any]) -> Episode:
    """The run folder ``out_dir/<scenario>/seed<N>`` of one result: its trace records and error, if any. A
    result of unknown family gets the folder of the scenario file its ``run.json`` names."""
    episode = Episode(result=result, dir=out_dir / str(result["scenario"]) / f"seed{result['seed']}")
    trace = episode.dir / "trace.jsonl"
    if trace.is_file():
        for line in trace.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                episode.bad_lines += 1
                continue
            if isinstance(record, dict):
                episode.records.append(record)
    run = episode.dir / "run.json"
    if result.get("family") == UNKNOWN_FAMILY and run.is_file():  # results.jsonl without ``file``
        try:
            scenario_file = json.loads(run.read_text(encoding="utf-8")).get("scenario_file")
        except (json.JSONDecodeError, AttributeError):
            scenario_file = None
        if scenario_file:
            result["family"] = Path(str(scenario_file)).parent.name
    error = episode.dir / "error.txt"
    if error.is_file():
        episode.error = error.read_text(encoding="utf-8", errors="replace")
    return episode


def load_ablation(out_dir: Path) -> list[dict[str, Any]]:
    """The rows of ``out_dir/ablation.jsonl`` (empty when there is none)."""
    path = out_dir / "ablation.jsonl"
    if not path.is_file():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReportError(f"{path}:{number}: not JSON ({exc.msg})") from None
        for key in ("passed", "total"):
            if not isinstance(row, dict) or not isinstance(row.get(key), int):
                raise ReportError(f"{path}:{number}: {key}: expected an integer")
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------- what a trace says


def verdicts(episode: Episode) -> list[tuple[int, str, dict[str, Any]]]:
    """(step, node, check) for every check verdict in the trace: all checks of each verify record and the
    new check of each observe record (observe appends its one check to the state's list)."""
    out: list[tuple[int, str, dict[str, Any]]] = []
    for record in episode.records:
        checks = record.get("checks")
        if not isinstance(checks, list) or not checks:
            continue
        node = str(record.get("node", ""))
        chosen = checks if node == "verify" else checks[-1:] if node == "observe" else []
        out += [(int(record.get("step", 0)), node, c) for c in chosen if isinstance(c, dict)]
    return out


def thought_steps(episode: Episode) -> list[tuple[str, str]]:
    """The chain of thought, (kind, text) in order, over every reason/verify record; a thought that starts
    afresh (after a new look) is marked with a ``new thought`` step."""
    shown: list[tuple[str, str]] = []
    current: list[tuple[str, str]] = []
    for record in episode.records:
        thought = record.get("thought")
        if not isinstance(thought, dict):
            continue
        steps = [(str(s.get("kind", "")), str(s.get("text", ""))) for s in thought.get("steps") or []]
        if steps[: len(current)] == current and current:
            shown += steps[len(current) :]
        elif steps:
            if shown:
                shown.append(("new thought", f"reasoned again at graph step {record.get('step', '?')}"))
            shown += steps
        current = steps
    return shown


def frame_files(episode: Episode) -> list[Path]:
    """The stored frames of the episode, in look order: from the records' ``frame_files``, or else every
    ``frames/*.jpg`` of the run folder, sorted."""
    names: list[str] = []
    for record in episode.records:
        for name in record.get("frame_files") or []:
            if isinstance(name, str) and name not in names:
                names.append(name)
    paths = [episode.dir / n for n in names] if names else sorted((episode.dir / "frames").glob("*.jpg"))
    return [p for p in paths if p.is_file()]


def spread(items: Sequence[Path], most: int) -> list[Path]:
    """At most ``most`` items, evenly spaced, the first and the last included."""
    if len(items) <= most:
        return list(items)
    if most == 1:
        return [items[-1]]
    return [items[round(i * (len(items) - 1) / (most - 1))] for i in range(most)]
