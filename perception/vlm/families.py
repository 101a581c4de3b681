"""Model-family adapters for the ``vlm`` perceivers: the prompt a family was trained on, the parser of its answer
format and the transform of its coordinates back to the pixels of the frame that was sent.

A real vision-language model does not answer in groundsight's JSON pixel boxes; each family has its own
grounding format (each checked against the family's documentation or processor code):

=================  ==========================================================================================
family             answer format and coordinates
=================  ==========================================================================================
``qwen2_vl``       ``<|object_ref_start|>red block<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>``
                   on a 0..1000 grid of the image (x before y).
``qwen2_5_vl``     JSON ``[{"bbox_2d": [x1, y1, x2, y2], "label": "red block"}]`` in absolute pixels of the
                   image *after* the processor resized it (``smart_resize``: sides multiples of 28, area
                   within ``min_pixels`` .. ``max_pixels``; a 640x480 frame becomes 644x476).
``paligemma``      prompt ``detect red block ; blue bowl``; answer
                   ``<loc0123><loc0456><loc0321><loc0654> red block ; ...``: y_min, x_min, y_max, x_max on a
                   1024 grid (y before x).
``florence2``      task prompts ``<CAPTION_TO_PHRASE_GROUNDING>`` (default, the vocabulary as the caption)
                   or ``<OD>``; answer ``red block<loc_120><loc_340><loc_200><loc_410>`` on a 1000-bin grid
                   (bin centre: ``(n + 0.5) * size / 1000``); the processor's ``post_process_generation``
                   parses it when the processor is at hand. ``<OD>`` labels carry no colour: the colour is
                   read from the frame's pixels.
``molmo``          points, not boxes: Molmo ``<point x="61.5" y="40.2" alt="red block">red block</point>``
                   or ``<points x1=".." y1=".." x2=".." y2=".." alt="..">`` in percent of the image; Molmo2
                   ``<points coords="1 1 308 305 2 752 377">red block</points>`` (image index, then id, x, y
                   triplets on a 0..1000 grid). The perceiver grows a box around each point from depth and
                   colour (:func:`box_from_point`) or keeps it as a point-only detection.
``normalized``     families without grounding training (``idefics3``, ``smolvlm``, ``llava_onevision``): a
                   prompt asking for groundsight's JSON with boxes on a 0..1000 grid (a fallback: such a
                   model's boxes are guesses; what they are worth is not measured).
``generic``        everything else (groundsight's own model, LLaVA): today's JSON prompt in pixels.
=================  ==========================================================================================

:func:`family_for` picks the adapter from the model config's ``model_type`` (``family=`` overrides it).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from groundsight.perception.colors import COLOR_NAMES, classify_color
from groundsight.perception.frame import Frame
from groundsight.perception.perceivers.boxes import Box, Detection2D, _backproject
from groundsight.perception.vlm.perceiver import ParseResult, parse_answer
from groundsight.perception.vlm.vocabulary import PROMPT, PROMPT_COLORS, TYPES
from groundsight.perception.vlm.vocabulary import match_word as _word

GRID = 1000
"""The 0..1000 grid of Qwen2-VL, Florence-2 (bins), Molmo2 and the normalized-JSON prompt."""
PALIGEMMA_GRID = 1024
QWEN25_FACTOR = 28
"""Qwen2.5-VL's resize factor: patch size 14 times spatial merge 2."""
QWEN25_MIN_PIXELS = 56 * 56
QWEN25_MAX_PIXELS = 28 * 28 * 1280
"""The Qwen2-VL image processor's defaults (a checkpoint's ``preprocessor_config.json`` may set others;
:meth:`Family.bind` reads them from the loaded processor)."""


def phrases() -> list[str]:
    """Every "<colour> <type>" phrase of the vocabulary."""
    return [f"{c} {t}" for t in TYPES for c in COLOR_NAMES]


def label_words(label: str) -> tuple[str | None, str | None]:
    """The colour and type a free-text label names ("Red Cube" -> ("red", "block")); None where it names none."""
    words = re.findall(r"[a-z]+", (label or "").lower())
    colours = [w for w in (_word(x, COLOR_NAMES) for x in words) if w]
    types = [w for w in (_word(x, TYPES) for x in words) if w]
    if not types:  # plurals: "blocks", "bowls"
        types = [w for w in (_word(x.rstrip("s"), TYPES) for x in words if len(x) > 3) if w]
    return (colours[0] if colours else None), (types[-1] if types else None)


