"""Perception on foreign scenes: PyBullet renders that share nothing with groundsight's own simulator.

Usage::

    python -m benchmarks.foreign_scenes [--scenes 200] [--seed 0] [--perceivers classical oracle] [--rgb-only]
                                        [--robot-mask]

Every scene is built in a bare PyBullet client (DIRECT, TinyRenderer), not through ``groundsight.sim``:

- **support**: pybullet_data's white/blue checkered ``plane.urdf``, its wooden ``table/table.urdf``, or a flat
  table top of a random colour (light grey, wood brown, dark, or any), always with its top at world z = 0 (the
  calibration's world frame);
- **objects**: 3-6 of block (cube 3.5-6.5 cm), cylinder, ball and low bowl (0.10-0.13 m wide, 0.03-0.04 m
  tall, a floor and wall segments), sizes off groundsight's catalogue, coloured from Ravens'/CLIPort's palette
  (:data:`PALETTE`) jittered by up to +-:data:`COLOUR_JITTER` per channel around every colour name;
- **camera**: one per scene, cycling ``top``, ``front`` (oblique from across the table) and ``side``, the pose
  jittered, RealSense-like intrinsics (640x480, focal 450-620 px); the calibration (intrinsics and
  ``T_world_cam``, OpenCV convention) is known exactly, as a calibration file would give it;
- **light**: direction, colour, ambient, diffuse and specular drawn at random, shadows on or off;
- **distractors**: a KUKA iiwa (``kuka_iiwa/model.urdf``) or a Franka Panda (``franka_panda/panda.urdf``) in a
  random pose next to the workspace.

An object counts as a true object of a frame when at least :data:`MIN_VISIBLE` of its pixels show. Perceived
objects are matched and scored with :mod:`benchmarks.perception_quality`'s functions (greedy on 3D distance,
gated at 5 cm): precision, recall, colour and type accuracy and 3D error, overall, by view and by colour.
``oracle`` reports the visible truth (the upper bound).

``--rgb-only`` drops the depth from every frame (a webcam with a calibration): perceivers that take a
calibration's options are told to lift RGB-only frames onto the support plane (``ClassicalConfig.lift_rgb``,
what ``groundsight camera --calibration`` sets); the scenes, the truth and the scoring are the same.
``--robot-mask`` gives every frame the robot's own pixels (``Frame.robot_mask``), as our simulator and a robot
interface that knows its links' poses do; without it the perceiver sees an unknown robot.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pybullet as p
import pybullet_data

from benchmarks.perception_quality import Tally, match, score
from groundsight.perception.frame import CameraIntrinsics, Frame
from groundsight.perception.objects import SceneObject
from groundsight.perception.perceivers import OraclePerceiver, Perceiver, make_perceiver
from groundsight.perception.perceivers.oracle import TruthObject

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (239, 81, 83),
    "green": (89, 161, 79),
    "blue": (78, 121, 167),
    "orange": (242, 142, 43),
    "yellow": (237, 201, 72),
    "purple": (176, 122, 161),
    "pink": (255, 157, 167),
    "cyan": (118, 183, 178),
    "brown": (156, 117, 95),
    "gray": (186, 176, 172),
    "white": (240, 240, 235),
}
"""Ravens'/CLIPort's colours (0..255 albedo), the colour name each stands for."""
COLOUR_JITTER = 15
"""Each channel of an object's albedo is the palette's plus a uniform draw in +-this (0..255 units)."""
VIEWS = ("top", "front", "side")
TYPES = ("block", "cylinder", "ball", "bowl")
MIN_VISIBLE = 150
"""Pixels an object needs in the frame to count as a true object of it."""
WIDTH, HEIGHT, NEAR, FAR = 640, 480, 0.05, 4.0


@dataclass
class ForeignScene:
    """One rendered foreign scene: its frame, the visible truth, and how it was built."""

    frame: Frame
    truths: list[TruthObject]
    view: str
    support: str
    robot: str
    robot_body: int = -1
    """The robot's body id in ``frame.segmentation`` (for ``--robot-mask``)."""


