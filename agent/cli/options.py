"""Options that several commands share, as reusable ``Annotated`` types (one help text, one place)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

KgFiles = Annotated[
    list[Path] | None, typer.Option(help="Extra Turtle file merged into the knowledge graph (repeatable).")
]
Twin = Annotated[bool, typer.Option(help="Roll every plan out on a copy of the world before acting.")]
Verify = Annotated[
    bool, typer.Option("--verify/--no-verify", help="--no-verify: act whatever the checks say (ablation).")
]
Device = Annotated[str, typer.Option(help="vlm: cpu or cuda.")]
Dtype = Annotated[str | None, typer.Option(help="vlm: float32 or bfloat16 (default bf16 on cuda).")]
VlmBaseUrl = Annotated[
    str | None, typer.Option(help="vlm-server: an OpenAI-compatible server with image input (its /v1 URL).")
]
VlmModel = Annotated[str | None, typer.Option(help="vlm-server: the model name the server serves.")]