def _labelled(result: ParseResult, label: str, box: Sequence[float], *, point: tuple[float, float] | None = None,
              colour_optional: bool = False) -> None:  # fmt: skip
    """Append a detection for ``label`` at ``box`` (frame pixels) to ``result``, or count it as dropped."""
    colour, kind = label_words(label)
    if kind is None or (colour is None and not colour_optional):
        result.dropped += 1
        return
    if not all(math.isfinite(v) for v in box):
        result.dropped += 1
        return
    x0, y0, x1, y1 = (float(v) for v in box)
    result.detections.append(
        Detection2D(kind, colour, (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), None, point)
    )


def _finish(result: ParseResult, answer: str, what: str) -> ParseResult:
    if not result.detections and not result.dropped:
        result.errors.append(f"no {what} in answer: {(answer or '').strip()[:60]!r}")
    if result.dropped:
        result.errors.append(f"dropped {result.dropped} object(s) with an unknown colour or type or a bad box")
    return result


@dataclass(frozen=True)
class Family:
    """One family's prompt, answer parser and coordinate transform (the base: today's JSON prompt in pixels).

    Attributes:
        name: the family's name (the ``family=`` option).
        chat: wrap the prompt in the processor's chat template (when it has one).
        image_token: without a chat template, prefix the processor's image token (PaliGemma and Florence-2
            processors place the image themselves).
        keep_special_tokens: decode answers with special tokens (the family's coordinates are special tokens).
        grounded: the family was trained to ground objects (False: its boxes are a prompted fallback).
    """

    name: str = "generic"
    chat: bool = True
    image_token: bool = True
    keep_special_tokens: bool = False
    grounded: bool = True

    def prompt(self, width: int, height: int, template: str = PROMPT) -> str:
        """The text sent with an image of ``width`` x ``height`` pixels (``template``: the perceiver's prompt, with
        :data:`~groundsight.perception.vlm.vocabulary.PROMPT_COLORS`: the shipped model's prompt is one token)."""
        return template.format(width=width, height=height, types=", ".join(TYPES), colors=", ".join(PROMPT_COLORS))

    def parse(self, answer: str, width: int, height: int) -> ParseResult:
        """Detections in ``answer`` with boxes in pixels of the ``width`` x ``height`` frame that was sent."""
        return parse_answer(answer)

    def bind(self, processor: Any) -> Family:
        """This family set up for a loaded processor (its resize limits, its post-processing)."""
        return self


@dataclass(frozen=True)
class NormalizedJsonFamily(Family):
    """Families without grounding training: groundsight's JSON with boxes on a 0..1000 grid."""

    name: str = "normalized"
    grounded: bool = False

    INSTRUCTION = (
        "List every object on the robot's table in this image as a JSON list: "
        '[{{"type": TYPE, "color": COLOR, "box": [x0, y0, x1, y1]}}], with box the object\'s bounding box in '
        "coordinates normalized to 0..1000 (x to the right, y down; 0,0 top left, 1000,1000 bottom right), TYPE "
        "one of {types}, COLOR one of {colors}. Answer with the JSON list only."
    )

    def prompt(self, width: int, height: int, template: str = PROMPT) -> str:
        return self.INSTRUCTION.format(types=", ".join(TYPES), colors=", ".join(COLOR_NAMES))

    def parse(self, answer: str, width: int, height: int) -> ParseResult:
        result = parse_answer(answer)
        sx, sy = width / GRID, height / GRID
        result.detections = [
            replace(d, box=(d.box[0] * sx, d.box[1] * sy, d.box[2] * sx, d.box[3] * sy)) for d in result.detections
        ]
        return result


