"""The verifier: every claim of a chain of thought is checked before the robot moves.

Each check has a name that appears in the trace. A claim is checked against (a) the percept's evidence
and geometry, (b) the knowledge graph (SPARQL for affordances, SHACL shapes for the state the plan leads
to), and (c) the plan's symbolic preconditions and effects. A failed check says what the agent does next
(:data:`groundsight.reasoning.thought.Outcome`).

Checks, in the order they are reported: ``instruction_understood``; ``reading_matches_grammar`` (only when a
language model gave the program and the grammar can read the instruction too); per binding ``referent_exists``,
``referent_unique``, ``claim_matches`` (only for a language model's claims) and ``evidence_grounded``;
``goal_defined``; per goal atom ``distinct_referents``, ``target_affords_relation``, ``object_graspable``,
``fits_gripper``, ``fits_target``; ``reachable`` per object involved; ``plan_found``, ``plan_valid``,
``state_valid``. After acting: ``effect_observed`` and ``goal_observed``.

Before reasoning on a look, :meth:`Verifier.screen` re-measures every object claim of the percept in its
evidence box (``claim_remeasured``: colour from the pixels, presence, type and centre from the depth) and
looks for objects the depth shows that no claim stands for (``nothing_missed``). A contradicted claim is
replaced by what the box re-measures (or dropped, when the box shows only table), and a missed object is
added as measured; with verification on, the agent reasons on the repaired look (:meth:`Runtime.look`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from groundsight.knowledge import KnowledgeBase
from groundsight.perception.evidence import DepthProbe
from groundsight.perception.frame import Frame
from groundsight.perception.identity import covered
from groundsight.perception.objects import Evidence, Percept, SceneObject
from groundsight.perception.perceivers.base import assign_ids
from groundsight.perception.relations import RELATIONS
from groundsight.reasoning.logical_form import meaning
from groundsight.reasoning.placement import true_sides
from groundsight.reasoning.predicates import Atom
from groundsight.reasoning.referents import describe
from groundsight.reasoning.thought import Binding, CheckResult, Thought

GRIPPER_MAX_WIDTH = 0.075
"""Widest object (m) the parallel gripper can close on."""
REACH = (0.25, 0.80)
"""Horizontal distance (m) from the robot base within which a top-down grasp or placement is possible
for the Panda; the robot's skills check exact reachability again with inverse kinematics."""
MIN_CONFIDENCE = 0.5
MIN_EVIDENCE_PIXELS = 30
NAMED_PLACE = "named place"
"""The camera name of a named place's evidence: a place the host world exports ("the target"), which no camera
sees; it rests on the host's word, not on pixels (see :mod:`groundsight.agent.hosts`)."""
GEOMETRY = ("position", "extent", "yaw", "evidence")
"""What a claim the screen confirms takes from its re-measurement (the claim keeps type, colour and size)."""

ColourProbe = Callable[[Frame, Evidence, str], str | None]
"""Re-measures a claimed colour in a piece of image evidence: None if the pixels support it, else what
they show instead (see :func:`groundsight.perception.evidence.colour_contradiction`)."""


def humanize(text: str, percept: Percept, ids: Sequence[str] = ()) -> str:
    """``text`` with every object id (those of ``percept`` and ``ids``) replaced by :func:`describe`."""
    names = sorted({*percept.ids, *ids}, key=len, reverse=True)
    if not names or not text:
        return text
    pattern = re.compile(r"(?<![\w])(" + "|".join(re.escape(n) for n in names) + r")(?![\w])")
    return pattern.sub(lambda m: describe(m.group(1), percept), text)


def clarification_question(binding: Binding, percept: Percept) -> str:
    """A question that names every candidate as a person would, e.g. 'Which blue bowl do you mean: the one on
    the left or the one on the right?' (never an internal id)."""
    objs = [percept.by_id(c) for c in binding.candidates]
    noun = binding.text.removeprefix("the ")
    if len(objs) == 2:
        a, b = sorted(objs, key=lambda o: -o.position[1])
        if abs(a.position[1] - b.position[1]) > 0.05:
            return f"Which {noun} do you mean: the one on the left or the one on the right?"
        return f"Which {noun} do you mean: the one in front or the one behind?"
    names = [describe(o.id, percept) for o in sorted(objs, key=lambda o: -o.position[1])]
    return f"Which {noun} do you mean: " + ", ".join(names[:-1]) + f" or {names[-1]}?"


