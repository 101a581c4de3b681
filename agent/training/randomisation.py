"""Domain randomisation for ``groundsight datagen --randomise``: scenes that do not look like groundsight's own.

The VLM trained on the default data has only ever seen one table, one light, two camera poses, ten exact paints
and the catalogue's three sizes. With ``randomise`` every scene draws (:func:`draw`, pure and deterministic per
``(seed, index)``) and then applies (:func:`apply`, through the PyBullet client of the scene's
:class:`~groundsight.sim.world.World`, after the objects have settled; nothing is stepped afterwards):

- **support**: the world's own table top in a random flat colour or with a procedural texture (checker, stripes,
  grain, blotches: an image generated here and loaded with ``loadTexture``), pybullet_data's wooden
  ``table/table.urdf`` with its top at z = 0, or its white/blue checkered ``plane.urdf`` as the support itself;
  the support never has the colour of an object (CIELAB distance at least :data:`MIN_CONTRAST`);
- **floor** (under a table): the checkered plane, a plane in a flat colour or a procedural texture, or none;
- **light**: direction turned by up to :data:`LIGHT_DIRECTION_DEG` from the renderer's default, ambient and diffuse
  strength by up to +-:data:`LIGHT_INTENSITY`, each colour channel by up to +-:data:`LIGHT_COLOUR` (the cameras'
  :class:`~groundsight.sim.camera.CameraJitter` light);
- **cameras**: ``top`` from straight down to oblique (elevation :data:`TOP_ELEVATION`), ``front`` from oblique to
  nearly level (:data:`FRONT_ELEVATION`, from the front and the sides), at :data:`DISTANCE`, aimed near the
  workspace centre with a little roll, field of view :data:`FOV_DEG` (the focal length); ``wrist`` keeps its mount
  and gets a random field of view;
- **palette**: each object's paint jittered around its colour name's reference albedo, kept only when perception's
  classifier still names it the same at every exposure of :data:`EXPOSURES` (:func:`keeps_name`), else drawn again;
- **sizes**: every object scaled by :data:`SCALE` about its own frame (bottom centre), shrunk where needed to keep
  the gaps between objects; a content and its host share a scale; the size label is the catalogue size nearest
  to the scaled object (:func:`nearest_size`);
- **distractors**: 0-2 robots from pybullet_data (KUKA iiwa, Franka Panda, xArm6) at the table's sides or far end,
  in random joint poses that touch no object (:data:`DISTRACTORS`); they are never objects, never in the labels.

Labels stay truthful: the truth (:func:`scaled_truth`) is the world's truth with every scaled object's box
recomputed from its scale, visible boxes come from the segmentation of the image as rendered, and colour names
are the names the paints were jittered within.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import pybullet as p

from groundsight.perception.colors import (
    COLOR_NAMES,
    GAIN,
    REFERENCE_ALBEDO,
    default_classifier,
    name_by_region,
    rgb_to_lch,
)
from groundsight.sim import bodies
from groundsight.sim.bodies import SIZES, ObjectSpec, aabb_offsets, dimensions, footprint_radius, inertial_offset
from groundsight.sim.camera import CameraConfig, CameraJitter, camera_config
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.world import World

SUPPORTS = ("flat", "texture", "wood", "checker")
"""Support kinds: the world's table in a flat colour or a procedural texture, pybullet_data's wooden table, or its
checkered plane."""
FLOORS = ("checker", "flat", "texture", "none")
TEXTURES = ("checker", "stripes", "grain", "blotches")
TABLE_URDF_TOP = 0.625
"""Height of the top of pybullet_data's ``table/table.urdf`` above its base."""
FLOOR_DEPTH = (0.6, 0.8)
"""How far below the table top the floor lies (metres; the wooden table's legs fix it at its own height)."""
MIN_CONTRAST = 25.0
"""Least CIELAB distance between the support's (mean) colour and every object's paint."""
LIGHT_DIRECTION_DEG = 70.0
LIGHT_INTENSITY = 0.4
LIGHT_COLOUR = 0.15
TOP_ELEVATION = (55.0, 90.0)
FRONT_ELEVATION = (15.0, 55.0)
FRONT_AZIMUTH = (-100.0, 100.0)
"""Azimuth of the ``front`` camera (degrees; 0: across the table, facing the robot)."""
DISTANCE = (0.65, 1.3)
"""Distance from the camera to its target (metres)."""
TARGET = ((0.44, 0.60), (-0.1, 0.1))
"""Where the cameras aim (x, y ranges on the table top)."""
ROLL_DEG = 10.0
FOV_DEG = (35.0, 70.0)
WORKSPACE_CENTRE = (0.52, 0.0)
EXPOSURES = tuple(GAIN * s for s in (0.65, 0.8, 1.0))
"""Exposures (a lit face of albedo 1 reads ``255 * e``) at which a jittered paint must keep its name."""
PAINT_JITTER = (0.75, 1.2, 0.07)
"""A paint candidate: the reference albedo times a brightness in ``[first, second]`` plus per-channel noise of
standard deviation ``third``."""
SCALE = (0.8, 1.25)
"""Object scale range (uniform in log scale)."""
GAP = 0.01
"""Least gap between the covering circles of two scaled objects (metres)."""
DISTRACTORS = ("kuka_iiwa/model.urdf", "franka_panda/panda.urdf", "xarm/xarm6_robot.urdf")
"""Robots of pybullet_data put in view as distractors."""
DISTRACTOR_SPOTS = ((0.15, 0.95), (0.5, 0.7))
"""A distractor's base: x in the first range, |y| in the second (beside the workspace), or at the far end."""
MAX_DISTRACTORS = 2