class _Truth:
    """Truth source of one scene for the oracle perceiver."""

    def __init__(self, truths: list[TruthObject]) -> None:
        self.truths = truths

    def truth_objects(self) -> list[TruthObject]:
        return self.truths


# ---------------------------------------------------------------------------------------------------- scene parts


def _albedo(rng: np.random.Generator, name: str) -> list[float]:
    base = np.asarray(PALETTE[name], dtype=np.float64)
    rgb = np.clip(base + rng.uniform(-COLOUR_JITTER, COLOUR_JITTER, 3), 0, 255) / 255.0
    return [*rgb.tolist(), 1.0]


def _support(client: int, rng: np.random.Generator) -> str:
    """Floor and table; the support surface's top is at z = 0. Returns its description."""
    kind = rng.choice(["checker", "wood", "flat"], p=[0.35, 0.25, 0.4])
    if kind == "checker":
        p.loadURDF("plane.urdf", physicsClientId=client)
        return "checker plane"
    p.loadURDF("plane.urdf", [0, 0, -0.7], physicsClientId=client)
    if kind == "wood":
        table = p.loadURDF("table/table.urdf", [0.5, 0, 0], physicsClientId=client)
        top = p.getAABB(table, -1, physicsClientId=client)[1][2]
        p.resetBasePositionAndOrientation(table, [0.5, 0, -top], [0, 0, 0, 1], physicsClientId=client)
        return "wooden table"
    tones = {"light grey": (0.78, 0.78, 0.76), "wood brown": (0.55, 0.38, 0.22), "dark": (0.12, 0.12, 0.13)}
    tone = rng.choice([*tones, "random"])
    colour = tones.get(str(tone), tuple(rng.uniform(0.1, 0.9, 3)))
    half = [0.5, 0.7, 0.02]
    shape = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=[*colour, 1], physicsClientId=client)
    p.createMultiBody(0, -1, shape, [0.55, 0, -half[2]], physicsClientId=client)
    return f"{tone} table"


def _body(
    client: int, parts: list[tuple[int, dict, list[float]]], rgba: list[float], base: list[float], yaw: float
) -> int:
    """A static multi-part body (geometry, shape arguments, position) of one colour."""
    shapes = [
        p.createVisualShape(g, rgbaColor=rgba, visualFramePosition=pos, physicsClientId=client, **kw)
        for g, kw, pos in parts
    ]
    orn = p.getQuaternionFromEuler([0, 0, yaw])
    if len(shapes) == 1:
        return p.createMultiBody(0, -1, shapes[0], base, orn, physicsClientId=client)
    n = len(shapes) - 1
    return p.createMultiBody(
        0,
        -1,
        shapes[0],
        base,
        orn,
        linkMasses=[0] * n,
        linkCollisionShapeIndices=[-1] * n,
        linkVisualShapeIndices=shapes[1:],
        linkPositions=[[0, 0, 0]] * n,
        linkOrientations=[[0, 0, 0, 1]] * n,
        linkInertialFramePositions=[[0, 0, 0]] * n,
        linkInertialFrameOrientations=[[0, 0, 0, 1]] * n,
        linkParentIndices=[0] * n,
        linkJointTypes=[p.JOINT_FIXED] * n,
        linkJointAxis=[[0, 0, 1]] * n,
        physicsClientId=client,
    )