class _RememberedProbe:
    """A colour probe that answers each (frame, evidence, colour) once: the screen and the ``evidence_grounded``
    checks of every decision on the same look ask the same questions of the same frame. Entries hold their frame,
    so an id is never mistaken for a later frame's; the memory is emptied when it grows large."""

    LIMIT = 256

    def __init__(self, probe: ColourProbe) -> None:
        self.probe = probe
        self.answers: dict[tuple[int, Evidence, str], tuple[Frame, str | None]] = {}

    def __call__(self, frame: Frame, evidence: Evidence, claimed: str) -> str | None:
        key = (id(frame), evidence, claimed)
        known = self.answers.get(key)
        if known is not None and known[0] is frame:
            return known[1]
        if len(self.answers) >= self.LIMIT:
            self.answers.clear()
        answer = self.probe(frame, evidence, claimed)
        self.answers[key] = (frame, answer)
        return answer


@dataclass
class Screen:
    """What :meth:`Verifier.screen` found in one look.

    Attributes:
        checks: one ``claim_remeasured`` per object claim it could re-measure, one ``nothing_missed`` per
            object the depth shows that no claim stands for.
        objects: the claims to reason on: contradicted ones replaced by the re-measured object (or dropped
            when the box shows only table), plus the objects the depth shows that no claim stands for.
        changed: ``objects`` differ from the percept's.
        doubtful: a claim was contradicted or an object unclaimed: this look's perceiver is not to be trusted.
        not_run: the checks that could not run and why (a camera without depth: presence, type and position
            are not re-measured there, only colours); also recorded as a ``screen_scope`` check.
    """

    checks: list[CheckResult] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    objects: list[SceneObject] = field(default_factory=list)
    changed: bool = False
    doubtful: bool = False