@dataclass(frozen=True)
class Distractor:
    """A robot put in view: its URDF (pybullet_data), base position, yaw, and the seed of its joint pose."""

    urdf: str
    position: tuple[float, float, float]
    yaw: float
    seed: int


@dataclass(frozen=True)
class Randomisation:
    """Everything random about one scene's look (see the module docs); ``apply`` makes it so."""

    support: str
    support_rgb: tuple[float, float, float]
    support_texture: str | None
    floor: str
    floor_rgb: tuple[float, float, float]
    floor_depth: float
    texture_seed: int
    light: CameraJitter
    cameras: tuple[CameraConfig, ...]
    paints: dict[str, tuple[float, float, float]]
    scales: dict[str, float]
    distractors: tuple[Distractor, ...]

    def summary(self) -> dict[str, object]:
        """What a metadata row records of this scene's randomisation (JSON-ready)."""
        return {
            "support": self.support if self.support_texture is None else f"{self.support}:{self.support_texture}",
            "floor": self.floor,
            "cameras": {
                c.name: {"eye": _round(c.eye), "target": _round(c.target), "fov_deg": round(c.fov_deg, 2)}
                for c in self.cameras
            },
            "light_seed": self.light.seed,
            "paints": {k: _round(v) for k, v in self.paints.items()},
            "scales": {k: round(v, 4) for k, v in self.scales.items()},
            "distractors": [d.urdf for d in self.distractors],
        }


def _round(v: Sequence[float]) -> list[float]:
    return [round(float(x), 4) for x in v]


# ---------------------------------------------------------------------------------------------- colours


def keeps_name(name: str, albedo: Sequence[float]) -> bool:
    """True if perception names a surface painted ``albedo`` (linear RGB 0..1) ``name`` at every exposure of
    :data:`EXPOSURES`: both the LCh regions (:func:`~groundsight.perception.colors.name_by_region`) and the
    pixel classifier (which prefers a reference albedo's shade)."""
    shades = np.outer(EXPOSURES, np.asarray(albedo, dtype=np.float64)) * 255.0
    label = COLOR_NAMES.index(name)
    regions, _ = name_by_region(rgb_to_lch(shades))
    pixels = default_classifier().classify_pixels(shades)
    return bool(np.all(regions == label) and np.all(pixels == label))


