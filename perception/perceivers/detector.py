"""``detector``: open-vocabulary detection with OWLv2 (transformers), boxes lifted to 3D with depth.

The model is loaded with ``Owlv2Processor.from_pretrained(path)`` and
``Owlv2ForObjectDetection.from_pretrained(path, dtype=...)`` from a local path or a hub id (nothing is
downloaded unless a hub id is named; without network that fails with a one-line :class:`PerceptionError`).

**Queries.** By default the detector is asked for every ``"<colour> <type>"`` phrase of groundsight's
vocabularies (14 colours x 7 types, :func:`vocabulary_queries`); explicit ``queries`` (e.g. the nouns of an
instruction, ``["red block", "bowl"]``) replace them. Each phrase is mapped back to a (colour, type) by
:func:`phrase_to_labels` (synonyms such as ``grey``/``teal``/``tan``/``cube``/``cup`` understood); a phrase
without a type word is not queried; a phrase without a colour word gets its colour from the box's pixels
(:func:`~perception.colors.classify_color`). The text sent to the model is ``query_template`` formatted
with the phrase (OWL's usual ``"a photo of a {phrase}"``).

**Forward pass.** The frames go through the model in batches of ``batch_size`` (all queries for every frame
of a batch in one forward pass, floats cast to the model's dtype).

**Post-processing.** ``Owlv2Processor.post_process_grounded_object_detection`` (which calls the image
processor's ``post_process_object_detection``): per predicted box it keeps the best-scoring phrase
(sigmoid of the max logit), drops scores at or below ``threshold`` and scales the boxes to the frame
(OWLv2 pads images to a square, so boxes are scaled by the longer side). Then a class-agnostic numpy
non-maximum suppression (:func:`nms`, IoU ``nms_iou``) across phrases keeps the best box of overlapping
ones, at most ``max_detections`` per frame.

**Lifting** (:func:`~perception.perceivers.boxes.lift_box`), as in ``vlm``: the median depth of the box's
foreground pixels places the object; confidence = score; evidence = the box. Detections of the same colour
and type from several cameras within ``fuse_distance`` are merged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from groundsight.perception.colors import COLOR_NAMES, COLOR_SYNONYMS, classify_color
from groundsight.perception.frame import Frame
from groundsight.perception.objects import Evidence, Percept, SceneObject
from groundsight.perception.perceivers.base import PerceptionError, assign_ids, frames_time
from groundsight.perception.perceivers.boxes import Box, Detection2D, clip_box, fuse, lift_box, load_pretrained
from groundsight.perception.perceivers.classical import CATALOGUE

log = logging.getLogger(__name__)

TYPES: tuple[str, ...] = tuple(m.type for m in CATALOGUE)
"""The object types the detector reports."""

SYNONYMS: dict[str, str] = {
    **COLOR_SYNONYMS,
    "cube": "block",
    "cubes": "block",
    "blocks": "block",
    "bowls": "bowl",
    "plates": "plate",
    "trays": "tray",
    "balls": "ball",
    "cylinders": "cylinder",
    "mugs": "mug",
    "cup": "mug",
    "cups": "mug",
    "sphere": "ball",
    "dish": "plate",
}
"""Words of a query phrase read as one of groundsight's colour or type words."""


def vocabulary_queries() -> list[str]:
    """Every ``"<colour> <type>"`` phrase of the vocabularies (colour-major order)."""
    return [f"{c} {t}" for c in COLOR_NAMES for t in TYPES]


def phrase_to_labels(phrase: str) -> tuple[str | None, str | None]:
    """(colour, type) named by a query phrase, each None when the phrase names none.

    Words are matched case-insensitively after :data:`SYNONYMS`; the last type word and the first colour
    word win (``"the big red cube"`` -> ``("red", "block")``).
    """
    color: str | None = None
    kind: str | None = None
    for raw in phrase.lower().replace(",", " ").replace("-", " ").split():
        word = SYNONYMS.get(raw, raw)
        if word in COLOR_NAMES and color is None:
            color = word
        elif word in TYPES:
            kind = word
    return color, kind


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.5) -> list[int]:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first.

    Args:
        boxes: Nx4 array of ``x0, y0, x1, y1``.
        scores: N scores.
        iou: a box is suppressed when its intersection over union with a kept, better box exceeds this.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(boxes) == 0:
        return []
    x0, y0, x1, y1 = boxes.T
    area = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.clip(np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]), 0, None)
        h = np.clip(np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]), 0, None)
        inter = w * h
        union = area[i] + area[rest] - inter
        overlap = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
        order = rest[overlap <= iou]
    return keep


