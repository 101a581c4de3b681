"""The gymnasium environment: the official checker, determinism, and solving a task through skills."""

from __future__ import annotations

import warnings
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pybullet as p
import pytest
from gymnasium.utils.env_checker import check_env

import groundsight.agent  # noqa: F401  (registers groundsight/Tabletop-v0)
from groundsight.agent.tasks.scenario import load_scenario
from groundsight.agent.tasks.scenario_env import ENV_ID, ScenarioTask, make_env
from groundsight.sim.camera import SimCamera, camera_config
from groundsight.sim.tabletop_env import MAX_OBJECTS, OBJECT_FEATURES, TabletopEnv


def test_check_env_passes_without_warnings() -> None:
    env = gym.make(ENV_ID)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    env.close()


def test_skill_actions_solve_the_demo_task() -> None:
    env = gym.make(ENV_ID)
    obs, info = env.reset(seed=3)
    assert info["objects"] == ["red_block", "blue_bowl", "green_block"]
    assert obs["rgb"].shape == (240, 320, 3) and obs["depth"].dtype == np.float32
    assert not info["is_success"]
    obs, reward, terminated, truncated, info = env.step(np.array([0, 0, 0]))  # pick red_block
    assert info["skill"]["ok"] and obs["robot"][8] == 1.0 and reward == 0.0
    assert "wall_time_s" not in info["skill"]["detail"]  # wall time would make check_env flaky
    obs, reward, terminated, truncated, info = env.step(np.array([1, 0, 1]))  # place_in blue_bowl
    assert info["skill"]["ok"] and reward == 1.0 and terminated and not truncated
    assert env.render().shape == (240, 320, 3)
    env.close()


def test_failed_skill_is_reported_not_hidden() -> None:
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(np.array([1, 0, 1]))  # place without holding
    assert not info["skill"]["ok"] and info["skill"]["reason"] == "not_holding"
    assert reward == 0.0 and not terminated
    env.close()


def test_same_seed_same_truth_trajectory() -> None:
    def rollout() -> list[dict]:
        env = gym.make(ENV_ID)
        _, info = env.reset(seed=11)
        states = [info["truth"]]
        for action in ([0, 0, 0], [2, 0, 2], [3, 0, 0]):
            states.append(env.step(np.array(action))[4]["truth"])
        env.close()
        return states

    assert rollout() == rollout()


# ---- world reuse: a reset after any history is a new env's reset --------------------------------------------------

SCENARIOS = (
    "scenarios/pick_place/red_block_in_blue_bowl.yaml",
    "scenarios/handover/red_mug.yaml",
    "scenarios/sorting/three_colours_into_bowls.yaml",
    "scenarios/pick_place/pink_block_in_brown_tray.yaml",
)
SMALL_CAMERA = replace(camera_config("top"), width=64, height=48)


def _same_observation(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _history(env: TabletopEnv, rng: np.random.Generator) -> None:
    """Episodes of every scenario in one env (the task swapped between resets), with random valid skills."""
    for path in (*SCENARIOS[1:], SCENARIOS[0]):
        env.task = ScenarioTask(load_scenario(path))
        _, info = env.reset(seed=int(rng.integers(1000)))
        n = len(info["objects"])
        env.step(np.array([0, rng.integers(n), 0]))  # pick something (moves bodies, makes contacts)
        env.step(np.array([rng.integers(1, 3), 0, rng.integers(n)]))


@pytest.mark.parametrize("render_mode", ["rgb_array", None])
def test_reset_after_any_history_equals_a_new_envs_reset(render_mode: str | None) -> None:
    env = make_env(SCENARIOS[0], render_mode=render_mode, camera=SMALL_CAMERA)
    _history(env, np.random.default_rng(5))
    for i, path in enumerate(SCENARIOS):
        seed = 40 + i
        env.task = ScenarioTask(load_scenario(path))
        obs, info = env.reset(seed=seed)
        new = make_env(path, render_mode=render_mode, camera=SMALL_CAMERA)
        new_obs, new_info = new.reset(seed=seed)
        new.close()
        assert _same_observation(obs, new_obs), path
        assert info == new_info, path
    env.close()


def test_resets_reuse_the_world_and_its_bodies() -> None:
    env = make_env(SCENARIOS[2], render_mode=None)
    env.reset(seed=0)
    world, client = env.world, env.world.client
    n_bodies = p.getNumBodies(physicsClientId=client)
    for seed in range(1, 6):
        _, info = env.reset(seed=seed)
        assert env.world is world and p.getNumBodies(physicsClientId=client) == n_bodies
        for oid in info["objects"]:  # every object of the episode rests on the table top, inside the view
            assert info["truth"][oid]["base_position"][2] == 0.0
    env.task = ScenarioTask(load_scenario(SCENARIOS[0]))  # fewer objects: the rest stay parked
    env.reset(seed=0)
    for body in set(b for bodies in env.pool.bodies.values() for b in bodies) - set(world.bodies.values()):
        assert p.getBasePositionAndOrientation(body, physicsClientId=client)[0][2] < -10.0
    env.close()


def test_state_mode_renders_nothing_and_observes_objects(monkeypatch) -> None:
    def no_rendering(self):
        raise AssertionError("render_mode=None rendered a camera image")

    env = gym.make(ENV_ID, render_mode=None).unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env)  # (it also renders a new rgb_array env, so the camera is stubbed out only afterwards)
    monkeypatch.setattr(SimCamera, "read", no_rendering)
    obs, info = env.reset(seed=3)
    assert set(obs) == {"robot", "objects"} and obs["objects"].shape == (MAX_OBJECTS, len(OBJECT_FEATURES))
    n = len(info["objects"])
    assert (obs["objects"][:n, 0] == 1.0).all() and not obs["objects"][n:].any()
    red = info["truth"]["red_block"]
    assert np.allclose(obs["objects"][0, 1:7], [*red["position"], *red["extent"]], atol=1e-6)
    obs, *_ = env.step(np.array([0, 0, 0]))  # pick the red block: it is lifted
    assert obs["robot"][8] == 1.0 and obs["objects"][0, 3] > red["position"][2] + 0.05
    assert env.render() is None
    env.close()
