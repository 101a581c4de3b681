"""The PyBullet world: a table with its top at z = 0, a Franka Panda at the origin, objects and cameras."""

from __future__ import annotations

import logging
import os
import pkgutil
from collections import Counter
from collections.abc import Callable, Sequence

import pybullet as p
import pybullet_data

from groundsight.sim.bodies import (
    COLORS,
    OBJECT_TYPES,
    SIZES,
    ObjectSpec,
    aabb_offsets,
    create_body,
    inertial_offset,
    set_pose,
)
from groundsight.sim.camera import CameraConfig, CameraJitter, SimCamera, camera_config, with_jitter
from groundsight.sim.panda import PandaRobot
from groundsight.sim.truth import ObjectTruth

log = logging.getLogger(__name__)

TIME_STEP = 1.0 / 240.0
"""Physics step (seconds): PyBullet's default, at which the Panda's position motors, the friction grasp (finger
force and friction, no constraint) and every skill's step bounds are tuned; ``benchmarks.skills_success`` measures
its rates at this step. (panda-gym steps 1/500 s, 20 substeps per action.)"""
TABLE_COLOR = (0.32, 0.30, 0.28, 1.0)
TABLE_HALF_EXTENTS = (0.6, 0.75, 0.02)
TABLE_CENTRE = (0.4, 0.0, -0.02)
PARK_Z = -20.0
"""Pooled bodies not in use wait this far below the table top: beyond every camera's far plane, out of reach."""
PARK_SPACING = 1.0
"""Parked bodies are this far apart (metres), so that they never touch while they fall."""