class Verifier:
    """Checks a :class:`Thought` against the percept, the knowledge base and the plan.

    Args:
        kb: the knowledge base (affordances, shapes).
        colour_probe: re-measures a claimed colour in its evidence (None: colours are not re-measured).
        depth_probe: re-measures presence, type and position from depth (``"auto"``: a
            :class:`~perception.evidence.DepthProbe`; None: no depth re-measurement).
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        colour_probe: ColourProbe | None = None,
        depth_probe: DepthProbe | Literal["auto"] | None = "auto",
    ) -> None:
        self.kb = kb
        self.colour_probe = _RememberedProbe(colour_probe) if colour_probe is not None else None
        self.depth_probe = DepthProbe() if depth_probe == "auto" else depth_probe

    # ---- screening a look -----------------------------------------------------------------------
    def screen(self, percept: Percept, frames: Sequence[Frame]) -> Screen:
        """Re-measure every claim of ``percept`` in ``frames`` and repair what the evidence contradicts.

        A claim whose box the depth contradicts (only table; another type; a centre more than
        :data:`~perception.evidence.POSITION_TOLERANCE` off; pixels of another colour) is replaced by the
        re-measured object or dropped; an object the depth shows that no claim stands for is added. A claim
        the re-measurement confirms keeps what it claims (type, colour, size) and takes the measured geometry
        and pixel box (:data:`GEOMETRY`): a box-lifting perceiver puts every object's bottom on the table and
        may box a block on a plate together with the plate. When anything changed, the objects are named
        afresh (:func:`assign_ids`).
        """
        out = Screen()
        probe = self.depth_probe
        by_camera = {f.camera: f for f in frames if f.depth is not None}
        flat = {f.camera: f for f in frames if f.depth is None}
        if flat and probe is not None:
            self._colours_only(percept, flat, out)
        if probe is None or not by_camera:
            out.objects = assign_ids(out.objects or list(percept.objects)) if out.changed else list(percept.objects)
            return out
        percept = percept.model_copy(update={"objects": out.objects}) if out.changed else percept
        objects: list[SceneObject] = []
        matched: list[SceneObject] = []  # the re-measured objects some claim stands for
        for obj in percept.objects:
            ev = next((e for e in obj.evidence if e.camera in by_camera), None)
            if ev is None:
                objects.append(obj)
                continue
            frame = by_camera[ev.camera]
            found, problems = probe.contradictions(frame, ev, obj)
            matched += [found] if found is not None else []
            measured = self.colour_probe(frame, ev, obj.color) if self.colour_probe is not None else None
            if measured is not None and found is not None and found.color != obj.color:
                problems.insert(0, f"the pixels look {found.color}, not {obj.color}")
            claim = f"{obj.id} is a {obj.description} at x={obj.position[0]:.3f}, y={obj.position[1]:+.3f}"
            if not problems:
                out.checks.append(CheckResult(name="claim_remeasured", claim=claim, passed=True))
                if found is not None:  # the claim stands, with the measured geometry and pixel box
                    refined = obj.model_copy(update={k: getattr(found, k) for k in GEOMETRY})
                    out.changed = out.changed or refined != obj
                    obj = refined
                objects.append(obj)
                continue
            out.doubtful = out.changed = True
            if found is None:
                action = "dropped"
            else:
                action = f"taken as the re-measured {found.description}"
                keys = ("type", "color", "size", "confidence", *GEOMETRY)
                objects.append(obj.model_copy(update={k: getattr(found, k) for k in keys}))
            out.checks.append(
                CheckResult(
                    name="claim_remeasured",
                    claim=claim,
                    passed=False,
                    reason="; ".join(problems) + f" ({action})",
                    on_fail="reperceive",
                )
            )
        for det in probe.unclaimed([by_camera[c] for c in sorted(by_camera)], objects, matched):
            out.doubtful = out.changed = True
            objects.append(det)
            where = f"x={det.position[0]:.3f}, y={det.position[1]:+.3f}"
            out.checks.append(
                CheckResult(
                    name="nothing_missed",
                    claim="every object the depth shows is in the percept",
                    passed=False,
                    reason=f"the depth shows a {det.description} at {where} that the percept does not list (added)",
                    on_fail="reperceive",
                    facts=("missing",),
                )
            )
        out.objects = assign_ids(objects) if out.changed else list(percept.objects)
        return out

    def _colours_only(self, percept: Percept, flat: dict[str, Frame], out: Screen) -> None:
        """Screen the claims seen by cameras without depth as far as colour allows (see :meth:`screen`).

        Records what could not run (presence, type, position, missed objects) in ``out.not_run`` and as a
        ``screen_scope`` check; a claim whose pixels show another colour takes that colour."""
        from groundsight.perception.colors import COLOR_NAMES

        cameras = ", ".join(sorted(flat))
        ran = "colours re-measured" if self.colour_probe is not None else "nothing re-measured"
        out.not_run.append(
            f"presence, type and position not re-measured, missed objects not sought: no depth from {cameras}"
        )
        out.checks.append(
            CheckResult(
                name="screen_scope",
                claim=f"{ran}; presence, type, position and missed objects not checked: no depth from {cameras}",
                passed=True,
            )
        )
        objects = []
        for obj in percept.objects:
            ev = next((e for e in obj.evidence if e.camera in flat), None)
            seen = (
                None if ev is None or self.colour_probe is None else self.colour_probe(flat[ev.camera], ev, obj.color)
            )
            if seen is not None and seen in COLOR_NAMES:
                out.doubtful = out.changed = True
                out.checks.append(
                    CheckResult(
                        name="claim_remeasured",
                        claim=f"{obj.id} is {obj.color}",
                        passed=False,
                        reason=f"the pixels look {seen}, not {obj.color} (colour only: no depth; taken as {seen})",
                        on_fail="reperceive",
                    )
                )
                obj = obj.model_copy(update={"color": seen})
            elif ev is not None and self.colour_probe is not None:
                out.checks.append(CheckResult(name="claim_remeasured", claim=f"{obj.id} is {obj.color}", passed=True))
            objects.append(obj)
        out.objects = objects

    # ---- before acting --------------------------------------------------------------------------
    def check(
        self, thought: Thought, percept: Percept, frames: Sequence[Frame] = (), doubtful: bool = False
    ) -> list[CheckResult]:
        """All checks of a thought, in the order they are reported. ``doubtful``: the look's screen found
        something wrong (:attr:`Screen.doubtful`), so an absent referent means "look again", not "refuse"."""
        if thought.program is None:
            return [
                CheckResult(
                    name="instruction_understood",
                    claim="the instruction is in the language",
                    passed=False,
                    reason=thought.parse_error or "no meaning was given",
                )
            ]
        results = [CheckResult(name="instruction_understood", claim="the instruction parses", passed=True)]
        if thought.reading is not None:
            results.append(
                CheckResult(
                    name="reading_matches_grammar",
                    claim="the model's reading of the instruction is the grammar's",
                    passed=meaning(thought.reading) == meaning(thought.program),
                    reason=f"the grammar reads the instruction as {thought.reading.model_dump_json(exclude_none=True)}",
                )
            )
        for binding in thought.bindings:
            results.extend(self._binding_checks(binding, percept, frames, doubtful))
        if any(b.problem != "ok" for b in thought.bindings):
            return results
        results.append(
            CheckResult(
                name="goal_defined",
                claim="the instruction gives a goal over what I see",
                passed=thought.goal_error is None,
                reason=thought.goal_error or "",
            )
        )
        if thought.goal_error is not None:
            return results
        atoms = thought.goal_atoms
        gone = [oid for oid in dict.fromkeys(arg for a in atoms for arg in a.args) if oid not in percept.ids]
        if gone:
            return [
                *results,
                CheckResult(
                    name="referent_exists",
                    claim=f"{', '.join(gone)} still in view",
                    passed=False,
                    reason="I no longer see " + ", ".join(describe(oid, percept) for oid in gone),
                    on_fail="reperceive",
                ),
            ]
        for a in atoms:
            results.extend(self._atom_checks(a, percept))
        involved = dict.fromkeys(arg for a in atoms for arg in a.args)
        involved.update(dict.fromkeys(s.target for s in thought.plan if s.target))
        results.extend(self._reachable(percept.by_id(oid), percept) for oid in involved)
        results.extend(self._plan_checks(thought, percept))
        return _unique(results)

    def _binding_checks(
        self, binding: Binding, percept: Percept, frames: Sequence[Frame], doubtful: bool = False
    ) -> list[CheckResult]:
        text = binding.text
        if binding.problem == "absent":
            outcome: Literal["refuse", "reperceive"] = "reperceive" if doubtful else "refuse"
            return [
                CheckResult(
                    name="referent_exists",
                    claim=f"{text} is in view",
                    passed=False,
                    reason=binding.reason,
                    on_fail=outcome,
                )
            ]
        out = [CheckResult(name="referent_exists", claim=f"{text} is in view", passed=True)]
        if binding.problem == "ambiguous":
            out.append(
                CheckResult(
                    name="referent_unique",
                    claim=f"'{text}' picks out what it should",
                    passed=False,
                    reason=clarification_question(binding, percept),
                    on_fail="ask",
                    candidates=tuple(binding.candidates),
                )
            )
            return out
        out.append(
            CheckResult(
                name="referent_unique",
                claim=f"'{text}' is {', '.join(binding.chosen)}",
                passed=True,
                facts=(f"answered: {binding.answer}",) if binding.answer else (),
            )
        )
        if binding.claimed is not None:
            out.append(
                CheckResult(
                    name="claim_matches",
                    claim=f"the model's '{text}' = {', '.join(binding.claimed) or 'nothing'}",
                    passed=sorted(binding.claimed) == sorted(binding.chosen),
                    reason=f"what I see makes '{text}' {', '.join(binding.chosen)}, "
                    f"not {', '.join(binding.claimed) or 'nothing'}",
                )
            )
        # an object no longer in view (after an action) is reported by the goal's referent_exists check
        chosen = [percept.by_id(oid) for oid in binding.chosen if oid in percept.ids]
        out.extend(self._grounded(obj, frames, percept.objects) for obj in chosen)
        return out

    def _grounded(self, obj: SceneObject, frames: Sequence[Frame], scene: Sequence[SceneObject] = ()) -> CheckResult:
        """The object's claim rests on image evidence: confident, enough pixels, colour re-measured (not when
        another object of ``scene`` now rests on it: its box then shows that one)."""
        if obj.evidence and all(e.camera == NAMED_PLACE for e in obj.evidence):
            claim = f"{obj.id} is a place the host names"
            return CheckResult(name="evidence_grounded", claim=claim, passed=True, facts=("named by the host",))
        claim = f"{obj.id} is a {obj.description} seen in the image"
        pixels = sum(e.pixels for e in obj.evidence)
        if obj.confidence < MIN_CONFIDENCE or pixels < MIN_EVIDENCE_PIXELS:
            reason = f"weak evidence (confidence {obj.confidence:.2f}, {pixels} pixels)"
            return CheckResult(name="evidence_grounded", claim=claim, passed=False, reason=reason, on_fail="reperceive")
        if self.colour_probe is not None and not covered(obj, [o for o in scene if o.id != obj.id]):
            by_camera = {f.camera: f for f in frames}
            for ev in obj.evidence:
                frame = by_camera.get(ev.camera)
                measured = self.colour_probe(frame, ev, obj.color) if frame is not None else None
                if measured is not None:
                    reason = f"the pixels in {ev.camera} box {list(ev.box)} look {measured}, not {obj.color}"
                    return CheckResult(
                        name="evidence_grounded", claim=claim, passed=False, reason=reason, on_fail="reperceive"
                    )
        return CheckResult(name="evidence_grounded", claim=claim, passed=True, facts=(f"{pixels} evidence pixels",))

    def _atom_checks(self, a: Atom, percept: Percept) -> list[CheckResult]:
        moved = percept.by_id(a.args[0])
        out: list[CheckResult] = []
        if len(a.args) == 2:
            target = percept.by_id(a.args[1])
            out.append(
                CheckResult(
                    name="distinct_referents",
                    claim=f"{moved.id} and {target.id} are different objects",
                    passed=moved.id != target.id,
                    reason=f"an object cannot be put {a.predicate.replace('_', ' ')} itself",
                )
            )
            if a.predicate in ("inside", "on"):
                out.append(self._affords(target.type, a.predicate))
                out.append(self._fits_target(moved, target, a.predicate, percept))
        answer = self.kb.graspable(moved.type)
        out.append(
            CheckResult(
                name="object_graspable",
                claim=f"a {moved.type} can be picked up",
                passed=answer.value,
                reason=f"a {moved.type} is not graspable by this robot",
                facts=answer.facts,
            )
        )
        out.append(self._fits_gripper(moved, percept))
        return out

    def _affords(self, target_type: str, relation: str) -> CheckResult:
        answer = self.kb.affords(target_type, relation)
        kind = "container" if relation == "inside" else "support surface"
        return CheckResult(
            name="target_affords_relation",
            claim=f"a {target_type} can have things put {relation} it",
            passed=answer.value,
            reason=f"a {target_type} is not a {kind}, so nothing can be put {relation} it",
            facts=answer.facts,
        )

    def _reachable(self, obj: SceneObject, percept: Percept) -> CheckResult:
        distance = float(np.hypot(obj.position[0], obj.position[1]))
        return CheckResult(
            name="reachable",
            claim=f"{obj.id} ({distance:.2f} m from the robot base) is within reach",
            passed=REACH[0] <= distance <= REACH[1],
            reason=f"{describe(obj.id, percept)} is {distance:.2f} m from the robot base; "
            f"the arm reaches {REACH[0]:.2f}-{REACH[1]:.2f} m",
        )

    def _fits_gripper(self, obj: SceneObject, percept: Percept) -> CheckResult:
        width = min(true_sides(obj, obj.yaw))
        return CheckResult(
            name="fits_gripper",
            claim=f"{obj.id} ({width * 100:.1f} cm wide) fits the gripper",
            passed=width <= GRIPPER_MAX_WIDTH,
            reason=f"{describe(obj.id, percept)} is {width * 100:.1f} cm wide; "
            f"the gripper opens {GRIPPER_MAX_WIDTH * 100:.1f} cm",
        )

    def _fits_target(self, obj: SceneObject, target: SceneObject, relation: str, percept: Percept) -> CheckResult:
        size = max(obj.extent[0], obj.extent[1])
        room = min(target.extent[0], target.extent[1]) - (0.02 if relation == "inside" else 0.0)
        return CheckResult(
            name="fits_target",
            claim=f"{obj.id} ({size * 100:.1f} cm) fits {relation} {target.id} ({room * 100:.1f} cm)",
            passed=size <= room or relation == "on",
            reason=f"{describe(obj.id, percept)} is larger than the inside of {describe(target.id, percept)}",
        )

    def _plan_checks(self, thought: Thought, percept: Percept) -> list[CheckResult]:
        if thought.plan_error is not None:
            return [
                CheckResult(name="plan_found", claim="a plan reaches the goal", passed=False, reason=thought.plan_error)
            ]
        out = [
            CheckResult(name="plan_found", claim=f"a plan of {len(thought.plan)} steps reaches the goal", passed=True),
            CheckResult(
                name="plan_valid",
                claim="every step's preconditions hold in turn and the goal holds at the end",
                passed=not thought.plan_problems,
                reason="; ".join(thought.plan_problems),
            ),
        ]
        out.append(self._state_valid(thought, percept))
        return out

    def _state_valid(self, thought: Thought, percept: Percept) -> CheckResult:
        """SHACL shapes over the state the whole plan leads to (predicted from the plan's effects), checked before
        the first motion. A violation the camera already shows now (an object the arm left sticking out of a
        bowl, which the plan is about to fix) is not the plan's doing and does not stop it."""
        relations = _predicted_relations(thought, percept)
        violations = self.kb.validate_state(percept.objects, relations)
        if violations:
            now = {(v.shape, v.focus, v.value) for v in self.kb.validate_state(percept.objects, _perceived(percept))}
            violations = [v for v in violations if (v.shape, v.focus, v.value) not in now]
        return CheckResult(
            name="state_valid",
            claim="the state the plan leads to satisfies the knowledge graph's shapes",
            passed=not violations,
            reason="; ".join(humanize(v.message, percept) for v in violations),
            facts=tuple(f"{v.shape}: {v.focus}" for v in violations),
        )

    # ---- after acting ---------------------------------------------------------------------------
    def effect_observed(self, effect: Atom, percept: Percept) -> CheckResult:
        """Does the new percept show a place step's expected effect (a relation between two objects)?"""
        claim = f"{effect.text} in the new image"
        missing = [i for i in effect.args if i not in percept.ids]
        if missing:
            return CheckResult(
                name="effect_observed",
                claim=claim,
                passed=False,
                reason="after the action I cannot find " + ", ".join(describe(i, percept) for i in missing),
                on_fail="reperceive",
            )
        a, b = (percept.by_id(i) for i in effect.args)
        return CheckResult(
            name="effect_observed",
            claim=claim,
            passed=RELATIONS[effect.predicate](a, b),
            reason=f"{describe(a.id, percept)} is not {effect.predicate.replace('_', ' ')} "
            f"{describe(b.id, percept)} in the new image",
            on_fail="reperceive",
        )


def _perceived(percept: Percept, moved: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, str, str]]:
    """The on/inside triples the percept shows, leaving out those of the ``moved`` objects."""
    return [
        (a, r, b)
        for a in percept.ids
        for b in percept.ids
        for r in ("on", "inside")
        if a != b and a not in moved and RELATIONS[r](percept.by_id(a), percept.by_id(b))
    ]


def _predicted_relations(thought: Thought, percept: Percept) -> list[tuple[str, str, str]]:
    """on/inside triples after the plan: perceived ones, minus those of moved objects, plus the plan's."""
    out = _perceived(percept, {s.object for s in thought.plan})
    last: dict[str, tuple[str, str, str]] = {}
    for step in thought.plan:
        if step.skill == "place" and step.relation in ("on", "inside") and step.target:
            last[step.object] = (step.object, step.relation, step.target)
        elif step.skill != "place":
            last.pop(step.object, None)
    return out + list(last.values())


def _unique(results: list[CheckResult]) -> list[CheckResult]:
    """Drop repeated identical checks (an object in two goal atoms is checked once)."""
    return list(dict.fromkeys(results))


def decide(results: Sequence[CheckResult]) -> CheckResult | None:
    """The failed check that decides what happens next: refusals first, then questions, then re-looks."""
    for outcome in ("refuse", "ask", "reperceive"):
        for r in results:
            if not r.passed and r.on_fail == outcome:
                return r
    return None
