"""Training groundsight's compact VLM (:mod:`groundsight.perception.vlm.model`) on ``groundsight datagen`` output.

**Data** (the datagen folder format): ``DATA/train/metadata.jsonl`` (and ``DATA/test/metadata.jsonl`` for
the evaluation loss), one row per image with ``file_name``, ``width``, ``height`` and ``objects`` (each
with ``type``, ``color`` and the ``box`` of its visible pixels). Only images of the cameras in
``TrainConfig.cameras`` are used (by the ``_<camera>.png`` file name suffix). Each example is (image, the
perceiver's prompt) -> :func:`~groundsight.perception.vlm.model.format_answer` of its objects, then end of sequence;
the loss is on the answer only. Images are squashed to the model's square input once, kept as uint8.

**Augmentation**: random horizontal and vertical flips (the boxes flipped with the image).

**Auxiliary loss** (training only, not part of the saved model): a linear head on every patch of the
vision tower's last layer predicts the colour and the type of the object whose box covers the patch's
centre (the smallest such box; or "table"). It makes the vision tower learn where things are and what
colour they are quickly; the decoder then learns to read them out.

**Start**: a new model (:func:`~groundsight.perception.vlm.model.build_model`: random weights, geometric codes for the
coordinate tokens and patch positions), or with ``init_from`` the weights of a saved model (fine-tuning;
the sizes are the saved model's).

**Loop**: AdamW, linear warm-up then cosine decay, gradient clipping, ``torch.set_num_threads`` on CPU;
CUDA when ``device="auto"`` finds it. Every ``checkpoint_every`` steps the model, optimiser, scheduler and
random state go to ``OUT/checkpoint/state.pt`` (or ``checkpoint_dir``; ``resume=True`` continues from
there); at the end the model (float16 storage) and its processor are saved to ``OUT`` in the transformers format.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from groundsight.inputs import one_line
from groundsight.perception.vlm.model import (
    ModelSpec,
    build_model,
    build_processor,
    count_parameters,
    format_answer,
    load_model,
    save,
    spec_of,
)
from groundsight.perception.vlm.vocabulary import PROMPT_COLORS, TYPES, prompt_text

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, dict[str, float]], None]
"""``progress(step, steps, metrics)``, called after every optimiser step (metrics: loss, lr, ...)."""


class TrainConfig(BaseModel):
    """Options of :func:`train`.

    Attributes:
        data: datagen output folder (``train/metadata.jsonl`` ...).
        out: where the trained model (transformers format) and ``checkpoint/`` go.
        steps: optimiser steps.
        batch_size: examples per step.
        lr: peak learning rate (after ``warmup`` steps; cosine decay to ``lr * min_lr_ratio``).
        device: ``auto`` (CUDA if present, else CPU), ``cpu`` or ``cuda``.
        threads: torch CPU threads.
        resume: continue from ``checkpoint_dir/state.pt`` if it exists.
        checkpoint_dir: where checkpoints go (default ``out/checkpoint``).
        max_images: use at most this many training images (None: all).
        aux_weight: weight of the auxiliary per-patch colour/type loss (0: off).
        flip: random horizontal/vertical flips.
        spec: the model's sizes (a new model is built from it; ignored when resuming or with ``init_from``).
        init_from: start from the weights of this saved model (a ``train-vlm`` output folder) instead of
            random ones, e.g. to fine-tune the shipped model on new data (ignored when resuming).
    """

    model_config = ConfigDict(frozen=True)

    data: Path
    out: Path
    steps: int = Field(3000, ge=1)
    batch_size: int = Field(16, ge=1)
    lr: float = Field(1e-3, gt=0)
    min_lr_ratio: float = Field(0.05, ge=0, le=1)
    warmup: int = Field(150, ge=0)
    weight_decay: float = Field(0.01, ge=0)
    clip: float = Field(1.0, gt=0)
    seed: int = 0
    device: str = "auto"
    threads: int = Field(2, ge=1)
    resume: bool = True
    cameras: tuple[str, ...] = ("top",)
    max_images: int | None = Field(None, ge=1)
    aux_weight: float = Field(0.5, ge=0)
    flip: bool = True
    checkpoint_every: int = Field(250, ge=1)
    checkpoint_dir: Path | None = None
    eval_every: int = Field(500, ge=1)
    eval_images: int = Field(64, ge=1)
    spec: ModelSpec = ModelSpec()
    init_from: Path | None = None


class TrainSummary(BaseModel):
    """What :func:`train` did."""

    out: Path
    steps: int
    start_step: int
    examples: int
    train_images: int
    test_images: int
    params: int
    train_loss: float
    eval_loss: float | None
    seconds: float
    device: str


# ---------------------------------------------------------------------------------------------- data


def read_rows(folder: Path, cameras: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of ``folder/metadata.jsonl`` whose image is from one of ``cameras``; [] if there is no file."""
    path = folder / "metadata.jsonl"
    if not path.exists():
        return []
    rows = []
    with path.open() as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                name = row["file_name"]
                objects = row["objects"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: bad row ({exc})") from None
            if any(name.endswith(f"_{c}.png") for c in cameras):
                rows.append({"file_name": name, "width": row["width"], "height": row["height"], "objects": objects})
    return rows


class Examples:
    """Images (uint8, squashed to the model's square input) and their objects, in memory."""

    def __init__(self, folder: Path, rows: list[dict[str, Any]], image_processor: Any, size: int) -> None:
        from PIL import Image

        self.rows = rows
        self.images = np.zeros((len(rows), 3, size, size), dtype=np.uint8)
        for i, row in enumerate(rows):
            with Image.open(folder / row["file_name"]) as im:
                rgb = np.asarray(im.convert("RGB"))
            out = image_processor(images=rgb, do_rescale=False, do_normalize=False, return_tensors="np")
            self.images[i] = np.clip(np.rint(out["pixel_values"][0]), 0, 255).astype(np.uint8)
        self.mean = np.asarray(image_processor.image_mean, dtype=np.float32).reshape(3, 1, 1)
        self.std = np.asarray(image_processor.image_std, dtype=np.float32).reshape(3, 1, 1)

    def __len__(self) -> int:
        return len(self.rows)

    def example(self, i: int, flip_x: bool = False, flip_y: bool = False) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """Normalised pixel values and objects (boxes in the row's pixel coordinates) of image ``i``."""
        img = self.images[i]
        row = self.rows[i]
        w, h = row["width"], row["height"]
        objects = [dict(o) for o in row["objects"]]
        if flip_x:
            img = img[:, :, ::-1]
            for o in objects:
                x0, y0, x1, y1 = o["box"]
                o["box"] = [w - x1, y0, w - x0, y1]
        if flip_y:
            img = img[:, ::-1, :]
            for o in objects:
                x0, y0, x1, y1 = o["box"]
                o["box"] = [x0, h - y1, x1, h - y0]
        pixels = (img.astype(np.float32) / 255.0 - self.mean) / self.std
        return pixels, objects


def patch_labels(objects: list[dict[str, Any]], width: int, height: int, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Colour and type label (0 = table, else index + 1) of each patch of a ``grid`` x ``grid`` image: those
    of the smallest box covering the patch centre."""
    cx = (np.arange(grid) + 0.5) * width / grid
    cy = (np.arange(grid) + 0.5) * height / grid
    colour = np.zeros((grid, grid), dtype=np.int64)
    kind = np.zeros((grid, grid), dtype=np.int64)
    area = np.full((grid, grid), np.inf)
    for o in objects:
        x0, y0, x1, y1 = o["box"]
        inside = ((cy >= y0) & (cy < y1))[:, None] & ((cx >= x0) & (cx < x1))[None, :]
        a = (x1 - x0) * (y1 - y0)
        take = inside & (a < area)
        area[take] = a
        colour[take] = PROMPT_COLORS.index(o["color"]) + 1 if o["color"] in PROMPT_COLORS else 0
        kind[take] = TYPES.index(o["type"]) + 1 if o["type"] in TYPES else 0
    return colour.ravel(), kind.ravel()


class Batcher:
    """Token sequences and tensors for batches of examples."""

    def __init__(self, processor: Any, spec: ModelSpec) -> None:
        self.tokenizer = processor.tokenizer
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt_text()}]}]
        text = processor.apply_chat_template(messages, add_generation_prompt=True)
        dummy = np.zeros((8, 8, 3), dtype=np.uint8)
        self.prompt_ids = list(processor(images=[dummy], text=[text], return_tensors="np")["input_ids"][0])
        self.grid = spec.image_size // spec.patch_size

    def answer_ids(self, objects: list[dict[str, Any]]) -> list[int]:
        return [*self.tokenizer(format_answer(objects), add_special_tokens=False)["input_ids"], self.eos]

    @property
    def eos(self) -> int:
        return int(self.tokenizer.eos_token_id)

    def batch(self, examples: Examples, indices: Sequence[int], rng: random.Random | None) -> dict[str, Any]:
        """Model inputs, labels (-100 on the prompt and padding) and patch labels for ``indices``."""
        import torch

        pixels, seqs, colours, kinds = [], [], [], []
        for i in indices:
            fx = fy = False
            if rng is not None:
                fx, fy = rng.random() < 0.5, rng.random() < 0.5
            px, objects = examples.example(i, fx, fy)
            row = examples.rows[i]
            pixels.append(px)
            seqs.append(self.answer_ids(objects))
            c, k = patch_labels(objects, row["width"], row["height"], self.grid)
            colours.append(c)
            kinds.append(k)
        n = len(self.prompt_ids) + max(len(s) for s in seqs)
        pad = int(self.tokenizer.pad_token_id)
        ids = torch.full((len(seqs), n), pad, dtype=torch.long)
        labels = torch.full((len(seqs), n), -100, dtype=torch.long)
        mask = torch.zeros((len(seqs), n), dtype=torch.long)
        p = len(self.prompt_ids)
        for b, s in enumerate(seqs):
            ids[b, :p] = torch.tensor(self.prompt_ids)
            ids[b, p : p + len(s)] = torch.tensor(s)
            labels[b, p : p + len(s)] = torch.tensor(s)
            mask[b, : p + len(s)] = 1
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "labels": labels,
            "pixel_values": torch.from_numpy(np.stack(pixels)),
            "patch_colour": torch.from_numpy(np.stack(colours)),
            "patch_type": torch.from_numpy(np.stack(kinds)),
        }


# ---------------------------------------------------------------------------------------------- training


def pick_device(name: str) -> str:
    """``auto`` -> ``cuda`` if available, else ``cpu``."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


class _Aux:
    """The auxiliary per-patch heads and the hook that captures the vision tower's last hidden state."""

    def __init__(self, model: Any, hidden: int) -> None:
        import torch

        self.heads = torch.nn.Linear(hidden, len(PROMPT_COLORS) + 1 + len(TYPES) + 1)
        self.features: Any = None
        model.model.vision_tower.register_forward_hook(self._hook)

    def _hook(self, module: Any, args: Any, output: Any) -> None:
        hidden = getattr(output, "hidden_states", None)
        self.features = hidden[-1] if hidden is not None else output.last_hidden_state

    def loss(self, colour: Any, kind: Any) -> Any:
        import torch.nn.functional as F  # noqa: N812

        logits = self.heads(self.features[:, 1:])  # drop CLS
        nc = len(PROMPT_COLORS) + 1
        lc = F.cross_entropy(logits[..., :nc].flatten(0, 1), colour.flatten())
        lt = F.cross_entropy(logits[..., nc:].flatten(0, 1), kind.flatten())
        return lc + lt


def _lr_lambda(config: TrainConfig) -> Callable[[int], float]:
    def f(step: int) -> float:
        if step < config.warmup:
            return (step + 1) / max(config.warmup, 1)
        t = (step - config.warmup) / max(config.steps - config.warmup, 1)
        return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))

    return f