@dataclass(frozen=True)
class Qwen2VLFamily(Family):
    """Qwen2-VL: ``<|object_ref_start|>label<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>``, 0..1000."""

    name: str = "qwen2_vl"
    keep_special_tokens: bool = True

    INSTRUCTION = (
        "Detect every object on the table. For each one, write its label as '<colour> <type>' with colour one of "
        "{colors} and type one of {types}, and its bounding box."
    )
    _BOX = re.compile(
        r"(?:<\|object_ref_start\|>(?P<label>.*?)<\|object_ref_end\|>|(?P<bare>[A-Za-z][A-Za-z ]*?))?\s*"
        r"(?:<\|box_start\|>)?\s*\(\s*(?P<x0>[-\d.]+)\s*,\s*(?P<y0>[-\d.]+)\s*\)\s*,\s*"
        r"\(\s*(?P<x1>[-\d.]+)\s*,\s*(?P<y1>[-\d.]+)\s*\)\s*(?:<\|box_end\|>)?"
    )

    def prompt(self, width: int, height: int, template: str = PROMPT) -> str:
        return self.INSTRUCTION.format(types=", ".join(TYPES), colors=", ".join(COLOR_NAMES))

    def parse(self, answer: str, width: int, height: int) -> ParseResult:
        result = ParseResult()
        sx, sy = width / GRID, height / GRID
        for m in self._BOX.finditer(answer or ""):
            label = m.group("label") or m.group("bare") or ""
            try:
                x0, y0, x1, y1 = (float(m.group(k)) for k in ("x0", "y0", "x1", "y1"))
            except ValueError:
                result.dropped += 1
                continue
            _labelled(result, label, (x0 * sx, y0 * sy, x1 * sx, y1 * sy))
        return _finish(result, answer, "Qwen2-VL box")


def _num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def json_values(answer: str) -> list[Any]:
    """Every JSON object in ``answer`` (lists flattened, code fences ignored; broken tails skipped)."""
    text = answer or ""
    decoder = json.JSONDecoder()
    out: list[Any] = []
    pos = 0
    while True:
        starts = [i for i in (text.find("[", pos), text.find("{", pos)) if i >= 0]
        if not starts:
            return out
        pos = min(starts)
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            pos += 1
            continue
        out.extend(value if isinstance(value, list) else [value])
        pos = end


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """(height, width) of an image after the Qwen2-VL / Qwen2.5-VL processor resized it (transformers' own
    ``smart_resize`` where importable, else the same rule)."""
    try:
        from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize as resize

        return resize(height, width, factor=factor, min_pixels=min_pixels, max_pixels=max_pixels)
    except ImportError:  # pragma: no cover - transformers is a dependency
        h, w = round(height / factor) * factor, round(width / factor) * factor
        if h * w > max_pixels:
            beta = math.sqrt(height * width / max_pixels)
            h, w = (
                max(factor, math.floor(height / beta / factor) * factor),
                max(factor, math.floor(width / beta / factor) * factor),
            )
        elif h * w < min_pixels:
            beta = math.sqrt(min_pixels / (height * width))
            h, w = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
        return h, w


