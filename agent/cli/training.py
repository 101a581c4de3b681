"""``groundsight datagen`` and ``train-vlm``: training data from simulator truth, and the compact VLM trained on it.
Both import their heavy modules only when run, so ``groundsight --help`` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from groundsight.agent.cli.app import bad_input, err


def datagen(
    out: Annotated[Path, typer.Option(help="Output folder (imagefolder + LLaVA conversations).")],
    scenes: Annotated[int, typer.Option(help="Random scenes to render.")] = 200,
    cameras: Annotated[str, typer.Option(help="Comma-separated cameras: top, front, wrist.")] = "top",
    seed: Annotated[int, typer.Option(help="Base seed (scene i uses seed + i).")] = 0,
    test_fraction: Annotated[float, typer.Option(help="Share of scenes held out as the test split.")] = 0.1,
    contained: Annotated[float, typer.Option(help="Share of scenes with an object put in or on another.")] = 0.3,
    jitter: Annotated[bool, typer.Option("--jitter/--no-jitter", help="Lighting and camera pose jitter.")] = True,
    randomise: Annotated[
        bool,
        typer.Option(
            "--randomise/--no-randomise",
            help="Domain randomisation: tables, floors, textures, light, camera poses and focal lengths, paints, "
            "sizes, distractor robots (replaces --jitter).",
        ),
    ] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (the output is the same for any number).")] = 1,
) -> None:
    """Generate VLM training data from simulator truth: images, boxes, captions, question-answer pairs."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from groundsight.agent.training.datagen import DatagenConfig, generate

    try:
        config = DatagenConfig(
            scenes=scenes,
            out=out,
            cameras=tuple(c.strip() for c in cameras.split(",") if c.strip()),
            seed=seed,
            test_fraction=test_fraction,
            contained=contained,
            jitter=jitter,
            randomise=randomise,
            workers=workers,
        )
    except ValueError as exc:  # DatagenConfig's own one-line message names the field
        raise bad_input(str(exc).splitlines()[0]) from None
    columns = (TextColumn("scenes"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("scenes", total=scenes)
        try:
            summary = generate(config, progress=lambda done, total: progress.update(task, completed=done))
        except ValueError as exc:
            raise bad_input(str(exc)) from None
    print(
        f"datagen: {summary.images} images, {summary.objects} objects, {summary.questions} questions "
        f"from {summary.scenes} scenes in {summary.seconds:.1f} s -> {summary.out}"
    )


def train_vlm(
    data: Annotated[Path, typer.Option(help="A `groundsight datagen` output folder.")],
    out: Annotated[Path, typer.Option(help="Where the trained model goes (transformers format).")],
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 3000,
    batch_size: Annotated[int, typer.Option(help="Examples per step.")] = 16,
    lr: Annotated[float, typer.Option(help="Peak learning rate (warm-up, then cosine decay).")] = 1e-3,
    seed: Annotated[int, typer.Option(help="Seed of the initial weights and the batch order.")] = 0,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")] = "auto",
    threads: Annotated[int, typer.Option(help="torch CPU threads.")] = 2,
    checkpoint_dir: Annotated[Path | None, typer.Option(help="Checkpoints (default OUT/checkpoint).")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Continue from the checkpoint.")] = True,
    init_from: Annotated[
        Path | None, typer.Option(help="Start from this saved model's weights (fine-tune), not random ones.")
    ] = None,
) -> None:
    """Train groundsight's compact VLM (a transformers LlavaForConditionalGeneration) on datagen output.

    The result loads with `--perception vlm --model OUT`, like any hub checkpoint. Running it again resumes.
    """
    from groundsight.agent.training.vlm_trainer import RichProgress, TrainConfig, train

    try:
        config = TrainConfig(
            data=data,
            out=out,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            device=device,
            threads=threads,
            resume=resume,
            checkpoint_dir=checkpoint_dir,
            init_from=init_from,
        )
        with RichProgress() as bar:
            summary = train(config, progress=bar)
    except ValueError as exc:
        raise bad_input(str(exc).splitlines()[0]) from None
    loss = f"train loss {summary.train_loss:.3f}" + (
        f", held-out {summary.eval_loss:.3f}" if summary.eval_loss is not None else ""
    )
    print(
        f"train-vlm: {summary.steps - summary.start_step} steps ({summary.start_step}->{summary.steps}) on "
        f"{summary.train_images} images, {summary.params:,} parameters, {loss}, {summary.seconds:.0f} s on "
        f"{summary.device} -> {summary.out}"
    )