def _forward(model: Any, batch: dict[str, Any], device: str) -> Any:
    """The model's output (with the answer-token loss) on one batch of :meth:`Batcher.batch`."""
    return model(
        input_ids=batch["input_ids"].to(device),
        attention_mask=batch["attention_mask"].to(device),
        pixel_values=batch["pixel_values"].to(device),
        labels=batch["labels"].to(device),
    )


def evaluate(model: Any, batcher: Batcher, examples: Examples, batch_size: int, device: str, limit: int) -> float:
    """Mean answer-token loss over the first ``limit`` examples (no augmentation)."""
    import torch

    model.eval()
    total, tokens = 0.0, 0
    with torch.no_grad():
        for start in range(0, min(limit, len(examples)), batch_size):
            idx = list(range(start, min(start + batch_size, limit, len(examples))))
            b = batcher.batch(examples, idx, None)
            out = _forward(model, b, device)
            n = int((b["labels"][:, 1:] != -100).sum())
            total += float(out.loss) * n
            tokens += n
    model.train()
    return total / max(tokens, 1)


def _load_checkpoint(path: Path) -> dict[str, Any]:
    """The training state saved by :func:`_save_checkpoint`, read weights-only: tensors, numbers, strings and
    containers, never arbitrary pickled objects (a planted ``state.pt`` cannot run code)."""
    import pickle

    import torch

    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as exc:
        raise ValueError(
            f"{path}: not a groundsight training checkpoint ({one_line(exc, 120)}); delete it or train with --no-resume"
        ) from None
    if not isinstance(state, dict) or not {"step", "spec", "model"} <= state.keys():
        raise ValueError(f"{path}: not a groundsight training checkpoint (missing step/spec/model)")
    return state