class DetectorConfig(BaseModel):
    """Options of :class:`DetectorPerceiver`.

    ``dtype``: ``float32``, ``bfloat16`` or ``float16``; None picks ``bfloat16`` on a GPU, ``float32`` on CPU.
    ``queries``: phrases to detect; None queries the whole vocabulary (:func:`vocabulary_queries`).
    """

    model_config = ConfigDict(frozen=True)

    model: str
    device: str = "cpu"
    dtype: str | None = None
    queries: tuple[str, ...] | None = None
    query_template: str = "a photo of a {phrase}"
    threshold: float = Field(0.1, ge=0.0, le=1.0)
    nms_iou: float = Field(0.3, ge=0.0, le=1.0)
    max_detections: int = Field(50, ge=1)
    batch_size: int = Field(4, ge=1)
    table_z: float = 0.0
    min_height: float = 0.003
    max_height: float = 0.30
    fuse_distance: float = 0.04


class DetectorPerceiver:
    """Perception with an OWLv2 open-vocabulary detector; see the module's docs.

    Args:
        model: local path (or hub id) of the checkpoint (model and processor).
        device: ``cpu`` or ``cuda`` (or ``cuda:N``).
        dtype: ``float32`` / ``bfloat16`` / ``float16``; default ``bfloat16`` on a GPU, ``float32`` on CPU.
        queries: phrases to detect (None: every colour-type phrase of the vocabulary).
        config: further options (the arguments given here win).

    Raises:
        PerceptionError: the model or processor cannot be loaded (one line, naming the path), or no query
            names a known type.

    Attributes:
        last_errors: what went wrong in the latest ``perceive`` (failed forward passes, boxes without depth
            or colour), each prefixed by the camera.
        last_detections: the 2D detections of the latest ``perceive`` after NMS, one list per frame.
    """

    name = "detector"

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        dtype: str | None = None,
        queries: Sequence[str] | None = None,
        config: DetectorConfig | None = None,
    ) -> None:
        base = config.model_dump() if config else {}
        base.update(model=model, device=device)
        if dtype is not None:
            base["dtype"] = dtype
        if queries is not None:
            base["queries"] = tuple(queries)
        self.config = DetectorConfig(**base)
        self.last_errors: list[str] = []
        self.last_detections: list[list[Detection2D]] = []
        self.phrases, self.labels = self._queries()
        self._load()

    # ------------------------------------------------------------------ model

    def _queries(self) -> tuple[list[str], list[tuple[str | None, str]]]:
        phrases: list[str] = []
        labels: list[tuple[str | None, str]] = []
        for phrase in self.config.queries if self.config.queries is not None else vocabulary_queries():
            color, kind = phrase_to_labels(phrase)
            if kind is None:
                log.warning("detector: query %r names no known type (%s); not queried", phrase, ", ".join(TYPES))
                continue
            if phrase not in phrases:
                phrases.append(phrase)
                labels.append((color, kind))
        if not phrases:
            raise PerceptionError(f"detector: no query names a known type ({', '.join(TYPES)})")
        return phrases, labels

    def _load(self) -> None:
        from transformers import Owlv2ForObjectDetection, Owlv2Processor

        c = self.config
        self.processor, self.model = load_pretrained(
            Owlv2Processor, Owlv2ForObjectDetection, c.model, c.device, c.dtype, "detector"
        )
        log.info("detector: loaded %s on %s with %d queries", c.model, c.device, len(self.phrases))

    def detect(self, frames: Sequence[Frame]) -> list[list[Detection2D]]:
        """2D detections (after threshold and NMS) for each frame, in one forward pass for all of them."""
        import torch

        texts = [self.config.query_template.format(phrase=p) for p in self.phrases]
        inputs = self.processor(
            text=[texts] * len(frames), images=[f.rgb for f in frames], return_tensors="pt", truncation=True
        )
        inputs = inputs.to(self.model.device)
        for key, value in inputs.items():
            if torch.is_floating_point(value):
                inputs[key] = value.to(self.model.dtype)
        with torch.inference_mode():
            outputs = self.model(**inputs)
        outputs.logits = outputs.logits.float()
        outputs.pred_boxes = outputs.pred_boxes.float()
        sizes = [(f.intrinsics.height, f.intrinsics.width) for f in frames]
        results = self.processor.post_process_grounded_object_detection(
            outputs, threshold=self.config.threshold, target_sizes=sizes
        )
        out = []
        for result in results:
            boxes = result["boxes"].detach().cpu().numpy().reshape(-1, 4)
            scores = result["scores"].detach().cpu().numpy().reshape(-1)
            labels = result["labels"].detach().cpu().numpy().reshape(-1)
            dets = []
            for i in nms(boxes, scores, self.config.nms_iou)[: self.config.max_detections]:
                color, kind = self.labels[int(labels[i])]
                box = tuple(float(v) for v in boxes[i])
                phrase = self.phrases[int(labels[i])]
                dets.append(Detection2D(kind, color, box, float(scores[i]), phrase=phrase))  # type: ignore[arg-type]
            out.append(dets)
        return out

    # ------------------------------------------------------------------ perception

    def perceive(self, frames: Sequence[Frame]) -> Percept:
        """Detect in every frame, lift the boxes with depth, fuse cameras."""
        frames = list(frames)
        if not frames:
            raise PerceptionError("detector perceiver got no frames")
        self.last_errors = []
        detections: list[list[Detection2D]] = []
        size = self.config.batch_size
        for i in range(0, len(frames), size):
            batch = frames[i : i + size]
            try:
                detections.extend(self.detect(batch))
            except Exception as exc:  # noqa: BLE001 - a failing model is a recorded failure, not a crash
                log.warning("detector: forward pass failed for %s: %s", [f.camera for f in batch], exc)
                self.last_errors.extend(f"{f.camera}: forward pass failed: {exc}" for f in batch)
                detections.extend([] for _ in batch)
        self.last_detections = detections
        per_frame = [self.objects_from_detections(f, d) for f, d in zip(frames, detections, strict=True)]
        objects = per_frame[0] if len(per_frame) == 1 else fuse(per_frame, self.config.fuse_distance)
        for err in self.last_errors:
            log.debug("detector: %s", err)
        return Percept(
            objects=assign_ids(objects), cameras=[f.camera for f in frames], perceiver=self.name, t=frames_time(frames)
        )

    def objects_from_detections(self, frame: Frame, detections: Sequence[Detection2D]) -> list[SceneObject]:
        """Objects (ids not yet assigned) from one frame's detections; errors go to ``last_errors``."""
        k = frame.intrinsics
        out = []
        for det in detections:
            box = clip_box(det.box, k.width, k.height)
            if box is None:
                self.last_errors.append(f"{frame.camera}: {det.phrase!r} box {det.box} outside the image")
                continue
            color = det.color or _box_color(frame, box)
            if color is None:
                self.last_errors.append(f"{frame.camera}: {det.phrase!r} box {box} has no recognisable colour")
                continue
            lifted = lift_box(
                frame, box, table_z=self.config.table_z, min_height=self.config.min_height,
                max_height=self.config.max_height,
            )  # fmt: skip
            if lifted is None:
                self.last_errors.append(f"{frame.camera}: {det.phrase!r} box {box} has no depth")
                continue
            area = (box[2] - box[0]) * (box[3] - box[1])
            out.append(
                SceneObject(
                    id=f"{color}_{det.type}",
                    type=det.type,
                    color=color,
                    position=lifted.position,
                    extent=lifted.extent,
                    confidence=round(float(np.clip(det.confidence, 0.0, 1.0)), 4),
                    evidence=(Evidence(camera=frame.camera, box=box, pixels=lifted.pixels or area),),
                )
            )
        return out


def _box_color(frame: Frame, box: Box) -> str | None:
    """Colour of the median pixel of the central half of ``box`` (for queries that name no colour)."""
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) // 4, (y1 - y0) // 4
    patch = frame.rgb[y0 + dy : max(y1 - dy, y0 + dy + 1), x0 + dx : max(x1 - dx, x0 + dx + 1)]
    if patch.size == 0:
        return None
    return classify_color(np.median(patch.reshape(-1, 3).astype(np.float64), axis=0))
