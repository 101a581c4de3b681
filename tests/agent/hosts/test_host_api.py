"""The host-world API without panda-gym: the PyBullet camera, named places, a host's paints."""

from __future__ import annotations

import numpy as np
import pybullet as p
import pytest

from groundsight.agent.hosts import Appearance, NamedPlace, PyBulletCamera, translation
from groundsight.agent.hosts.places import PlacesPerceiver, check_places, places_turtle
from groundsight.knowledge import KnowledgeBase
from groundsight.perception.colors import ColorClassifier
from groundsight.perception.objects import Percept


@pytest.fixture
def client():
    cid = p.connect(p.DIRECT)
    yield cid
    p.disconnect(cid)


def _box(cid: int, position, half, rgba) -> int:
    vis = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=rgba, physicsClientId=cid)
    col = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=cid)
    return p.createMultiBody(0, col, vis, basePosition=position, physicsClientId=cid)


def test_camera_depth_lands_on_the_box_in_the_agents_frame(client):
    _box(client, (0.0, 0.0, -0.01), (0.5, 0.5, 0.01), (0.9, 0.9, 0.9, 1))  # a table whose top is z = 0
    _box(client, (0.1, 0.05, 0.02), (0.02, 0.02, 0.02), (0.1, 0.9, 0.1, 1))
    camera = PyBulletCamera(
        client,
        fov_deg=40,
        width=320,
        height=240,
        eye=(0, 0, 0.8),
        target=(0, 0, 0),
        up=(1, 0, 0),
        world_from_host=translation((0.6, 0.0, 0.0)),
    )
    frame = camera.read()
    points = frame.points_world().reshape(240, 320, 3)
    raised = points[..., 2] > 0.03
    assert raised.any()
    centre = points[raised].mean(axis=0)
    assert centre[0] == pytest.approx(0.7, abs=0.005)  # 0.1 in the host's frame, +0.6
    assert centre[1] == pytest.approx(0.05, abs=0.005)
    assert points[raised][:, 2].max() == pytest.approx(0.04, abs=0.003)


def test_camera_pose_from_a_matrix_matches_eye_target_up(client):
    _box(client, (0.0, 0.0, -0.01), (0.5, 0.5, 0.01), (0.9, 0.9, 0.9, 1))
    a = PyBulletCamera(client, eye=(0.3, 0.1, 0.7), target=(0, 0, 0), up=(0, 0, 1), width=160, height=120)
    b = PyBulletCamera(client, T_world_cam=a.T_world_cam, width=160, height=120)
    np.testing.assert_allclose(a.T_world_cam, b.T_world_cam, atol=1e-6)
    np.testing.assert_allclose(a.read().depth, b.read().depth, atol=1e-4)


def test_hidden_bodies_are_not_rendered_and_keep_their_colour(client):
    _box(client, (0.0, 0.0, -0.01), (0.5, 0.5, 0.01), (0.9, 0.9, 0.9, 1))
    ghost = _box(client, (0.0, 0.0, 0.02), (0.02, 0.02, 0.02), (0.1, 0.9, 0.1, 0.3))
    kwargs = dict(fov_deg=40, width=160, height=120, eye=(0, 0, 0.8), target=(0, 0, 0), up=(1, 0, 0))
    seen = PyBulletCamera(client, **kwargs).read()
    hidden = PyBulletCamera(client, hide=[ghost], **kwargs).read()
    assert (seen.points_world()[:, 2] > 0.03).any()
    assert not (hidden.points_world()[:, 2] > 0.01).any()
    assert p.getVisualShapeData(ghost, physicsClientId=client)[0][7] == pytest.approx((0.1, 0.9, 0.1, 0.3))


def test_camera_refuses_what_pybullet_cannot_render(client):
    from groundsight.perception.frame import CameraIntrinsics

    with pytest.raises(ValueError, match="principal point"):
        PyBulletCamera(
            client, intrinsics=CameraIntrinsics(640, 480, 500, 500, 300, 240), eye=(0, 0, 1), target=(0, 0, 0)
        )
    with pytest.raises(ValueError, match="pose"):
        PyBulletCamera(client)


def test_named_places_become_objects_the_knowledge_graph_knows(tmp_path):
    places = [NamedPlace(name="blue target", position=(0.6, 0.1, 0.0)), NamedPlace(name="zone", position=(0.5, 0, 0))]
    assert [q.id for q in places] == ["blue_target", "unmarked_zone"]
    path = tmp_path / "places.ttl"
    path.write_text(places_turtle(places), encoding="utf-8")
    kb = KnowledgeBase([path])
    assert kb.affords("target", "on").value and not kb.graspable("target").value
    air = NamedPlace(name="target", position=(0.6, 0.1, 0.2), surface=False)
    path.write_text(places_turtle([air]), encoding="utf-8")
    assert not KnowledgeBase([path]).affords("target", "on").value
    percept = PlacesPerceiver(_Nothing(), places).perceive([])
    assert percept.ids == ["blue_target", "unmarked_zone"]
    assert percept.by_id("blue_target").position[2] < 0.0 < percept.by_id("blue_target").extent[2]


class _Nothing:
    name = "nothing"

    def perceive(self, frames):
        return Percept(objects=[], cameras=[], perceiver=self.name)


@pytest.mark.parametrize(
    "name,error",
    [("the target", "colour word"), ("big red target", "noun"), ("target-2", "noun")],
)
def test_bad_place_names_are_refused_with_a_reason(name, error):
    with pytest.raises(ValueError, match=error):
        NamedPlace(name=name, position=(0.5, 0.0, 0.0))


def test_places_must_not_clash():
    twice = [NamedPlace(name="target", position=(0.5, 0, 0)), NamedPlace(name="target", position=(0.6, 0, 0))]
    with pytest.raises(ValueError, match="two places"):
        check_places(twice, [])
    with pytest.raises(ValueError, match="already names"):
        check_places([NamedPlace(name="plate", position=(0.5, 0, 0))], ["plate", "block"])


def test_a_hosts_paints_are_named_only_with_its_appearance():
    green, blue = (25, 214, 25), (25, 25, 214)  # panda-gym's (0.1, 0.9, 0.1) and (0.1, 0.1, 0.9), lit
    assert ColorClassifier().classify((128, 128, 128)) == "gray"  # (whatever the default makes of the paints)
    palette = Appearance(albedos={"green": ((0.1, 0.9, 0.1),), "blue": ((0.1, 0.1, 0.9),)}).classifier()
    assert palette.classify(green) == "green" and palette.classify(blue) == "blue"
    assert palette.classify((200, 30, 30)) == "red"  # the default references still count
    with pytest.raises(ValueError, match="unknown colour"):
        Appearance(albedos={"teal": ((0.0, 0.5, 0.5),)})