@dataclass
class _Run:
    """One training run: the model and its processor, the optimiser and the random state, the data."""

    config: TrainConfig
    device: str
    spec: ModelSpec
    processor: Any
    model: Any
    aux: _Aux
    examples: Examples
    test: Examples | None
    batcher: Batcher
    optimizer: Any
    scheduler: Any
    rng: random.Random
    """Draws the random flips."""
    order_rng: np.random.Generator
    """Draws the order of the examples (a permutation per epoch)."""
    start: int = 0
    order: list[int] = field(default_factory=list)
    loss_avg: float = math.nan
    eval_loss: float | None = None

    @property
    def state_path(self) -> Path:
        """Where the checkpoint is read and written."""
        return _checkpoint_dir(self.config) / "state.pt"


def _checkpoint_dir(config: TrainConfig) -> Path:
    """``checkpoint_dir``, by default ``out/checkpoint``."""
    return Path(config.checkpoint_dir) if config.checkpoint_dir else Path(config.out) / "checkpoint"


def _seed(config: TrainConfig) -> str:
    """The device to train on; torch's CPU threads and every global random generator set from the config."""
    import torch

    device = pick_device(config.device)
    if device == "cpu":
        torch.set_num_threads(config.threads)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    return device


def _read_data(config: TrainConfig) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Training and test rows of the chosen cameras; a one-line ValueError when there is nothing to train on."""
    rows = read_rows(config.data / "train", config.cameras)
    if not rows:
        raise ValueError(f"{config.data / 'train' / 'metadata.jsonl'}: no images of cameras {list(config.cameras)}")
    if config.max_images:
        rows = rows[: config.max_images]
    return rows, read_rows(config.data / "test", config.cameras)[: config.eval_images]


def _prepare(config: TrainConfig, device: str, rows: list[dict[str, Any]], test_rows: list[dict[str, Any]]) -> _Run:
    """The model (resumed, fine-tuned from ``init_from`` or new), its data, optimiser and random state."""
    state_path = _checkpoint_dir(config) / "state.pt"
    state = _load_checkpoint(state_path) if config.resume and state_path.exists() else None
    model = load_model(config.init_from) if state is None and config.init_from is not None else None
    spec = spec_of(model) if model is not None else ModelSpec(**state["spec"]) if state else config.spec
    processor = build_processor(spec)
    if model is None:
        model = build_model(processor.tokenizer, spec, seed=config.seed)
    aux = _Aux(model, spec.vision_hidden)
    if state:
        model.load_state_dict(state["model"])
        aux.heads.load_state_dict(state["aux"])
    model.to(device)
    aux.heads.to(device)
    model.train()
    log.info("vlm training: %d train / %d test images, %d params", len(rows), len(test_rows), count_parameters(model))
    examples = Examples(config.data / "train", rows, processor.image_processor, spec.image_size)
    test = Examples(config.data / "test", test_rows, processor.image_processor, spec.image_size) if test_rows else None
    batcher = Batcher(processor, spec)
    optimizer, scheduler = _optimizer(config, model, aux)
    rng, order_rng = random.Random(config.seed), np.random.default_rng(config.seed)
    run = _Run(
        config, device, spec, processor, model, aux, examples, test, batcher, optimizer, scheduler, rng, order_rng
    )
    if state:
        _restore(run, state)
    return run


def _optimizer(config: TrainConfig, model: Any, aux: _Aux) -> tuple[Any, Any]:
    """AdamW (weight decay on matrices other than embeddings, and on the auxiliary heads) and its schedule."""
    import torch

    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embed" not in n)]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay + list(aux.heads.parameters()), "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=config.lr,
        betas=(0.9, 0.98),
    )
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config))


def _restore(run: _Run, state: dict[str, Any]) -> None:
    """Continue where the checkpoint ``state`` left off: optimiser, schedule, random state and step."""
    import torch

    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    run.rng.setstate(state["rng"])
    run.order_rng.bit_generator.state = state["order_rng"]
    torch.set_rng_state(state["torch_rng"])
    run.start = int(state["step"])
    log.info("vlm training: resumed at step %d from %s", run.start, run.state_path)


def _save_checkpoint(run: _Run, step: int) -> None:
    """The model, auxiliary heads, optimiser, schedule and random state after ``step`` steps, written atomically."""
    import torch

    run.state_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = run.state_path.with_name("state.pt.tmp")
    torch.save(
        {
            "step": step,
            "spec": run.spec.model_dump(),
            "model": run.model.state_dict(),
            "aux": run.aux.heads.state_dict(),
            "optimizer": run.optimizer.state_dict(),
            "scheduler": run.scheduler.state_dict(),
            "rng": run.rng.getstate(),
            "order_rng": run.order_rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
        },
        tmp,
    )
    tmp.replace(run.state_path)


def _next_indices(run: _Run) -> list[int]:
    """The next batch's example indices: through a fresh random permutation of the data each epoch."""
    size = run.config.batch_size
    if len(run.order) < size:
        run.order.extend(run.order_rng.permutation(len(run.examples)).tolist())
    idx, run.order = run.order[:size], run.order[size:]
    return idx


