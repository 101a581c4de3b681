"""PyBullet simulation: world, Franka Panda, tabletop objects, cameras, skills and simulator truth.

Uses only ``groundsight.perception``'s types and constants from the rest of groundsight: Frame and
CameraSource (cameras), TruthObject (the truth record, :mod:`groundsight.sim.truth`) and the colour table.
"""

from groundsight.sim._quiet import import_pybullet_quietly

import_pybullet_quietly()

from groundsight.sim.bodies import COLORS, OBJECT_TYPES, SIZES, ObjectSpec  # noqa: E402
from groundsight.sim.camera import CAMERAS, CameraConfig, CameraJitter  # noqa: E402
from groundsight.sim.world import World  # noqa: E402

__all__ = ["CAMERAS", "COLORS", "OBJECT_TYPES", "SIZES", "CameraConfig", "CameraJitter", "ObjectSpec", "World"]
