"""GPU check of a vision-language model behind the ``vlm`` perceiver: bf16 on CUDA, batched frames, speed,
peak memory and perception quality on a fixed set of rendered scenes.

Usage::

    python -m benchmarks.gpu_check --model PATH_OR_ID [--family F] [--scenes 20] [--batch 4] [--seed 0]
                                   [--max-new-tokens 256] [--cpu] [--json out.json]

The scenes are the perception benchmark's (``benchmarks.perception_quality``: ``build_scene`` with its seed,
3-6 random objects, a fraction with contained objects); the top camera's frames go through the model
``--batch`` at a time (one ``generate`` call per batch, greedy), each answer is read by the model family's
adapter (``--family``, default from the config's ``model_type``), lifted with depth and scored against
simulator truth with the benchmark's own matching (``score``): precision, recall, colour and type accuracy,
median 3D error. Reported: ms per frame (generation only, after one warm-up batch on a GPU), peak GPU memory
(``torch.cuda.max_memory_allocated``) and the quality row; ``--json`` writes them.

Without CUDA it prints one line and exits 0, unless ``--cpu`` is given: then it runs on CPU in float32
(meant for a small model; without ``--model`` the shipped compact model) and every figure is marked CPU.
With the defaults (20 scenes, batch 4, 256 new tokens) a 7B model in bf16 finishes well within 10 minutes
on one H100-class GPU (not measured here: no GPU was available when this was written).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.perception_quality import Tally, score
from groundsight.agent.training.datagen import build_scene
from groundsight.perception.frame import Frame
from groundsight.perception.perceivers.base import PerceptionError, assign_ids
from groundsight.sim.truth import ObjectTruth

CONTAINED = 0.3
"""Fraction of scenes with an object in or on another (the perception benchmark's default)."""


@dataclass
class CheckResult:
    """What one run measured."""

    model: str
    family: str
    device: str
    dtype: str
    scenes: int
    batch: int
    ms_per_frame: float = math.nan
    peak_memory_mib: float = math.nan
    memory_kind: str = "cuda max_memory_allocated"
    quality: dict[str, float] = field(default_factory=dict)
    errors: int = 0

    @property
    def cpu(self) -> bool:
        return self.device == "cpu"

    def lines(self) -> list[str]:
        """The report, one figure a line; CPU figures say so."""
        mark = " [CPU, not a GPU figure]" if self.cpu else ""
        q = self.quality
        return [
            f"model {self.model} (family {self.family}) on {self.device} as {self.dtype}, "
            f"{self.scenes} scenes, batch {self.batch}",
            f"ms per frame: {self.ms_per_frame:.1f}{mark}",
            f"peak memory: {self.peak_memory_mib:.0f} MiB ({self.memory_kind}){mark}",
            f"precision {q.get('precision', math.nan):.4f}  recall {q.get('recall', math.nan):.4f}  "
            f"colour {q.get('colour', math.nan):.4f}  type {q.get('type', math.nan):.4f}  "
            f"median {q.get('median_mm', math.nan):.1f} mm{mark}",
            f"answers with parse or lifting errors: {self.errors}",
        ]


def render_scenes(count: int, seed: int) -> list[tuple[Frame, list[ObjectTruth]]]:
    """The top camera's frame and the truth of the benchmark's first ``count`` scenes of ``seed``."""
    out = []
    for index in range(count):
        world, _ = build_scene(index, seed, CONTAINED)
        try:
            out.append((world.cameras[0].read(), world.truth()))
        finally:
            world.close()
    return out


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _peak_mib(device: str) -> tuple[float, str]:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20, "cuda max_memory_allocated"
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return rss_kib / 1024, "process peak RSS"


def run_check(
    model: str | None, family: str | None, scenes: int, batch: int, seed: int, max_new_tokens: int, device: str
) -> CheckResult:
    """Load the model, render the scenes, time batched generation and score the answers."""
    from groundsight.perception.vlm.perceiver import DEFAULT_VLM, VLMConfig, VLMPerceiver

    dtype = "bfloat16" if device.startswith("cuda") else "float32"
    config = VLMConfig(batch_size=batch, max_new_tokens=max_new_tokens)
    perceiver = VLMPerceiver(model or str(DEFAULT_VLM), device=device, dtype=dtype, config=config, family=family)
    data = render_scenes(scenes, seed)
    frames = [frame for frame, _ in data]
    result = CheckResult(perceiver.config.model, perceiver.family.name, device, dtype, scenes, batch)
    if device.startswith("cuda"):
        import torch

        perceiver.generate(frames[:batch])  # warm-up: kernels, allocator
        _sync(device)
        torch.cuda.reset_peak_memory_stats()
    answers: list[str] = []
    elapsed = 0.0
    for i in range(0, len(frames), batch):
        t0 = time.perf_counter()
        answers.extend(perceiver.generate(frames[i : i + batch]))
        _sync(device)
        elapsed += time.perf_counter() - t0
    result.ms_per_frame = 1000 * elapsed / max(len(frames), 1)
    result.peak_memory_mib, result.memory_kind = _peak_mib(device)
    tally = Tally()
    for index, ((frame, truths), answer) in enumerate(zip(data, answers, strict=True)):
        perceiver.last_errors = []
        objects = assign_ids(perceiver.objects_from_answer(frame, answer))
        result.errors += bool(perceiver.last_errors)
        score(tally, index, objects, truths)
    result.quality = {
        k: v for k, v in tally.row().items() if k in ("precision", "recall", "colour", "type", "median_mm")
    }
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder or hub id (default: the shipped compact model)")
    parser.add_argument("--family", help="answer format (default: from the config's model_type)")
    parser.add_argument("--scenes", type=int, default=20, help="rendered scenes (default 20)")
    parser.add_argument("--batch", type=int, default=4, help="frames per generate call (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="scene seed (default 0)")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="tokens per answer at most (default 256)")
    parser.add_argument("--cpu", action="store_true", help="run on CPU in float32 (figures marked CPU)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.scenes < 1 or args.batch < 1 or args.max_new_tokens < 1:
        parser.error("--scenes, --batch and --max-new-tokens must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    if not args.cpu and not torch.cuda.is_available():
        print("gpu_check: no CUDA device on this machine; nothing measured (--cpu runs it on CPU)")
        return 0
    device = "cpu" if args.cpu else "cuda"
    try:
        result = run_check(args.model, args.family, args.scenes, args.batch, args.seed, args.max_new_tokens, device)
    except PerceptionError as exc:
        print(f"gpu_check: {exc}", file=sys.stderr)
        return 2
    for line in result.lines():
        print(line)
    if args.json:
        record = {**result.__dict__, "cpu": result.cpu}
        args.json.write_text(json.dumps(record, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
