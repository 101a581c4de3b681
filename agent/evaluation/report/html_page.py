"""``report.html``: one self-contained page (inline CSS, images as data URIs, no JavaScript) filled from the
templates in ``templates/``: the plots, every table, and per episode its frames, chain of thought and checks."""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from functools import cache
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from groundsight.agent.evaluation.report.episodes import Episode, frame_files, spread, thought_steps, verdicts
from groundsight.agent.evaluation.report.plots import plot_ablation, plot_families
from groundsight.agent.evaluation.report.tables import Table, headline

log = logging.getLogger(__name__)

MAX_FRAMES_PER_EPISODE = 6
FRAMES_ONLY_FAILED_ABOVE = 150
"""With more episodes than this, frames are embedded only for the episodes that did not pass."""
FRAME_WIDTH = 240
"""Width in pixels of an embedded frame (downscaled from the stored JPEG)."""
FRAME_BUDGET_BYTES = 24_000_000
"""At most this many bytes of embedded frames in one ``report.html``; later episodes are shown without."""


@cache
def template(name: str) -> str:
    """The text of ``templates/NAME`` (shipped as package data)."""
    return resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


def escape(text: Any) -> str:
    """``text`` as HTML text or attribute value."""
    return html.escape(str(text), quote=True)


def table_html(table: Table) -> str:
    """A table as an HTML section (every cell escaped)."""
    parts = [f'<section id="{escape(table.anchor)}"><h2>{escape(table.title)}</h2>']
    if table.note:
        parts.append(f'<p class="note">{escape(table.note)}</p>')
    if table.rows:
        right = table.right or (False,) * len(table.columns)
        head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
        body = "".join(
            "<tr>"
            + "".join(
                f'<td class="num">{escape(c)}</td>' if r else f"<td>{escape(c)}</td>"
                for c, r in zip(row, right, strict=True)
            )
            + "</tr>"
            for row in table.rows
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</section>")
    return "".join(parts)


def _data_uri(png: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(png).decode('ascii')}"


def _frame_jpeg(path: Path) -> bytes | None:
    """The stored frame downscaled to :data:`FRAME_WIDTH` pixels wide, as JPEG bytes (None if unreadable)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if image.width > FRAME_WIDTH:
                image = image.resize(
                    (FRAME_WIDTH, max(1, round(image.height * FRAME_WIDTH / image.width))), Image.BILINEAR
                )
            buf = io.BytesIO()
            image.save(buf, format="JPEG", quality=70, optimize=True)
            return buf.getvalue()
    except (OSError, UnidentifiedImageError) as exc:
        log.warning("skipping frame %s: %s", path, exc)
        return None


def _episode_facts(r: dict[str, Any]) -> list[tuple[str, Any]]:
    """The facts list of one episode: status, reason, counts, backends, and what was injected."""
    facts = [
        ("status", r["status"]),
        ("expected", r["expected"]),
        ("reason", r.get("reason") or "–"),
        ("steps / actions / looks", f"{r['steps']} / {r.get('actions', 0)} / {r.get('looks', 0)}"),
        ("wall time (s)", f"{float(r['wall_time_s']):.2f}"),
        ("perception / reasoner", f"{r['perception']} / {r['reasoner']}"),
    ]
    if r.get("question"):
        facts.append(("question", r["question"]))
    if r.get("moved"):
        facts.append(("moved", ", ".join(map(str, r["moved"]))))
    if r.get("goal_satisfied") is not None:
        facts.append(("goal holds (truth)", "yes" if r["goal_satisfied"] else "no"))
    for inj in r.get("injections") or []:
        if isinstance(inj, dict):
            detail = json.dumps(_rounded(inj.get("detail", {})), sort_keys=True)
            facts.append(("injected", f"{inj.get('kind')} {inj.get('object_id')} (look {inj.get('call')}): {detail}"))
    return facts


def _checks_html(checks: list[tuple[int, str, dict[str, Any]]]) -> str:
    """The table of one episode's check verdicts (failed rows marked)."""
    rows = "".join(
        f'<tr class="{"pass" if c.get("passed") else "fail"}"><td class="num">{step}</td><td>{escape(node)}</td>'
        f"<td>{escape(c.get('name', ''))}</td><td>{escape(c.get('claim', ''))}</td>"
        f'<td class="verdict">{"pass" if c.get("passed") else "FAIL"}</td>'
        f"<td>{'' if c.get('passed') else escape(c.get('reason', ''))}</td></tr>"
        for step, node, c in checks
    )
    return (
        '<h3>Checks</h3><table class="checks"><thead><tr><th>step</th><th>node</th><th>check</th><th>claim</th>'
        f"<th>verdict</th><th>reason</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _episode_html(ep: Episode, frames: list[tuple[str, bytes]], frames_note: str) -> str:
    """One episode as a collapsed ``<details>``: facts, frames, chain of thought, check verdicts, error."""
    ok = bool(ep.result["passed"])
    head = f'<summary><span class="{"pass" if ok else "fail"}">{"PASS" if ok else "FAIL"}</span> {escape(ep.key)}'
    head += f" — {escape(ep.result['status'])} (expect {escape(ep.result['expected'])})</summary>"
    parts = [f'<details class="episode {"passed" if ok else "failed"}" id="{escape(ep.anchor)}">', head]
    parts += [
        '<dl class="facts">',
        *(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in _episode_facts(ep.result)),
    ]
    parts.append("</dl>")
    if not ep.dir.is_dir():
        parts.append(f'<p class="note">No run folder {escape(ep.dir.parent.name)}/{escape(ep.dir.name)}.</p>')
    if ep.bad_lines:
        parts.append(f'<p class="note">{ep.bad_lines} unreadable line(s) in trace.jsonl were skipped.</p>')
    if frames:
        imgs = "".join(
            f'<img class="frame" alt="{escape(name)}" title="{escape(name)}" src="{_data_uri(data, "image/jpeg")}">'
            for name, data in frames
        )
        parts.append(f'<h3>Frames</h3><div class="frames">{imgs}</div>')
    if frames_note:
        parts.append(f'<p class="note">{escape(frames_note)}</p>')
    steps = thought_steps(ep)
    if steps:
        items = "".join(f'<li><span class="badge">{escape(kind)}</span>{escape(text)}</li>' for kind, text in steps)
        parts.append(f'<h3>Chain of thought</h3><ol class="thought">{items}</ol>')
    checks = verdicts(ep)
    if checks:
        parts.append(_checks_html(checks))
    if ep.error:
        parts.append(f"<h3>Error</h3><pre>{escape(ep.error[-3000:])}</pre>")
    parts.append("</details>")
    return "".join(parts)


def _plots_html(results: list[dict[str, Any]], ablation: list[dict[str, Any]]) -> str:
    plots = [("Pass rate by family", plot_families(results))]
    if ablation:
        plots.append(("Success vs hallucination rate, with and without verification", plot_ablation(ablation)))
    imgs = "".join(f'<img class="plot" alt="{escape(t)}" src="{_data_uri(png)}">' for t, png in plots)
    return f'<section id="plots" class="plots"><h2>Plots</h2>{imgs}</section>'


def _embedded_frames(ep: Episode, only_failed: bool, budget: int) -> tuple[list[tuple[str, bytes]], str]:
    """The frames of one episode to embed (at most :data:`MAX_FRAMES_PER_EPISODE`, evenly spread) and a note on
    what was left out: every frame of a passed episode in a large eval, or all once ``budget`` bytes are spent."""
    frames: list[tuple[str, bytes]] = []
    stored = frame_files(ep)
    if stored and only_failed and ep.result["passed"]:
        return frames, f"{len(stored)} stored frames not embedded (episode passed)."
    if stored and budget <= 0:
        return frames, f"{len(stored)} stored frames not embedded (report size limit reached)."
    for path in spread(stored, MAX_FRAMES_PER_EPISODE):
        data = _frame_jpeg(path)
        if data is not None:
            frames.append((path.relative_to(ep.dir).as_posix() if path.is_relative_to(ep.dir) else path.name, data))
    return frames, f"{len(frames)} of {len(stored)} stored frames shown." if len(stored) > len(frames) else ""


def _episodes_html(episodes: list[Episode]) -> tuple[str, str]:
    """The note above the episodes, and every episode's ``<details>`` (frames within the report's byte budget)."""
    only_failed = len(episodes) > FRAMES_ONLY_FAILED_ABOVE
    intro = f"{len(episodes)} episodes; open one to see its frames, chain of thought and check verdicts."
    if only_failed:
        intro += (
            f" With more than {FRAMES_ONLY_FAILED_ABOVE} episodes, frames are shown only for those that did not pass."
        )
    budget = FRAME_BUDGET_BYTES
    parts = []
    for ep in episodes:
        frames, note = _embedded_frames(ep, only_failed, budget)
        budget -= sum(len(data) for _, data in frames)
        parts.append(_episode_html(ep, frames, note))
    return intro, "\n".join(parts)


def render_html(
    results: list[dict[str, Any]], tables: list[Table], episodes: list[Episode], ablation: list[dict[str, Any]]
) -> str:
    """``report.html``: one file, no external resources (inline CSS, images as data URIs, no JavaScript), filled
    into ``templates/report.html``."""
    intro, episodes_html = _episodes_html(episodes)
    return Template(template("report.html")).substitute(
        css=template("report.css"),
        headline=headline(results),
        plots=_plots_html(results, ablation),
        tables="\n".join(table_html(t) for t in tables),
        intro=escape(intro),
        episodes=episodes_html,
    )


def _rounded(value: Any) -> Any:
    """``value`` with every float rounded to 3 decimals (for display)."""
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value