def jitter_paint(name: str, rng: np.random.Generator, tries: int = 60) -> tuple[float, float, float]:
    """A paint near ``name``'s reference albedo that perception still calls ``name`` (:func:`keeps_name`); the
    reference itself when no candidate of ``tries`` does."""
    ref = np.asarray(REFERENCE_ALBEDO[name], dtype=np.float64)
    lo, hi, sigma = PAINT_JITTER
    for _ in range(tries):
        candidate = np.clip(ref * rng.uniform(lo, hi) + rng.normal(0.0, sigma, 3), 0.0, 1.0)
        if keeps_name(name, candidate):
            return (float(candidate[0]), float(candidate[1]), float(candidate[2]))
    return (float(ref[0]), float(ref[1]), float(ref[2]))


def _lab(rgb: Sequence[float]) -> np.ndarray:
    """CIELAB of a colour given as 0..1 RGB."""
    lightness, chroma, hue = rgb_to_lch(np.asarray(rgb, dtype=np.float64) * 255.0)[0]
    return np.array([lightness, chroma * math.cos(math.radians(hue)), chroma * math.sin(math.radians(hue))])


def _contrasting(rng: np.random.Generator, paints: Sequence[Sequence[float]]) -> tuple[float, float, float]:
    """A random colour at least :data:`MIN_CONTRAST` (CIELAB) from every paint (the last candidate if none is)."""
    labs = [_lab(c) for c in paints]
    colour = rng.uniform(0.0, 1.0, 3)
    for _ in range(50):
        grey = rng.uniform(0.05, 0.95)
        colour = np.clip(grey + rng.normal(0.0, 0.18, 3) * rng.uniform(0.0, 1.0), 0.0, 1.0)
        if all(np.linalg.norm(_lab(colour) - lab) >= MIN_CONTRAST for lab in labs):
            break
    return (float(colour[0]), float(colour[1]), float(colour[2]))


# ---------------------------------------------------------------------------------------------- textures