class World:
    """One simulated tabletop. ``gui=False`` runs PyBullet headless (DIRECT).

    Args:
        gui: open PyBullet's GUI instead of running headless.
        cameras: which cameras exist, by name (``top``, ``front``, ``wrist``: see :data:`sim.camera.CAMERAS`)
            or as full configurations; default just ``top``. ``self.cameras`` keeps this order.
        jitter: lighting / pose jitter for every camera (one light for all; poses jittered camera by camera);
            None: off, unless a camera's own configuration has some.
    """

    def __init__(
        self,
        gui: bool = False,
        cameras: Sequence[str | CameraConfig] | None = None,
        jitter: CameraJitter | None = None,
    ) -> None:
        configs = [camera_config(c) if isinstance(c, str) else c for c in (cameras or ["top"])]
        names = [c.name for c in configs]
        if len(set(names)) < len(names):
            raise ValueError(f"camera names must be unique, got {names}")
        self.client = p.connect(p.GUI if gui else p.DIRECT)
        p.resetSimulation(physicsClientId=self.client)
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=self.client)
        p.setGravity(0, 0, -9.81, physicsClientId=self.client)
        p.setTimeStep(TIME_STEP, physicsClientId=self.client)
        self.steps = 0
        self.step_listeners: list[Callable[[World], None]] = []
        """Called with the world after every physics step (e.g. a :class:`groundsight.sim.video.VideoRecorder`)."""
        self.table = self._create_table()
        self.robot = PandaRobot(self.client, step=self.step, fixtures=(self.table,))
        self.specs: dict[str, ObjectSpec] = {}
        self.bodies: dict[str, int] = {}
        self.cameras = [
            SimCamera(
                self.client,
                with_jitter(c, jitter),
                clock=self.time,
                body=self.robot.body,
                mask_bodies=(self.robot.body,),
            )
            for c in configs
        ]
        self.renderer = "tiny"
        if os.environ.get("GROUNDSIGHT_RENDERER", "tiny").lower() == "egl" and not gui:
            self.renderer = self._load_egl()
        for cam in self.cameras:
            cam.renderer = p.ER_BULLET_HARDWARE_OPENGL if self.renderer == "egl" else p.ER_TINY_RENDERER

    def _load_egl(self) -> str:
        """Load PyBullet's EGL renderer plugin (GPU, headless); fall back to TinyRenderer if it fails."""
        loader = pkgutil.get_loader("eglRenderer")
        plugin = -1
        if loader is not None:
            plugin = p.loadPlugin(loader.get_filename(), "_eglRendererPlugin", physicsClientId=self.client)
        if plugin < 0:
            log.warning("GROUNDSIGHT_RENDERER=egl but the EGL plugin did not load; using TinyRenderer")
            return "tiny"
        return "egl"

    def camera(self, name: str) -> SimCamera:
        """The camera called ``name``; ``KeyError`` naming the cameras this world has if there is none."""
        for cam in self.cameras:
            if cam.name == name:
                return cam
        raise KeyError(f"no camera {name!r} in this world (it has: {', '.join(c.name for c in self.cameras)})")

    def _create_table(self) -> int:
        col = p.createCollisionShape(p.GEOM_BOX, halfExtents=TABLE_HALF_EXTENTS, physicsClientId=self.client)
        vis = p.createVisualShape(
            p.GEOM_BOX, halfExtents=TABLE_HALF_EXTENTS, rgbaColor=TABLE_COLOR, physicsClientId=self.client
        )
        body = p.createMultiBody(0, col, vis, basePosition=TABLE_CENTRE, physicsClientId=self.client)
        p.changeDynamics(body, -1, lateralFriction=1.0, physicsClientId=self.client)
        return body

    def time(self) -> float:
        """Simulated seconds since the world was created."""
        return self.steps * TIME_STEP

    def add_object(self, spec: ObjectSpec) -> int:
        """Create an object resting on the table and return its body id."""
        if spec.id in self.bodies:
            raise ValueError(f"duplicate object id {spec.id!r}")
        body = create_body(spec, self.client)
        self.specs[spec.id] = spec
        self.bodies[spec.id] = body
        return body

    def set_object_pose(self, object_id: str, position: tuple[float, float, float], yaw: float = 0.0) -> None:
        """Teleport an object so that its own frame (bottom centre) is at ``position``, turned by ``yaw``."""
        set_pose(self.bodies[object_id], self.specs[object_id], position, yaw, self.client)

    def step(self, n: int = 1) -> None:
        """Advance physics by ``n`` steps of ``TIME_STEP``, calling every step listener after each."""
        if not self.step_listeners:
            for _ in range(n):
                p.stepSimulation(physicsClientId=self.client)
            self.steps += n
            return
        for _ in range(n):
            p.stepSimulation(physicsClientId=self.client)
            self.steps += 1
            for listener in self.step_listeners:
                listener(self)

    def settle(self, max_steps: int = 480, speed: float = 1e-3) -> None:
        """Step until every object is (almost) at rest, or ``max_steps`` have passed."""
        for _ in range(max_steps // 10):
            self.step(10)
            if all(
                sum(v * v for v in p.getBaseVelocity(b, physicsClientId=self.client)[0]) ** 0.5 < speed
                for b in self.bodies.values()
            ):
                return

    def truth(self) -> list[ObjectTruth]:
        """True state of every object, in creation order.

        ``position`` and ``extent`` are the object's exact axis-aligned box (tight also for a turned
        cylinder, which ``pybullet.getAABB`` over-bounds); ``base_position`` is the object's own frame
        (bottom centre when upright), whatever its centre of mass.
        """
        out = []
        for oid, body in self.bodies.items():
            spec = self.specs[oid]
            com, orn = p.getBasePositionAndOrientation(body, physicsClientId=self.client)
            m = p.getMatrixFromQuaternion(orn)
            ox, oy, oz = inertial_offset(spec.type, spec.size)
            pos = tuple(com[k] - (m[3 * k] * ox + m[3 * k + 1] * oy + m[3 * k + 2] * oz) for k in range(3))
            off_lo, off_hi = aabb_offsets(spec.type, spec.size, m)
            lo = [a + b for a, b in zip(pos, off_lo, strict=True)]
            hi = [a + b for a, b in zip(pos, off_hi, strict=True)]
            out.append(
                ObjectTruth(
                    id=oid,
                    body=body,
                    type=spec.type,
                    color=spec.color,
                    size=spec.size,
                    position=tuple((a + b) / 2 for a, b in zip(lo, hi, strict=True)),
                    extent=tuple(b - a for a, b in zip(lo, hi, strict=True)),
                    base_position=pos,
                    orientation=tuple(orn),
                )
            )
        return out

    def truth_by_id(self) -> dict[str, ObjectTruth]:
        return {t.id: t for t in self.truth()}

    def close(self) -> None:
        """Disconnect from PyBullet; safe to call twice."""
        if self.client is not None and p.isConnected(self.client):
            p.disconnect(self.client)
        self.client = None

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def park_position(slot: int) -> tuple[float, float, float]:
    """Where the ``slot``-th parked body of a :class:`BodyPool` waits (a grid far below the table)."""
    return (2.0 + PARK_SPACING * (slot % 16), PARK_SPACING * (slot // 16), PARK_Z)


def _pool_order(key: tuple[str, str]) -> tuple[int, int]:
    return OBJECT_TYPES.index(key[0]), SIZES.index(key[1])


class BodyPool:
    """Object bodies of one :class:`World`, kept and reused across episodes instead of being rebuilt.

    There are as many bodies per (type, size) as the largest scene so far needed. :meth:`place` makes a scene
    out of them: it restores the physics state saved when the pool was built (``pybullet.restoreState``: every
    body parked far below the table at rest, the arm at home), then puts the scene's bodies where their specs
    say, resting on the table top (z = 0), in their colours, and clears what PyBullet carries over from the
    previous episode: every collision pair with its contact cache (warm starting); pooled bodies and the arm
    never sleep, so no sleep timer carries over either. Nothing is stepped, so the scene is a function of the
    specs alone: bit for bit the same after any history as in a new world.

    When a scene needs more bodies than the pool has, the pool is rebuilt: every pooled body is removed (last
    first) and all are created again in a canonical (type, size) order, so that the bodies a scene uses are
    created in the same relative order as in a new world with a pool built for that scene alone.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.bodies: dict[tuple[str, str], list[int]] = {}
        """Pooled body ids per (type, size), in creation order."""
        # Collision pairs are processed sorted by their bodies' broadphase ids, not in the pair cache's order
        # (which depends on which pairs came and went before).
        p.setPhysicsEngineParameter(deterministicOverlappingPairs=1, physicsClientId=world.client)
        self._colors: dict[int, str] = {}
        self._state: int | None = None

    def _covers(self, need: Counter) -> bool:
        return self._state is not None and all(len(self.bodies.get(k, ())) >= n for k, n in need.items())

    def _rebuild(self, counts: dict[tuple[str, str], int]) -> None:
        client = self.world.client
        for body in sorted((b for bodies in self.bodies.values() for b in bodies), reverse=True):
            p.removeBody(body, physicsClientId=client)
        self.bodies, self._colors = {}, {}
        color = next(iter(COLORS))
        slot = 0
        for key in sorted(counts, key=_pool_order):
            for k in range(counts[key]):
                spec = ObjectSpec(id=f"pool/{key[0]}/{key[1]}/{k}", type=key[0], color=color, size=key[1])
                body = create_body(spec, client)
                p.changeDynamics(body, -1, activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING, physicsClientId=client)
                set_pose(body, spec, park_position(slot), 0.0, client)
                self.bodies.setdefault(key, []).append(body)
                self._colors[body] = color
                slot += 1
        p.changeDynamics(
            self.world.robot.body, -1, activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING, physicsClientId=client
        )
        self.world.robot.reset()
        p.performCollisionDetection(physicsClientId=client)
        if self._state is not None:
            p.removeState(self._state, physicsClientId=client)
        self._state = p.saveState(physicsClientId=client)

    def place(self, specs: Sequence[ObjectSpec], colors: bool = True) -> None:
        """Make ``specs`` the world's objects (``world.bodies`` in this order), resting on the table, no physics.

        ``colors=False`` leaves the bodies' colours as they are (for a world that is never rendered: colours do
        not touch physics); a later ``place`` with colours paints every body it uses.
        """
        ids = [s.id for s in specs]
        if len(set(ids)) < len(ids):
            raise ValueError(f"duplicate object ids in {ids}")
        need = Counter((s.type, s.size) for s in specs)
        if not self._covers(need):
            keys = set(self.bodies) | set(need)
            self._rebuild({k: max(len(self.bodies.get(k, ())), need.get(k, 0)) for k in keys})
        client, world = self.world.client, self.world
        p.restoreState(self._state, physicsClientId=client)
        world.robot.reset()
        world.bodies, world.specs = {}, {}
        used: Counter = Counter()
        for spec in specs:
            key = (spec.type, spec.size)
            body = self.bodies[key][used[key]]
            used[key] += 1
            if colors and self._colors[body] != spec.color:
                p.changeVisualShape(body, -1, rgbaColor=[*COLORS[spec.color], 1.0], physicsClientId=client)
                self._colors[body] = spec.color
            set_pose(body, spec, (spec.x, spec.y, 0.0), spec.yaw, client)
            world.bodies[spec.id] = body
            world.specs[spec.id] = spec
        self._forget_contacts()
        world.steps = 0

    def _forget_contacts(self) -> None:
        """Drop every collision pair (and its contact cache) of the pooled bodies and the arm's links.

        Setting a collision filter makes PyBullet re-insert the body into the broadphase: its pairs and their
        persistent manifolds go, and the next step finds contacts afresh, in an order that does not depend on
        the previous episodes. Done in a fixed order (arm links, then the pool in creation order) so that the
        bodies' broadphase ids keep the same relative order as in a new world.
        """
        client, robot = self.world.client, self.world.robot.body
        for link in range(p.getNumJoints(robot, physicsClientId=client)):
            p.setCollisionFilterGroupMask(robot, link, 1, -1, physicsClientId=client)
        for body in sorted(b for bodies in self.bodies.values() for b in bodies):
            p.setCollisionFilterGroupMask(body, -1, 1, -1, physicsClientId=client)