def _object(client: int, rng: np.random.Generator, kind: str, xy: np.ndarray, rgba: list[float]) -> tuple[int, tuple]:
    """Build one object standing on z = 0; returns its body and its (x, y, z) extent."""
    yaw = float(rng.uniform(-math.pi, math.pi))
    if kind == "block":
        side = float(rng.uniform(0.035, 0.065))
        parts = [(p.GEOM_BOX, {"halfExtents": [side / 2] * 3}, [0, 0, side / 2])]
        c, s = abs(math.cos(yaw)), abs(math.sin(yaw))
        extent = (side * (c + s), side * (c + s), side)
    elif kind == "cylinder":
        r, h = float(rng.uniform(0.02, 0.032)), float(rng.uniform(0.04, 0.09))
        parts = [(p.GEOM_CYLINDER, {"radius": r, "length": h}, [0, 0, h / 2])]
        extent = (2 * r, 2 * r, h)
    elif kind == "ball":
        r = float(rng.uniform(0.018, 0.032))
        parts = [(p.GEOM_SPHERE, {"radius": r}, [0, 0, r])]
        extent = (2 * r, 2 * r, 2 * r)
    else:  # a low bowl: a floor and 14 wall segments
        r, h, wall = float(rng.uniform(0.05, 0.065)), float(rng.uniform(0.03, 0.04)), 0.006
        parts = [(p.GEOM_CYLINDER, {"radius": r - wall / 2, "length": 0.005}, [0, 0, 0.0025])]
        for k in range(14):
            a = 2 * math.pi * k / 14
            seg = 2 * r * math.sin(math.pi / 14) + 0.002
            parts.append(
                (
                    p.GEOM_BOX,
                    {"halfExtents": [wall / 2, seg / 2, h / 2]},
                    [(r - wall / 2) * math.cos(a), (r - wall / 2) * math.sin(a), h / 2],
                )
            )
        extent = (2 * r, 2 * r, h)
    body = _bowl(client, parts, rgba, xy, yaw) if kind == "bowl" else _body(client, parts, rgba, [*xy, 0.0], yaw)
    return body, extent


def _bowl(client: int, parts: list, rgba: list[float], xy: np.ndarray, yaw: float) -> int:
    """A bowl: the floor as the base, each wall segment a link turned to face the centre."""
    floor = p.createVisualShape(
        p.GEOM_CYLINDER, rgbaColor=rgba, visualFramePosition=parts[0][2], physicsClientId=client, **parts[0][1]
    )
    walls = []
    positions = []
    orientations = []
    for g, kw, pos in parts[1:]:
        walls.append(p.createVisualShape(g, rgbaColor=rgba, physicsClientId=client, **kw))
        positions.append(pos)
        orientations.append(p.getQuaternionFromEuler([0, 0, math.atan2(pos[1], pos[0])]))
    n = len(walls)
    return p.createMultiBody(
        0,
        -1,
        floor,
        [*xy, 0.0],
        p.getQuaternionFromEuler([0, 0, yaw]),
        linkMasses=[0] * n,
        linkCollisionShapeIndices=[-1] * n,
        linkVisualShapeIndices=walls,
        linkPositions=positions,
        linkOrientations=orientations,
        linkInertialFramePositions=[[0, 0, 0]] * n,
        linkInertialFrameOrientations=[[0, 0, 0, 1]] * n,
        linkParentIndices=[0] * n,
        linkJointTypes=[p.JOINT_FIXED] * n,
        linkJointAxis=[[0, 0, 1]] * n,
        physicsClientId=client,
    )


def _robot(client: int, rng: np.random.Generator) -> tuple[str, int]:
    """A KUKA iiwa or a Franka Panda next to the workspace, joints at random; returns its name and body."""
    name, urdf = ("kuka iiwa", "kuka_iiwa/model.urdf") if rng.random() < 0.5 else ("panda", "franka_panda/panda.urdf")
    base = [float(rng.uniform(-0.05, 0.1)), float(rng.uniform(-0.35, 0.35)), 0.0]
    robot = p.loadURDF(
        urdf, base, p.getQuaternionFromEuler([0, 0, rng.uniform(-0.6, 0.6)]), useFixedBase=True, physicsClientId=client
    )
    for j in range(p.getNumJoints(robot, physicsClientId=client)):
        info = p.getJointInfo(robot, j, physicsClientId=client)
        if info[2] == p.JOINT_REVOLUTE:
            lo, hi = (info[8], info[9]) if info[9] > info[8] else (-math.pi, math.pi)
            p.resetJointState(robot, j, float(rng.uniform(0.5 * lo, 0.5 * hi)), physicsClientId=client)
    # keep the arm up and back (shoulder bent back) so that it is in view without burying the objects
    p.resetJointState(robot, 1, float(rng.uniform(-0.9, -0.2)), physicsClientId=client)
    return name, robot