@dataclass(frozen=True)
class Qwen25VLFamily(Family):
    """Qwen2.5-VL: JSON ``bbox_2d`` + ``label`` in pixels of the processor's resized image."""

    name: str = "qwen2_5_vl"
    factor: int = QWEN25_FACTOR
    min_pixels: int = QWEN25_MIN_PIXELS
    max_pixels: int = QWEN25_MAX_PIXELS

    INSTRUCTION = (
        "Locate every object on the table and output their bbox coordinates in JSON format: "
        '[{{"bbox_2d": [x1, y1, x2, y2], "label": "<colour> <type>"}}], with colour one of {colors} and type one '
        "of {types}."
    )

    def prompt(self, width: int, height: int, template: str = PROMPT) -> str:
        return self.INSTRUCTION.format(types=", ".join(TYPES), colors=", ".join(COLOR_NAMES))

    def resized(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of the image the model saw for a ``width`` x ``height`` frame."""
        h, w = smart_resize(height, width, self.factor, self.min_pixels, self.max_pixels)
        return w, h

    def parse(self, answer: str, width: int, height: int) -> ParseResult:
        result = ParseResult()
        rw, rh = self.resized(width, height)
        sx, sy = width / rw, height / rh
        for item in json_values(answer):
            box = item.get("bbox_2d", item.get("bbox")) if isinstance(item, dict) else None
            if not isinstance(box, (list, tuple)) or len(box) != 4 or not all(_num(v) for v in box):
                result.dropped += 1
                continue
            label = str(item.get("label", ""))
            _labelled(result, label, (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy))
        return _finish(result, answer, "bbox_2d JSON")

    def bind(self, processor: Any) -> Family:
        ip = getattr(processor, "image_processor", None)
        if ip is None:
            return self
        size = getattr(ip, "size", None) or {}
        lo = getattr(ip, "min_pixels", None) or size.get("shortest_edge") or self.min_pixels
        hi = getattr(ip, "max_pixels", None) or size.get("longest_edge") or self.max_pixels
        factor = int(getattr(ip, "patch_size", 14) or 14) * int(getattr(ip, "merge_size", 2) or 2)
        return replace(self, factor=factor, min_pixels=int(lo), max_pixels=int(hi))


@dataclass(frozen=True)
class PaliGemmaFamily(Family):
    """PaliGemma: ``detect a ; b`` and ``<locY0><locX0><locY1><locX1> label`` on a 1024 grid, y before x."""

    name: str = "paligemma"
    chat: bool = False
    keep_special_tokens: bool = True
    queries: tuple[str, ...] = ()
    """The phrases to detect; empty: every colour-type phrase of the vocabulary."""

    _LOC = re.compile(r"<loc(\d{4})><loc(\d{4})><loc(\d{4})><loc(\d{4})>\s*([^;<]*)")

    def prompt(self, width: int, height: int, template: str = PROMPT) -> str:
        return "detect " + " ; ".join(self.queries or phrases())

    def parse(self, answer: str, width: int, height: int) -> ParseResult:
        result = ParseResult()
        for m in self._LOC.finditer(answer or ""):
            y0, x0, y1, x1 = (int(m.group(i)) / PALIGEMMA_GRID for i in range(1, 5))
            _labelled(result, m.group(5).strip(), (x0 * width, y0 * height, x1 * width, y1 * height))
        return _finish(result, answer, "<loc> box")


def florence_bin(n: float, size: int) -> float:
    """A Florence-2 location bin's centre in pixels (as its post-processor dequantizes)."""
    return (n + 0.5) * size / GRID


@dataclass(frozen=True)
class Florence2Family(Family):
    """Florence-2: task prompts, ``label<loc_x0><loc_y0><loc_x1><loc_y1>`` on 1000 bins."""

    name: str = "florence2"
    chat: bool = False
    image_token: bool = False
    keep_special_tokens: bool = True
    task: str = "<CAPTION_TO_PHRASE_GROUNDING>"
    """``<CAPTION_TO_PHRASE_GROUNDING>`` (the vocabulary's phrases as the caption) or ``<OD>``."""
    processor: Any = None

    _PHRASE = re.compile(r"([^<]*)((?:<loc_\d+>){4,})")
    _BOX = re.compile(r"<loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)>")

    def prompt(self, width: int, height: int, template: str = PROMPT) -> str:
        if self.task == "<OD>":
            return "<OD>"
        return f"{self.task}{', '.join(phrases())}"

    def _pairs(self, answer: str, width: int, height: int) -> list[tuple[str, list[float]]]:
        post = getattr(self.processor, "post_process_generation", None)
        if post is not None:
            try:
                out = post(text=answer, task=self.task, image_size=(width, height))[self.task]
                return list(zip(out["labels"], out["bboxes"], strict=True))
            except Exception:  # noqa: BLE001 - a processor without this task's parse config: our own parser
                pass
        pairs = []
        text = re.sub(r"</?s>|<pad>", "", answer or "")
        for m in self._PHRASE.finditer(text):
            label = m.group(1).strip()
            for b in self._BOX.finditer(m.group(2)):
                x0, y0, x1, y1 = (int(b.group(i)) for i in range(1, 5))
                box = [
                    florence_bin(x0, width),
                    florence_bin(y0, height),
                    florence_bin(x1, width),
                    florence_bin(y1, height),
                ]
                pairs.append((label, box))
        return pairs

    def parse(self, answer: str, width: int, height: int) -> ParseResult:
        result = ParseResult()
        for label, box in self._pairs(answer, width, height):
            _labelled(result, str(label), box, colour_optional=True)
        return _finish(result, answer, "<loc_N> box")

    def bind(self, processor: Any) -> Family:
        return replace(self, processor=processor)


@dataclass(frozen=True)
class MolmoFamily(Family):
    """Molmo and Molmo2: points, not boxes (percent of the image, or Molmo2's 0..1000 ``coords``)."""

    name: str = "molmo"

    INSTRUCTION = "Point to every object on the table and label each point with its colour and type: {phrases}."
    _POINT = re.compile(r"<point\s+([^>]*)>(.*?)</point>", re.S)
    _POINTS = re.compile(r"<points\s+([^>]*?)/?>(?:(.*?)</points>)?", re.S)
    _ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')

    def prompt(self, width: int, height: int, template: str = PROMPT) -> str:
        return self.INSTRUCTION.format(phrases=", ".join(phrases()))

    @staticmethod
    def _coords(coords: str) -> list[tuple[float, float]]:
        """Molmo2 ``coords``: per image "index id x y id x y ...", images separated by ';'."""
        points = []
        for chunk in coords.split(";"):
            nums = chunk.split()
            for i in range(1, len(nums) - 2, 3):  # nums[0]: the image index
                try:
                    points.append((float(nums[i + 1]) / GRID, float(nums[i + 2]) / GRID))
                except ValueError:
                    continue
        return points

    def parse(self, answer: str, width: int, height: int) -> ParseResult:
        result = ParseResult()
        found: list[tuple[str, float, float]] = []
        text = answer or ""
        for m in self._POINT.finditer(text):
            a = dict(self._ATTR.findall(m.group(1)))
            try:
                found.append((a.get("alt") or m.group(2), float(a["x"]) / 100, float(a["y"]) / 100))
            except (KeyError, ValueError):
                result.dropped += 1
        for m in self._POINTS.finditer(text):
            a = dict(self._ATTR.findall(m.group(1)))
            label = a.get("alt") or m.group(2) or ""
            if "coords" in a:
                found.extend((label, x, y) for x, y in self._coords(a["coords"]))
                continue
            for k in sorted(int(key[1:]) for key in a if re.fullmatch(r"x\d+", key)):
                try:
                    found.append((label, float(a[f"x{k}"]) / 100, float(a[f"y{k}"]) / 100))
                except (KeyError, ValueError):
                    result.dropped += 1
        for label, fx, fy in found:
            x, y = fx * width, fy * height
            _labelled(result, label, (x, y, x, y), point=(x, y))
        return _finish(result, answer, "Molmo point")


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(),
        NormalizedJsonFamily(),
        Qwen2VLFamily(),
        Qwen25VLFamily(),
        PaliGemmaFamily(),
        Florence2Family(),
        MolmoFamily(),
    )
}
"""Every adapter by name (the ``family=`` option)."""

