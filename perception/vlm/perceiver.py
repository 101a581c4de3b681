"""``vlm``: perception with any transformers image-text-to-text model (a local path or a hub id).

The model is loaded with ``AutoProcessor.from_pretrained(path)`` and
``AutoModelForImageTextToText.from_pretrained(path, dtype=...)``: the same path a real checkpoint
(LLaVA, Qwen2-VL, Idefics3/SmolVLM, PaliGemma, ...) and the tiny randomly initialised test model take.
Nothing is downloaded unless the caller names a hub id; without network that fails with a one-line error.

**Prompt** (:data:`PROMPT`, formatted with the image size and the vocabularies). It asks for one JSON list
of objects, ``[{"type": ..., "color": ..., "box": [x0, y0, x1, y1], "confidence": ...}]``, in pixel
coordinates of the image (end exclusive), type and colour words from groundsight's vocabularies. With a
chat template the processor's template wraps one user turn (an image, then the text) and adds the
generation prompt; without one, the image token (if the processor names one) and the text are joined.

**Generation**: the frames go through the model in batches of ``batch_size`` (one prompt per frame, left
padded), greedy, at most ``max_new_tokens`` new tokens.

**Parsing** (:func:`parse_answer`) survives broken or partial JSON: it reads objects one by one from the
first ``[`` (or ``{``) and keeps the longest valid prefix; objects with an unknown colour or type, or a bad
box, are dropped and counted. **Lifting** (:func:`~perception.perceivers.boxes.lift_box`): the median depth
of the box's foreground pixels places the object, their spread its footprint, the table its bottom. A
detection of the colour and type of an earlier one of the same answer, lifted within ``duplicate_distance``
of it, repeats that object and is dropped (a small model sometimes names one object twice). Detections of
the same colour and type from several cameras within ``fuse_distance`` are merged.

Whatever the model answers, ``perceive`` returns a percept (possibly empty); what went wrong is in
:attr:`VLMPerceiver.last_errors`.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from groundsight.perception.colors import COLOR_NAMES
from groundsight.perception.frame import Frame
from groundsight.perception.objects import Evidence, Percept, SceneObject
from groundsight.perception.perceivers.base import PerceptionError, assign_ids, frames_time
from groundsight.perception.perceivers.boxes import Detection2D, clip_box, fuse, lift_box, load_pretrained
from groundsight.perception.vlm.vocabulary import PROMPT, TYPES, match_word

log = logging.getLogger(__name__)

_word = match_word  # the name perception.vlm.families imports

DEFAULT_VLM = Path(__file__).resolve().parents[1] / "models" / "groundsight-vlm"
"""groundsight's own compact model, shipped in the package (see :mod:`groundsight.perception.vlm.model`): the model
used when none is named. CPU, no download."""


class VLMConfig(BaseModel):
    """Options of :class:`VLMPerceiver`.

    ``dtype``: ``float32``, ``bfloat16`` or ``float16``; None picks ``bfloat16`` on a GPU, ``float32`` on CPU.
    """

    model_config = ConfigDict(frozen=True)

    model: str = str(DEFAULT_VLM)
    device: str = "cpu"
    dtype: str | None = None
    max_new_tokens: int = Field(256, ge=1)
    batch_size: int = Field(4, ge=1)
    prompt: str = PROMPT
    default_confidence: float = Field(0.5, ge=0.0, le=1.0)
    table_z: float = 0.0
    min_height: float = 0.003
    max_height: float = 0.30
    fuse_distance: float = 0.04
    duplicate_distance: float = 0.02
    family: str | None = None
    """The model family's adapter (:mod:`~perception.vlm.families`); None: from the config's ``model_type``."""


@dataclass
class ParseResult:
    """What :func:`parse_answer` made of one answer."""

    detections: list[Detection2D] = field(default_factory=list)
    dropped: int = 0
    """Objects read but dropped (unknown colour or type, bad box, not an object)."""
    errors: list[str] = field(default_factory=list)


def _detection(item: Any) -> tuple[Detection2D | None, str | None]:
    """A detection from one parsed JSON value, or the reason it is dropped."""
    if not isinstance(item, dict):
        return None, f"not an object: {str(item)[:40]!r}"
    kind = match_word(item.get("type"), TYPES)
    if kind is None:
        return None, f"unknown type {item.get('type')!r}"
    color = match_word(item.get("color", item.get("colour")), COLOR_NAMES)
    if color is None:
        return None, f"unknown colour {item.get('color', item.get('colour'))!r}"
    box = item.get("box", item.get("bbox"))
    if (
        not isinstance(box, (list, tuple))
        or len(box) != 4
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in box)
    ):
        return None, f"bad box {box!r}"
    conf = item.get("confidence", item.get("score"))
    confidence = float(np.clip(conf, 0.0, 1.0)) if isinstance(conf, (int, float)) and math.isfinite(conf) else None
    return Detection2D(kind, color, tuple(float(v) for v in box), confidence), None  # type: ignore[arg-type]


_FENCE = re.compile(r"```(?:json)?", re.IGNORECASE)


def parse_answer(text: str) -> ParseResult:
    """Detections in a model's answer; never raises.

    Reads JSON values one by one from the first ``[`` or ``{`` (code fences are ignored) and stops at the
    first one that does not parse: the longest valid prefix of objects is kept and the rest recorded as an
    error. A single object, a list, or ``{"objects": [...]}`` are all accepted.
    """
    result = ParseResult()
    text = _FENCE.sub(" ", text or "")
    starts = [i for i in (text.find("["), text.find("{")) if i >= 0]
    if not starts:
        result.errors.append(f"no JSON in answer: {text.strip()[:60]!r}")
        return result
    decoder = json.JSONDecoder()
    pos = min(starts)
    in_list = text[pos] == "["
    if in_list:
        pos += 1
    items: list[Any] = []
    closed = False
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            break
        if in_list and text[pos] == "]":
            closed = True
            break
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            result.errors.append(f"broken JSON after {len(items)} object(s): {exc.msg} at char {exc.pos}")
            break
        if isinstance(value, dict) and isinstance(value.get("objects"), list) and "type" not in value:
            items.extend(value["objects"])
        else:
            items.append(value)
        if not in_list:
            break
    if in_list and not closed and not result.errors:
        result.errors.append(f"unterminated JSON list after {len(items)} object(s)")
    for item in items:
        values = item if isinstance(item, list) else [item]
        for value in values:
            det, why = _detection(value)
            if det is None:
                result.dropped += 1
                log.debug("dropped a detection: %s", why)
            else:
                result.detections.append(det)
    if result.dropped:
        result.errors.append(f"dropped {result.dropped} object(s) with an unknown colour or type or a bad box")
    return result


class VLMPerceiver:
    """Perception with a transformers image-text-to-text model; see the module's docs.

    Args:
        model: local path (or hub id) of the checkpoint; None: the shipped :data:`DEFAULT_VLM`.
        device: ``cpu`` or ``cuda`` (or ``cuda:N``).
        dtype: ``float32`` / ``bfloat16`` / ``float16``; default ``bfloat16`` on a GPU, ``float32`` on CPU.
        config: further options (``model``, ``device`` and ``dtype`` given here win).

    Raises:
        PerceptionError: the model or processor cannot be loaded (one line, naming the path).

    Attributes:
        last_errors: what went wrong in the latest ``perceive`` (parse errors, dropped objects, boxes
            without depth), each prefixed by the camera.
        last_answers: the raw answers of the latest ``perceive``, one per frame.
    """

    name = "vlm"

    def __init__(
        self,
        model: str | None = None,
        device: str = "cpu",
        dtype: str | None = None,
        config: VLMConfig | None = None,
        family: str | None = None,
    ) -> None:
        base = config.model_dump() if config else {}
        base.update(
            model=model or base.get("model") or str(DEFAULT_VLM),
            device=device,
            dtype=dtype if dtype is not None else base.get("dtype"),
            family=family or base.get("family"),
        )
        self.config = VLMConfig(**base)
        self.last_errors: list[str] = []
        self.last_answers: list[str] = []
        self._load()

    # ------------------------------------------------------------------ model

    def _load(self) -> None:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        c = self.config
        self.processor, self.model = load_pretrained(
            AutoProcessor, AutoModelForImageTextToText, c.model, c.device, c.dtype, "vlm"
        )
        path, dtype = c.model, self.model.dtype
        tokenizer = getattr(self.processor, "tokenizer", None)
        if tokenizer is not None:
            tokenizer.padding_side = "left"  # decoder-only generation pads on the left
        from groundsight.perception.vlm.families import family_for

        try:
            self.family = family_for(getattr(self.model.config, "model_type", None), c.family).bind(self.processor)
        except ValueError as exc:
            raise PerceptionError(f"vlm: {exc}") from None
        log.info(
            "vlm: loaded %s (%s, family %s) on %s as %s",
            path, type(self.model).__name__, self.family.name, self.config.device, dtype,
        )  # fmt: skip

    def _prompt(self, frame: Frame) -> str:
        k = frame.intrinsics
        text = self.family.prompt(k.width, k.height, self.config.prompt)
        if self.family.chat and getattr(self.processor, "chat_template", None):
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]
            return self.processor.apply_chat_template(messages, add_generation_prompt=True)
        image_token = (getattr(self.processor, "image_token", None) or "") if self.family.image_token else ""
        return f"{image_token}{text}"

    def generate(self, frames: Sequence[Frame]) -> list[str]:
        """The model's answer for each frame (one batched, greedy ``generate`` call for all of them)."""
        import torch

        prompts = [self._prompt(f) for f in frames]
        inputs = self.processor(images=[f.rgb for f in frames], text=prompts, return_tensors="pt", padding=True)
        inputs = inputs.to(self.model.device)
        for key, value in inputs.items():
            if torch.is_floating_point(value):
                inputs[key] = value.to(self.model.dtype)
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.config.max_new_tokens, do_sample=False)
        new = out if getattr(self.model.config, "is_encoder_decoder", False) else out[:, inputs["input_ids"].shape[1] :]
        if not self.family.keep_special_tokens:
            return [str(s) for s in self.processor.batch_decode(new, skip_special_tokens=True)]
        tokenizer = getattr(self.processor, "tokenizer", self.processor)
        drop = {t for t in (tokenizer.pad_token, tokenizer.eos_token, tokenizer.bos_token) if t}
        texts = [str(s) for s in self.processor.batch_decode(new, skip_special_tokens=False)]
        return [re.sub("|".join(map(re.escape, drop)), "", s).strip() if drop else s for s in texts]

    # ------------------------------------------------------------------ perception

    def perceive(self, frames: Sequence[Frame]) -> Percept:
        """Ask the model about every frame, parse the answers, lift the boxes with depth, fuse cameras."""
        frames = list(frames)
        if not frames:
            raise PerceptionError("vlm perceiver got no frames")
        self.last_errors = []
        self.last_answers = []
        answers: list[str] = []
        size = self.config.batch_size
        for i in range(0, len(frames), size):
            batch = frames[i : i + size]
            try:
                answers.extend(self.generate(batch))
            except PerceptionError:  # a backend that cannot answer at all (vlm-server unreachable)
                raise
            except Exception as exc:  # noqa: BLE001 - a failing model is a recorded failure, not a crash
                log.warning("vlm: generation failed for %s: %s", [f.camera for f in batch], exc)
                self.last_errors.extend(f"{f.camera}: generation failed: {exc}" for f in batch)
                answers.extend("" for _ in batch)
        self.last_answers = answers
        per_frame = [self.objects_from_answer(f, a) for f, a in zip(frames, answers, strict=True)]
        objects = per_frame[0] if len(per_frame) == 1 else fuse(per_frame, self.config.fuse_distance)
        for err in self.last_errors:
            log.debug("vlm: %s", err)
        return Percept(
            objects=assign_ids(objects), cameras=[f.camera for f in frames], perceiver=self.name, t=frames_time(frames)
        )

    def _repeats(self, kept: Sequence[SceneObject], det: Detection2D, position: Sequence[float]) -> bool:
        """Whether an object of ``det``'s colour and type is already kept within ``duplicate_distance``."""
        return any(
            (o.type, o.color) == (det.type, det.color)
            and math.dist(o.position[:2], position[:2]) < self.config.duplicate_distance
            for o in kept
        )

    def _resolve(self, frame: Frame, det: Detection2D) -> Detection2D | None:
        """A point grown into a box (or kept as a small point-only box) and a missing colour read from the
        pixels; None (recorded) when no colour can be read."""
        from groundsight.perception.vlm.families import box_from_point, colour_in_box

        c = self.config
        if det.point is not None:
            x, y = det.point
            grown = box_from_point(frame, x, y, table_z=c.table_z, min_height=c.min_height, max_height=c.max_height)
            if grown is None:
                self.last_errors.append(f"{frame.camera}: {det.color} {det.type} at ({x:.0f}, {y:.0f}) is point-only")
                grown = (x - 3, y - 3, x + 4, y + 4)
            det = Detection2D(det.type, det.color, tuple(float(v) for v in grown), det.confidence, det.point)  # type: ignore[arg-type]
        if not det.color:
            box = clip_box(det.box, frame.intrinsics.width, frame.intrinsics.height)
            color = colour_in_box(frame, box) if box else None
            if color is None:
                self.last_errors.append(f"{frame.camera}: {det.type} box {det.box} has no known colour")
                return None
            det = Detection2D(det.type, color, det.box, det.confidence, det.point)
        return det

    def objects_from_answer(self, frame: Frame, answer: str) -> list[SceneObject]:
        """Objects (ids not yet assigned) that one answer about one frame names; errors go to ``last_errors``."""
        k = frame.intrinsics
        parsed = self.family.parse(answer, k.width, k.height)
        self.last_errors.extend(f"{frame.camera}: {e}" for e in parsed.errors)
        out = []
        for det in parsed.detections:
            det = self._resolve(frame, det)
            if det is None:
                continue
            box = clip_box(det.box, k.width, k.height)
            if box is None:
                self.last_errors.append(f"{frame.camera}: {det.color} {det.type} box {det.box} outside the image")
                continue
            lifted = lift_box(
                frame, box, table_z=self.config.table_z, min_height=self.config.min_height,
                max_height=self.config.max_height,
            )  # fmt: skip
            if lifted is None:
                self.last_errors.append(f"{frame.camera}: {det.color} {det.type} box {box} has no depth")
                continue
            if self._repeats(out, det, lifted.position):
                self.last_errors.append(f"{frame.camera}: {det.color} {det.type} box {box} repeats an earlier one")
                continue
            area = (box[2] - box[0]) * (box[3] - box[1])
            conf = det.confidence if det.confidence is not None else self.config.default_confidence
            out.append(
                SceneObject(
                    id=f"{det.color}_{det.type}",
                    type=det.type,
                    color=det.color,
                    position=lifted.position,
                    extent=lifted.extent,
                    confidence=round(conf, 4),
                    evidence=(Evidence(camera=frame.camera, box=box, pixels=lifted.pixels or area),),
                )
            )
        return out
