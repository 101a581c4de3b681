"""One groundsight episode in panda-gym's PandaPush-v3, scored by panda-gym's own ``is_success``.

Copy this to put the agent into your own PyBullet world: give it cameras that render your client, a robot
that acts through your control interface, the places your instruction names, and your success check.

    pip install panda-gym
    python examples/panda_gym_push.py [--seed 0] [--out runs/panda_gym_push]
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import panda_gym  # noqa: F401 - registers the panda-gym envs

from groundsight.agent.hosts import NamedPlace, PyBulletCamera, run_in_host, translation
from groundsight.agent.hosts.panda_gym import APPEARANCE, PandaGymRobot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="run directory (trace, frames, summary.json)")
    args = parser.parse_args()

    env = gym.make("PandaPush-v3")
    env.reset(seed=args.seed)
    sim, task = env.unwrapped.sim, env.unwrapped.task

    # the robot: panda-gym's own Panda, driven with end-effector actions; the agent's frame has the robot
    # base at the origin, so positions are shifted by the base (panda-gym puts it at x = -0.6)
    robot = PandaGymRobot(env)
    robot.settle()  # let the world come to rest after the reset
    robot.home()  # out of the camera's view
    to_agent = translation(tuple(-robot.base))

    # the camera: 0.9 m above the workspace, looking down, rendering panda-gym's own client; the goal marker
    # (a transparent "ghost" box) is hidden while it renders: it is not an object, it is a place
    camera = PyBulletCamera(
        sim.physics_client._client,
        fov_deg=35,
        width=640,
        height=480,
        eye=(0.0, 0.0, 0.9),
        target=(0.0, 0.0, 0.0),
        up=(1.0, 0.0, 0.0),
        near=0.05,
        far=3.0,
        name="top",
        world_from_host=to_agent,
        hide=[sim._bodies_idx["target"]],
    )

    # the place the instruction names: where the goal cube's bottom is, in the agent's frame
    goal_bottom = np.asarray(task.goal) - [0.0, 0.0, 0.02]
    target = NamedPlace(name="target", position=robot.to_agent(goal_bottom), size=(0.05, 0.05))

    def success() -> bool:  # panda-gym's own verdict
        return bool(task.is_success(task.get_achieved_goal(), task.goal))

    result = run_in_host(
        "push the block to the target",
        cameras=[camera],
        robot=robot,
        places=[target],
        success=success,
        out=args.out,
        appearance=APPEARANCE,  # panda-gym's saturated green and white table, for the classical perceiver
        seed=args.seed,
        max_retries=5,  # a push is open loop: the agent looks again and pushes again until it sees it there
        max_steps=60,
    )
    print(f"agent: {result.status} ({result.reason})")
    print(f"panda-gym is_success: {result.host_success}")
    env.close()


if __name__ == "__main__":
    main()