MODEL_TYPES: dict[str, str] = {
    "qwen2_vl": "qwen2_vl",
    "qwen2_5_vl": "qwen2_5_vl",
    "paligemma": "paligemma",
    "florence2": "florence2",
    "molmo": "molmo",
    "molmo2": "molmo",
    "idefics3": "normalized",
    "smolvlm": "normalized",
    "llava_onevision": "normalized",
}
"""A config's ``model_type`` -> its family; any other model type gets ``generic``."""

ALIASES = {"molmo2": "molmo", "idefics3": "normalized", "smolvlm": "normalized", "llava_onevision": "normalized"}


def family_for(model_type: str | None, override: str | None = None) -> Family:
    """The adapter for a model: ``override`` (a family name or a model type) if given, else by ``model_type``.

    Raises:
        ValueError: ``override`` names no family (one line, listing the known ones).
    """
    if override:
        key = ALIASES.get(override, override)
        if key not in FAMILIES:
            known = ", ".join(sorted({*FAMILIES, *ALIASES}))
            raise ValueError(f"unknown VLM family {override!r}; known: {known}")
        return FAMILIES[key]
    return FAMILIES[MODEL_TYPES.get(model_type or "", "generic")]


NAME_HINTS: tuple[tuple[str, str], ...] = (
    ("qwen2.5-vl", "qwen2_5_vl"),
    ("qwen2_5_vl", "qwen2_5_vl"),
    ("qwen2-vl", "qwen2_vl"),
    ("qwen2_vl", "qwen2_vl"),
    ("paligemma", "paligemma"),
    ("florence", "florence2"),
    ("molmo", "molmo"),
    ("smolvlm", "normalized"),
    ("idefics", "normalized"),
    ("onevision", "normalized"),
)
"""Substrings of a served model's name (lower case) -> its family, first match wins."""