def _camera(rng: np.random.Generator, view: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Eye, target, up and focal length (pixels) of a camera at ``view``, jittered."""
    target = np.array([0.52, 0.0, 0.0]) + rng.uniform(-0.04, 0.04, 3) * [1, 1, 0]
    if view == "top":
        eye = target + np.array([rng.uniform(-0.06, 0.06), rng.uniform(-0.06, 0.06), rng.uniform(0.75, 1.05)])
        up = np.array([1.0, rng.uniform(-0.3, 0.3), 0.0])
    elif view == "front":  # across the table, facing the robot, 35-55 degrees down
        dist, elev, az = rng.uniform(0.65, 0.9), math.radians(rng.uniform(35, 55)), math.radians(rng.uniform(-20, 20))
        eye = target + dist * np.array([math.cos(elev) * math.cos(az), math.cos(elev) * math.sin(az), math.sin(elev)])
        up = np.array([0.0, 0.0, 1.0])
    else:  # from the left or the right side
        sign = 1 if rng.random() < 0.5 else -1
        dist, elev, az = rng.uniform(0.65, 0.9), math.radians(rng.uniform(35, 55)), math.radians(rng.uniform(-15, 15))
        eye = target + dist * np.array([math.sin(az), sign * math.cos(elev) * math.cos(az), math.sin(elev)])
        up = np.array([0.0, 0.0, 1.0])
    return eye, target, up, float(rng.uniform(450, 620))


def _light(rng: np.random.Generator) -> dict:
    """Random TinyRenderer light: direction, colour and strengths."""
    direction = rng.normal(size=3)
    direction[2] = abs(direction[2]) + 0.6
    return {
        "lightDirection": (direction / np.linalg.norm(direction)).tolist(),
        "lightColor": np.clip(1.0 + rng.uniform(-0.12, 0.12, 3), 0, 1.2).tolist(),
        "lightAmbientCoeff": float(rng.uniform(0.45, 0.75)),
        "lightDiffuseCoeff": float(rng.uniform(0.2, 0.5)),
        "lightSpecularCoeff": float(rng.uniform(0.0, 0.25)),
        "shadow": int(rng.random() < 0.3),
    }


def _render(client: int, rng: np.random.Generator, view: str) -> Frame:
    """Render the client's scene from a random camera at ``view`` as a Frame with its exact calibration."""
    eye, target, up, focal = _camera(rng, view)
    fov = math.degrees(2 * math.atan(HEIGHT / 2 / focal))
    proj = p.computeProjectionMatrixFOV(fov, WIDTH / HEIGHT, NEAR, FAR, physicsClientId=client)
    view_m = p.computeViewMatrix(eye.tolist(), target.tolist(), up.tolist(), physicsClientId=client)
    _, _, rgba, depth_buf, seg = p.getCameraImage(
        WIDTH, HEIGHT, view_m, proj, renderer=p.ER_TINY_RENDERER, physicsClientId=client, **_light(rng)
    )
    rgb = np.asarray(rgba, dtype=np.uint8).reshape(HEIGHT, WIDTH, 4)[:, :, :3].copy()
    d = np.asarray(depth_buf, dtype=np.float32).reshape(HEIGHT, WIDTH)
    depth = (FAR * NEAR / (FAR - (FAR - NEAR) * d)).astype(np.float32)
    gl = np.asarray(view_m, dtype=np.float64).reshape(4, 4).T
    pose = np.linalg.inv(gl) @ np.diag([1.0, -1.0, -1.0, 1.0])
    fy = (HEIGHT / 2) / math.tan(math.radians(fov) / 2)
    intrinsics = CameraIntrinsics(WIDTH, HEIGHT, fy, fy, WIDTH / 2, HEIGHT / 2 - 1)
    seg_ids = np.asarray(seg, dtype=np.int32).reshape(HEIGHT, WIDTH)
    seg_ids = np.where(seg_ids >= 0, seg_ids & ((1 << 24) - 1), seg_ids)
    return Frame(rgb=rgb, depth=depth, intrinsics=intrinsics, T_world_cam=pose, camera=view, segmentation=seg_ids)


def _place(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """Object centres in the workspace, at least 11 cm apart."""
    spots: list[np.ndarray] = []
    while len(spots) < count:
        xy = np.array([rng.uniform(0.35, 0.7), rng.uniform(-0.22, 0.22)])
        if all(np.linalg.norm(xy - s) > 0.11 for s in spots):
            spots.append(xy)
    return spots


def build_scene(index: int, seed: int = 0) -> ForeignScene:
    """Render foreign scene ``index`` (seeded by ``seed`` and ``index``) and return its frame and truth."""
    rng = np.random.default_rng([seed, index, 13])
    view = VIEWS[index % len(VIEWS)]
    client = p.connect(p.DIRECT)
    try:
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=client)
        support = _support(client, rng)
        robot, robot_body = _robot(client, rng)
        objects = []
        colours = list(PALETTE)
        for n, xy in enumerate(_place(rng, int(rng.integers(3, 7)))):
            kind, colour = str(rng.choice(TYPES)), str(rng.choice(colours))
            body, extent = _object(client, rng, kind, xy, _albedo(rng, colour))
            centre = (float(xy[0]), float(xy[1]), extent[2] / 2)
            objects.append(
                TruthObject(
                    id=f"{colour}_{kind}_{n}", type=kind, color=colour, position=centre, extent=extent, body=body
                )
            )
        frame = _render(client, rng, view)
    finally:
        p.disconnect(client)
    visible = [t for t in objects if np.count_nonzero(frame.segmentation == t.body) >= MIN_VISIBLE]
    return ForeignScene(frame=frame, truths=visible, view=view, support=support, robot=robot, robot_body=robot_body)


# ------------------------------------------------------------------------------------------------------- scoring


@dataclass
class ColourTally:
    """Recall and colour accuracy of the true objects of one colour."""

    truths: int = 0
    matched: int = 0
    colour_ok: int = 0
    named: dict | None = None

    def add(self, pairs: list[tuple[SceneObject, TruthObject]], truths: list[TruthObject], colour: str) -> None:
        self.named = self.named or defaultdict(int)
        self.truths += sum(t.color == colour for t in truths)
        for o, t in pairs:
            if t.color == colour:
                self.matched += 1
                self.colour_ok += o.color == colour
                self.named[o.color] += 1


def _lifting(perceiver: Perceiver) -> Perceiver:
    """``perceiver`` told to lift RGB-only frames onto the support plane, if its config has that option."""
    config = getattr(perceiver, "config", None)
    if config is not None and dataclasses.is_dataclass(config) and hasattr(config, "lift_rgb"):
        perceiver.config = dataclasses.replace(config, lift_rgb=True)  # type: ignore[attr-defined]
    return perceiver


def run(
    scenes: int,
    seed: int,
    names: list[str],
    show_failures: int = 10,
    rgb_only: bool = False,
    robot_mask: bool = False,
) -> dict[str, dict]:
    """Render ``scenes`` foreign scenes, perceive each with every perceiver, print tables; metrics per perceiver.

    ``rgb_only``: the frames lose their depth; ``robot_mask``: they carry the robot's mask (see the module
    docstring)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    truth = _Truth([])
    perceivers: dict[str, Perceiver] = {
        name: OraclePerceiver(truth, visible_only=True, min_pixels=MIN_VISIBLE)
        if name == "oracle"
        else make_perceiver(name, None)
        for name in names
    }
    if rgb_only:
        perceivers = {name: _lifting(perceiver) for name, perceiver in perceivers.items()}
    overall = {n: Tally() for n in names}
    by_view = {n: {v: Tally() for v in VIEWS} for n in names}
    by_colour = {n: {c: ColourTally() for c in PALETTE} for n in names}
    render_s = 0.0
    for index in range(scenes):
        t0 = time.perf_counter()
        scene = build_scene(index, seed)
        render_s += time.perf_counter() - t0
        truth.truths = scene.truths
        frame = dataclasses.replace(scene.frame, depth=None) if rgb_only else scene.frame
        if robot_mask:
            frame = dataclasses.replace(frame, robot_mask=frame.segmentation == scene.robot_body)
        for name, perceiver in perceivers.items():
            t0 = time.perf_counter()
            objects = list(perceiver.perceive([frame]).objects)
            overall[name].times.append(time.perf_counter() - t0)
            score(overall[name], index, objects, scene.truths)
            score(by_view[name][scene.view], index, objects, scene.truths)
            pairs = match(objects, scene.truths)
            for colour, tally in by_colour[name].items():
                tally.add(pairs, scene.truths, colour)
    console.print(f"rendered {scenes} scenes in {render_s:.0f} s")
    results = {}
    depth = (", RGB only (no depth)" if rgb_only else "") + (", robot mask given" if robot_mask else "")
    table = Table(title=f"foreign scenes: {scenes} scenes, seed {seed} (views {', '.join(VIEWS)}){depth}")
    for col in (
        "perceiver",
        "view",
        "objects",
        "precision",
        "recall",
        "colour",
        "type",
        "median mm",
        "p95 mm",
        "ms/frame",
    ):
        table.add_column(col, justify="right")
    for name in names:
        for view, tally in (("all", overall[name]), *by_view[name].items()):
            r = tally.row()
            if view == "all":
                results[name] = r
            results[f"{name}/{view}"] = r
            ms = f"{r['ms_median']:.0f}" if view == "all" else ""
            table.add_row(
                name,
                view,
                str(tally.truths),
                *(f"{r[k]:.3f}" for k in ("precision", "recall", "colour", "type")),
                f"{r['median_mm']:.1f}",
                f"{r['p95_mm']:.1f}",
                ms,
            )
    console.print(table)
    ctable = Table(title="by colour (true objects): recall, colour accuracy of the matched, names given")
    for col in ("perceiver", "colour", "objects", "recall", "colour acc", "named as"):
        ctable.add_column(col, justify="right")
    for name in names:
        for colour, c in by_colour[name].items():
            named = ", ".join(f"{k} {v}" for k, v in sorted((c.named or {}).items(), key=lambda kv: -kv[1]))
            ctable.add_row(
                name,
                colour,
                str(c.truths),
                f"{c.matched / max(c.truths, 1):.3f}",
                f"{c.colour_ok / max(c.matched, 1):.3f}",
                named,
            )
            results[f"{name}/colour/{colour}"] = {
                "recall": c.matched / max(c.truths, 1),
                "colour": c.colour_ok / max(c.matched, 1),
            }
    console.print(ctable)
    for name in names:
        failures = overall[name].failures
        console.print(f"{name}: {len(failures)} failure lines")
        for line in failures[:show_failures]:
            console.print(f"  {line}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=200, help="number of foreign scenes (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument("--perceivers", nargs="+", default=["classical", "oracle"], help="perceiver names")
    parser.add_argument("--show-failures", type=int, default=10, help="failure lines to print per perceiver")
    parser.add_argument(
        "--rgb-only", action="store_true", help="drop depth from the frames (RGB with a calibration, lifted)"
    )
    parser.add_argument(
        "--robot-mask", action="store_true", help="give the frames the robot's own pixels, as a robot interface would"
    )
    args = parser.parse_args(argv)
    run(args.scenes, args.seed, args.perceivers, args.show_failures, args.rgb_only, args.robot_mask)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