def _step(run: _Run) -> dict[str, float]:
    """One optimiser step on the next batch; its metrics (loss, aux, loss_avg, lr)."""
    import torch

    config, device = run.config, run.device
    b = run.batcher.batch(run.examples, _next_indices(run), run.rng if config.flip else None)
    loss = _forward(run.model, b, device).loss
    metrics = {"loss": float(loss.detach())}
    if config.aux_weight > 0:
        aux_loss = run.aux.loss(b["patch_colour"].to(device), b["patch_type"].to(device))
        loss = loss + config.aux_weight * aux_loss
        metrics["aux"] = float(aux_loss.detach())
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(run.model.parameters(), config.clip)
    run.optimizer.step()
    run.scheduler.step()
    run.loss_avg = metrics["loss"] if math.isnan(run.loss_avg) else 0.95 * run.loss_avg + 0.05 * metrics["loss"]
    return metrics | {"loss_avg": run.loss_avg, "lr": run.scheduler.get_last_lr()[0]}


def _after_step(run: _Run, done: int, metrics: dict[str, float], progress: ProgressFn | None) -> None:
    """Evaluation, logging, progress and checkpoint after ``done`` steps, each when it is due."""
    config = run.config
    if run.test is not None and (done % config.eval_every == 0 or done == config.steps):
        run.eval_loss = evaluate(run.model, run.batcher, run.test, config.batch_size, run.device, config.eval_images)
        metrics["eval_loss"] = run.eval_loss
        log.info("vlm training: step %d eval loss %.4f", done, run.eval_loss)
    if done % 50 == 0:
        log.info(
            "vlm training: step %d/%d %s", done, config.steps, " ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        )
    if progress is not None:
        progress(done, config.steps, metrics)
    if done % config.checkpoint_every == 0 or done == config.steps:
        _save_checkpoint(run, done)


def train(config: TrainConfig, progress: ProgressFn | None = None) -> TrainSummary:
    """Train (or resume training) the compact VLM on ``config.data``; save it to ``config.out``.

    Raises:
        ValueError: no training images of the chosen cameras in ``config.data`` (one line naming the folder).
    """
    t0 = time.perf_counter()
    device = _seed(config)
    rows, test_rows = _read_data(config)
    run = _prepare(config, device, rows, test_rows)
    for step in range(run.start, config.steps):
        metrics = _step(run)
        _after_step(run, step + 1, metrics, progress)
    run.model.eval()
    out = Path(config.out)
    save(run.model, run.processor, out)
    return TrainSummary(
        out=out,
        steps=config.steps,
        start_step=run.start,
        examples=(config.steps - run.start) * config.batch_size,
        train_images=len(run.examples),
        test_images=len(run.test) if run.test is not None else 0,
        params=count_parameters(run.model),
        train_loss=run.loss_avg,
        eval_loss=run.eval_loss,
        seconds=round(time.perf_counter() - t0, 1),
        device=device,
    )


class RichProgress:
    """A ``rich`` progress bar as a :data:`ProgressFn` (use as a context manager)."""

    def __init__(self, description: str = "training") -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
        )
        self._task = self._progress.add_task(description, total=None, info="")

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()

    def __call__(self, step: int, steps: int, metrics: dict[str, float]) -> None:
        info = " ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        self._progress.update(self._task, completed=step, total=steps, info=info)