def texture_image(kind: str, base: Sequence[float], rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """A procedural ``size`` x ``size`` RGB texture (uint8) of mean colour near ``base`` (0..1 RGB).

    ``checker``: squares of ``base`` and a lighter or darker tone; ``stripes``: bands; ``grain``: wood-like wavy
    stripes; ``blotches``: smoothed noise.
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    base_arr = np.asarray(base, dtype=np.float64)
    if kind == "checker":
        cell = int(rng.integers(8, 64))
        pattern = ((xx // cell + yy // cell) % 2) * 2.0 - 1.0
    elif kind == "stripes":
        period = rng.uniform(10, 60)
        angle = rng.uniform(0, math.pi)
        pattern = np.sign(np.sin((xx * math.cos(angle) + yy * math.sin(angle)) * 2 * math.pi / period))
    elif kind == "grain":
        wobble = np.sin(yy / rng.uniform(20, 60) + rng.uniform(0, 6)) * rng.uniform(3, 12)
        pattern = np.sin((xx + wobble) * 2 * math.pi / rng.uniform(6, 20))
    elif kind == "blotches":
        noise = rng.normal(0.0, 1.0, (size // 16, size // 16))
        pattern = cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
        pattern /= max(float(np.abs(pattern).max()), 1e-6)
    else:
        raise ValueError(f"unknown texture {kind!r} (known: {', '.join(TEXTURES)})")
    contrast = rng.uniform(0.05, 0.2)
    image = base_arr[None, None, :] + contrast * pattern[..., None] + rng.normal(0.0, 0.015, (size, size, 3))
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _load_texture(client: int, image: np.ndarray, folder: Path, name: str) -> int:
    """Write ``image`` (RGB) as a PNG into ``folder`` and load it into ``client`` as a texture."""
    path = folder / f"{name}.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return p.loadTexture(str(path), physicsClientId=client)


# ---------------------------------------------------------------------------------------------- cameras


def camera_pose(
    elevation_deg: float, azimuth_deg: float, distance: float, target: Sequence[float], roll_deg: float = 0.0
) -> tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]:
    """Eye, target and up of a camera ``distance`` from ``target`` at this elevation (90: straight down) and
    azimuth (0: on the +x side, facing the robot); image up points away from the camera along the table,
    turned by ``roll_deg``."""
    el, az = math.radians(elevation_deg), math.radians(azimuth_deg)
    h = np.array([math.cos(az), math.sin(az), 0.0])
    z = np.array([0.0, 0.0, 1.0])
    tgt = np.asarray(target, dtype=np.float64)
    eye = tgt + distance * (math.cos(el) * h + math.sin(el) * z)
    up = -math.sin(el) * h + math.cos(el) * z
    forward = (tgt - eye) / np.linalg.norm(tgt - eye)
    roll = math.radians(roll_deg)
    up = up * math.cos(roll) + np.cross(forward, up) * math.sin(roll)

    def vec(v: np.ndarray) -> tuple[float, float, float]:
        return (float(v[0]), float(v[1]), float(v[2]))

    return vec(eye), vec(tgt), vec(up)


def random_camera(name: str, rng: np.random.Generator, width: int, height: int) -> CameraConfig:
    """A random pose and field of view for the camera called ``name`` (see the module docs)."""
    base = replace(camera_config(name), width=width, height=height, fov_deg=float(rng.uniform(*FOV_DEG)))
    if base.mount_link is not None:
        return base
    if name == "top":
        elevation, azimuth = rng.uniform(*TOP_ELEVATION), rng.uniform(0.0, 360.0)
    else:
        elevation, azimuth = rng.uniform(*FRONT_ELEVATION), rng.uniform(*FRONT_AZIMUTH)
    target = (rng.uniform(*TARGET[0]), rng.uniform(*TARGET[1]), 0.0)
    eye, tgt, up = camera_pose(elevation, azimuth, rng.uniform(*DISTANCE), target, rng.uniform(-ROLL_DEG, ROLL_DEG))
    return replace(base, eye=eye, target=tgt, up=up)


# ---------------------------------------------------------------------------------------------- sizes


def fit_scales(objects: Sequence[ObjectSpec], scales: Sequence[float]) -> list[float]:
    """``scales`` shrunk (never below 1) until every two objects' scaled covering circles are :data:`GAP` apart."""
    out = list(scales)
    for i, a in enumerate(objects):
        for j in range(i + 1, len(objects)):
            b = objects[j]
            ra, rb = footprint_radius(a.type, a.size), footprint_radius(b.type, b.size)
            room = (math.hypot(a.x - b.x, a.y - b.y) - GAP) / (ra + rb)
            if out[i] * ra + out[j] * rb > room * (ra + rb):
                out[i], out[j] = max(1.0, min(out[i], room)), max(1.0, min(out[j], room))
    return out


def nearest_size(obj_type: str, size: str, scale: float) -> str:
    """The catalogue size whose covering radius is nearest (in log scale) to this size scaled by ``scale``."""
    r = footprint_radius(obj_type, size) * scale
    return min(SIZES, key=lambda s: abs(math.log(footprint_radius(obj_type, s) / r)))


def add_scaled(world: World, spec: ObjectSpec, scale: float) -> int:
    """Add ``spec`` to ``world`` scaled by ``scale`` about its own frame (bottom centre); returns the body id.

    Every dimension of the catalogue shape is scaled (walls and floors too), so the body is the catalogue's body
    enlarged; :func:`scaled_truth` gives its true box.
    """
    if scale == 1.0:
        return world.add_object(spec)
    if spec.id in world.bodies:
        raise ValueError(f"duplicate object id {spec.id!r}")
    d = {k: v * scale for k, v in dimensions(spec.type, spec.size).items()}
    parts = bodies._parts(spec.type, d)  # noqa: SLF001 - the catalogue's shapes at other dimensions
    args = {
        "shapeTypes": [g for g, _, _, _ in parts],
        "halfExtents": [kw.get("halfExtents", [0, 0, 0]) for _, kw, _, _ in parts],
        "radii": [kw.get("radius", 0.0) for _, kw, _, _ in parts],
        "lengths": [kw.get("length", 0.0) for _, kw, _, _ in parts],
    }
    client = world.client
    frames = [pos for _, _, pos, _ in parts], [orn for _, _, _, orn in parts]
    collision = p.createCollisionShapeArray(
        **args, collisionFramePositions=frames[0], collisionFrameOrientations=frames[1], physicsClientId=client
    )
    visual = p.createVisualShapeArray(
        **args, visualFramePositions=frames[0], visualFrameOrientations=frames[1], physicsClientId=client
    )
    body = p.createMultiBody(
        baseMass=bodies._MASS[spec.type] * scale**3,  # noqa: SLF001
        baseCollisionShapeIndex=collision,
        baseVisualShapeIndex=visual,
        basePosition=(spec.x, spec.y, 0.0005),
        baseOrientation=p.getQuaternionFromEuler((0, 0, spec.yaw)),
        baseInertialFramePosition=[v * scale for v in inertial_offset(spec.type, spec.size)],
        physicsClientId=client,
    )
    p.changeVisualShape(body, -1, rgbaColor=[*REFERENCE_ALBEDO[spec.color], 1.0], physicsClientId=client)
    friction = bodies._BALL_FRICTION if spec.type == "ball" else bodies._FRICTION  # noqa: SLF001
    p.changeDynamics(body, -1, **friction, physicsClientId=client)
    world.specs[spec.id] = spec
    world.bodies[spec.id] = body
    return body


def place_scaled(world: World, object_id: str, position: Sequence[float], yaw: float, scale: float) -> None:
    """Teleport a (scaled) object so that its own frame (bottom centre) is at ``position``, turned by ``yaw``."""
    spec, body = world.specs[object_id], world.bodies[object_id]
    orn = p.getQuaternionFromEuler((0, 0, yaw))
    m = p.getMatrixFromQuaternion(orn)
    o = [v * scale for v in inertial_offset(spec.type, spec.size)]
    com = [float(position[k]) + m[3 * k] * o[0] + m[3 * k + 1] * o[1] + m[3 * k + 2] * o[2] for k in range(3)]
    p.resetBasePositionAndOrientation(body, com, orn, physicsClientId=world.client)
    p.resetBaseVelocity(body, (0, 0, 0), (0, 0, 0), physicsClientId=world.client)


def scaled_truth(world: World, scales: dict[str, float]) -> list[ObjectTruth]:
    """``world.truth()`` with every scaled object's base, box and size label recomputed from its scale."""
    out = []
    for t in world.truth():
        s = scales.get(t.id, 1.0)
        if s == 1.0:
            out.append(t)
            continue
        spec = world.specs[t.id]
        com, orn = p.getBasePositionAndOrientation(world.bodies[t.id], physicsClientId=world.client)
        m = p.getMatrixFromQuaternion(orn)
        o = [v * s for v in inertial_offset(spec.type, spec.size)]
        base = [com[k] - (m[3 * k] * o[0] + m[3 * k + 1] * o[1] + m[3 * k + 2] * o[2]) for k in range(3)]
        lo, hi = aabb_offsets(spec.type, spec.size, m)
        lo_w = [b + s * v for b, v in zip(base, lo, strict=True)]
        hi_w = [b + s * v for b, v in zip(base, hi, strict=True)]
        update = {
            "size": nearest_size(spec.type, spec.size, s),
            "base_position": tuple(base),
            "position": tuple((a + b) / 2 for a, b in zip(lo_w, hi_w, strict=True)),
            "extent": tuple(b - a for a, b in zip(lo_w, hi_w, strict=True)),
        }
        out.append(t.model_copy(update=update))
    return out


# ---------------------------------------------------------------------------------------------- draw


def _distractors(rng: np.random.Generator) -> tuple[Distractor, ...]:
    """0 to :data:`MAX_DISTRACTORS` robots beside the workspace or at the table's far end, facing it."""
    out = []
    sides = list(rng.permutation(["left", "right", "far"]))
    for k in range(int(rng.integers(0, MAX_DISTRACTORS + 1))):
        side = sides[k]
        if side == "far":
            x, y = rng.uniform(0.85, 0.95), rng.uniform(-0.3, 0.3)
        else:
            x, y = rng.uniform(*DISTRACTOR_SPOTS[0]), rng.uniform(*DISTRACTOR_SPOTS[1]) * (1 if side == "left" else -1)
        yaw = math.atan2(WORKSPACE_CENTRE[1] - y, WORKSPACE_CENTRE[0] - x) + rng.uniform(-0.5, 0.5)
        urdf = DISTRACTORS[int(rng.integers(len(DISTRACTORS)))]
        out.append(Distractor(urdf, (float(x), float(y), 0.0), float(yaw), int(rng.integers(2**31))))
    return tuple(out)


def draw(
    objects: Sequence[ObjectSpec],
    seed: int,
    index: int,
    cameras: Sequence[str],
    image_size: tuple[int, int],
    host: str | None = None,
    content: ObjectSpec | None = None,
) -> Randomisation:
    """The random look of scene ``index`` of ``seed`` (pure: draws only). ``objects`` are the scene's table objects;
    ``content`` (an object put into or onto the object ``host``) gets its host's scale."""
    rng = np.random.default_rng([seed, index, 29])
    paints = {o.id: jitter_paint(o.color, rng) for o in objects}
    if content is not None:
        paints[content.id] = jitter_paint(content.color, rng)
    drawn = [float(math.exp(rng.uniform(math.log(SCALE[0]), math.log(SCALE[1])))) for _ in objects]
    scales = dict(zip([o.id for o in objects], fit_scales(objects, drawn), strict=True))
    if content is not None and host is not None:
        scales[content.id] = scales[host]
    support = SUPPORTS[int(rng.integers(len(SUPPORTS)))]
    floor = "checker" if support == "checker" else FLOORS[int(rng.integers(len(FLOORS)))]
    width, height = image_size
    return Randomisation(
        support=support,
        support_rgb=_contrasting(rng, list(paints.values())),
        support_texture=TEXTURES[int(rng.integers(len(TEXTURES)))] if support == "texture" else None,
        floor=floor,
        floor_rgb=tuple(float(v) for v in rng.uniform(0.1, 0.9, 3)),  # type: ignore[arg-type]
        floor_depth=TABLE_URDF_TOP if support == "wood" else float(rng.uniform(*FLOOR_DEPTH)),
        texture_seed=int(rng.integers(2**31)),
        light=CameraJitter(
            seed=int(rng.integers(2**31)),
            lighting=True,
            light_direction_deg=LIGHT_DIRECTION_DEG,
            light_intensity=LIGHT_INTENSITY,
            light_color=LIGHT_COLOUR,
        ),
        cameras=tuple(random_camera(name, rng, width, height) for name in cameras),
        paints=paints,
        scales=scales,
        distractors=_distractors(rng),
    )


# ---------------------------------------------------------------------------------------------- apply


def _park(world: World, body: int) -> None:
    """Move a body far below everything (out of every camera's view)."""
    p.resetBasePositionAndOrientation(body, (0.0, 0.0, -50.0), (0, 0, 0, 1), physicsClientId=world.client)


def _apply_support(world: World, r: Randomisation, rng: np.random.Generator, folder: Path) -> list[int]:
    """Dress or replace the table and lay the floor; returns the bodies added."""
    client, added = world.client, []
    if r.support in ("flat", "texture"):
        p.changeVisualShape(world.table, -1, rgbaColor=[*r.support_rgb, 1.0], physicsClientId=client)
        if r.support_texture is not None:
            image = texture_image(r.support_texture, r.support_rgb, rng)
            tex = _load_texture(client, image, folder, "support")
            p.changeVisualShape(world.table, -1, rgbaColor=[1, 1, 1, 1], textureUniqueId=tex, physicsClientId=client)
    else:
        _park(world, world.table)
    if r.support == "wood":
        orn = p.getQuaternionFromEuler((0, 0, math.pi / 2))
        added.append(
            p.loadURDF("table/table.urdf", (0.45, 0.0, -TABLE_URDF_TOP), orn, useFixedBase=True, physicsClientId=client)
        )
    floor_z = 0.0 if r.support == "checker" else -r.floor_depth
    if r.floor != "none":
        plane = p.loadURDF("plane.urdf", (0.0, 0.0, floor_z), useFixedBase=True, physicsClientId=client)
        added.append(plane)
        if r.floor == "flat":
            tex = _load_texture(client, texture_image("blotches", r.floor_rgb, rng, 64), folder, "floor")
            p.changeVisualShape(plane, -1, textureUniqueId=tex, physicsClientId=client)
        elif r.floor == "texture":
            kind = TEXTURES[int(rng.integers(len(TEXTURES)))]
            tex = _load_texture(client, texture_image(kind, r.floor_rgb, rng), folder, "floor")
            p.changeVisualShape(plane, -1, textureUniqueId=tex, physicsClientId=client)
    return added


def _touches(client: int, body: int, others: Sequence[int], margin: float = 0.005) -> bool:
    return any(p.getClosestPoints(body, o, margin, physicsClientId=client) for o in others)


def _add_distractor(world: World, d: Distractor, objects: Sequence[int]) -> int | None:
    """Load a distractor robot and pose its joints at random, away from every object; None if no pose of
    20 is clear (the robot is then removed)."""
    client = world.client
    orn = p.getQuaternionFromEuler((0, 0, d.yaw))
    body = p.loadURDF(d.urdf, d.position, orn, useFixedBase=True, physicsClientId=client)
    rng = np.random.default_rng(d.seed)
    joints = [
        j
        for j in range(p.getNumJoints(body, physicsClientId=client))
        if p.getJointInfo(body, j, physicsClientId=client)[2] in (p.JOINT_REVOLUTE, p.JOINT_PRISMATIC)
    ]
    for _ in range(20):
        for j in joints:
            info = p.getJointInfo(body, j, physicsClientId=client)
            lo, hi = (info[8], info[9]) if info[8] < info[9] else (-math.pi, math.pi)
            mid, half = (lo + hi) / 2, (hi - lo) / 2
            p.resetJointState(body, j, mid + 0.6 * half * rng.uniform(-1, 1), physicsClientId=client)
        if not _touches(client, body, objects):
            return body
    p.removeBody(body, physicsClientId=client)
    return None


def apply(world: World, r: Randomisation) -> list[int]:
    """Make ``world`` (objects already placed and settled, with ``r.scales``) look as ``r`` draws: support, floor,
    paints and distractor robots. Returns the distractor robots' body ids (never objects). Nothing is stepped."""
    rng = np.random.default_rng(r.texture_seed)
    client = world.client
    with tempfile.TemporaryDirectory(prefix="groundsight-textures-") as tmp:
        _apply_support(world, r, rng, Path(tmp))
    for oid, rgb in r.paints.items():
        if oid in world.bodies:
            p.changeVisualShape(world.bodies[oid], -1, rgbaColor=[*rgb, 1.0], physicsClientId=client)
    robots = []
    for d in r.distractors:
        body = _add_distractor(world, d, list(world.bodies.values()))
        if body is not None:
            robots.append(body)
    return robots


__all__ = [
    "DISTRACTORS",
    "Distractor",
    "Randomisation",
    "add_scaled",
    "apply",
    "camera_pose",
    "draw",
    "fit_scales",
    "jitter_paint",
    "keeps_name",
    "nearest_size",
    "place_scaled",
    "random_camera",
    "scaled_truth",
    "texture_image",
]
