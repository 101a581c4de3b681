"""The gymnasium environment: the official checker, determinism, and solving a task through skills."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

import groundsight.agent  # noqa: F401  (registers groundsight/Tabletop-v0)
from groundsight.agent.tasks.scenario_env import ENV_ID


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