def family_from_name(model: str) -> str:
    """The family a served model's name suggests ("Qwen/Qwen2.5-VL-7B-Instruct" -> ``qwen2_5_vl``); ``generic``
    when it suggests none (a server does not tell its ``model_type``)."""
    name = (model or "").lower()
    return next((family for hint, family in NAME_HINTS if hint in name), "generic")


# ---------------------------------------------------------------------------------------------- pixels


def colour_in_box(frame: Frame, box: Box) -> str | None:
    """The colour name of the median pixel of ``box``'s central half (None if it is no known colour)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    patch = frame.rgb[y0 + h // 4 : y1 - h // 4 or y1, x0 + w // 4 : x1 - w // 4 or x1]
    if patch.size == 0:
        return None
    return classify_color(np.median(patch.reshape(-1, patch.shape[-1])[:, :3], axis=0))


def _heights(frame: Frame, x0: int, y0: int, x1: int, y1: int, table_z: float) -> np.ndarray:
    """Height above the table of every pixel of a window (NaN without depth)."""
    depth = frame.depth[y0:y1, x0:x1].astype(np.float64)  # type: ignore[index]
    vv, uu = np.mgrid[y0:y1, x0:x1]
    z = depth.ravel()
    ok = np.isfinite(z) & (z > 0)
    h = np.full(z.shape, np.nan)
    if np.any(ok):
        pts = _backproject(frame, uu.ravel()[ok].astype(np.float64), vv.ravel()[ok].astype(np.float64), z[ok])
        h[ok] = pts[:, 2] - table_z
    return h.reshape(depth.shape)


def box_from_point(
    frame: Frame, x: float, y: float, *, table_z: float = 0.0, min_height: float = 0.003,
    max_height: float = 0.30, radius: int = 80, colour_tolerance: float = 60.0,
) -> Box | None:  # fmt: skip
    """A pixel box grown around a pointed-at pixel: the connected foreground pixels (between ``min_height`` and
    ``max_height`` above the table) around it whose colour is within ``colour_tolerance`` (max over RGB) of
    the point's, inside a ``radius`` window. None without depth or without foreground within 6 px of the point.
    """
    import cv2

    if frame.depth is None:
        return None
    k = frame.intrinsics
    px, py = int(round(x)), int(round(y))
    x0, y0 = max(0, px - radius), max(0, py - radius)
    x1, y1 = min(k.width, px + radius + 1), min(k.height, py + radius + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    heights = _heights(frame, x0, y0, x1, y1, table_z)
    fg = (heights > min_height) & (heights < max_height)
    ys, xs = np.nonzero(fg)
    if len(xs) == 0:
        return None
    d = np.hypot(xs - (px - x0), ys - (py - y0))
    nearest = int(np.argmin(d))
    if d[nearest] > 6:
        return None
    sx, sy = int(xs[nearest]), int(ys[nearest])
    rgb = frame.rgb[y0:y1, x0:x1, :3].astype(np.float64)
    seed = np.median(rgb[max(0, sy - 1) : sy + 2, max(0, sx - 1) : sx + 2].reshape(-1, 3), axis=0)
    similar = fg & (np.abs(rgb - seed).max(axis=-1) < colour_tolerance)
    for mask in (similar, fg):
        _, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
        label = labels[sy, sx]
        if label == 0:
            continue
        cy, cx = np.nonzero(labels == label)
        if len(cx) >= 8:
            return (x0 + int(cx.min()), y0 + int(cy.min()), x0 + int(cx.max()) + 1, y0 + int(cy.max()) + 1)
    return None
