"""The Push-T/Push-K MuJoCo world, generated from a block shape.

The block moves in the plane on three joints (slide x, slide y, hinge z) with
Coulomb friction (``frictionloss``) standing in for table friction: gravity is
off and nothing touches a floor, so every contact is pusher-block. This keeps a
physics step to a few microseconds, which is what makes 200-trial statistics
affordable on a 2-core machine.
"""

from __future__ import annotations

import mujoco

from gpc_sim.errors import ConfigError
from gpc_sim.push import constants as C
from gpc_sim.push.shapes import BlockShape


def world_xml(shape: BlockShape) -> str:
    """MJCF text of the world with ``shape`` as the block."""
    z = C.BLOCK_HEIGHT / 2
    block_geoms = "\n".join(
        f'        <geom type="box" pos="{r.center[0]} {r.center[1]} 0" '
        f'size="{r.size[0] / 2} {r.size[1] / 2} {z}" rgba="0.85 0.3 0.25 1"/>'
        for r in shape.rectangles
    )
    lim = C.TABLE_HALF_EXTENT
    return f"""
<mujoco model="push_{shape.name.lower()}">
  <option timestep="{C.TIMESTEP}" gravity="0 0 0" integrator="implicitfast" cone="elliptic"/>
  <default>
    <geom density="{C.BLOCK_DENSITY}" friction="0.4 0.005 0.0001" solref="0.02 1"/>
  </default>
  <worldbody>
    <geom name="table" type="plane" size="0.5 0.5 0.01" pos="0 0 {-z}" contype="0"
          conaffinity="0" rgba="0.9 0.9 0.9 1"/>
    <body name="pusher" pos="0 0 0">
      <joint name="pusher_x" type="slide" axis="1 0 0" range="{-lim} {lim}" limited="true"/>
      <joint name="pusher_y" type="slide" axis="0 1 0" range="{-lim} {lim}" limited="true"/>
      <geom name="pusher" type="sphere" size="{C.PUSHER_RADIUS}" mass="{C.PUSHER_MASS}"
            rgba="0.2 0.4 0.9 1"/>
    </body>
    <body name="block" pos="0 0 0">
      <joint name="block_x" type="slide" axis="1 0 0" frictionloss="{C.BLOCK_SLIDE_FRICTION}"
             damping="{C.BLOCK_DAMPING}"/>
      <joint name="block_y" type="slide" axis="0 1 0" frictionloss="{C.BLOCK_SLIDE_FRICTION}"
             damping="{C.BLOCK_DAMPING}"/>
      <joint name="block_yaw" type="hinge" axis="0 0 1" frictionloss="{C.BLOCK_SPIN_FRICTION}"
             damping="{C.BLOCK_DAMPING * 0.01}"/>
{block_geoms}
    </body>
  </worldbody>
  <actuator>
    <position name="pusher_x" joint="pusher_x" kp="{C.PUSHER_KP}" kv="{C.PUSHER_KV}"
              ctrlrange="{-lim} {lim}" ctrllimited="true"
              forcerange="{-C.PUSHER_MAX_FORCE} {C.PUSHER_MAX_FORCE}" forcelimited="true"/>
    <position name="pusher_y" joint="pusher_y" kp="{C.PUSHER_KP}" kv="{C.PUSHER_KV}"
              ctrlrange="{-lim} {lim}" ctrllimited="true"
              forcerange="{-C.PUSHER_MAX_FORCE} {C.PUSHER_MAX_FORCE}" forcelimited="true"/>
  </actuator>
</mujoco>
"""


def build_model(shape: BlockShape) -> mujoco.MjModel:
    """Compile the world for ``shape``; a shape MuJoCo refuses is a ConfigError naming it."""
    try:
        return mujoco.MjModel.from_xml_string(world_xml(shape))
    except ValueError as err:  # MuJoCo's compiler errors
        first = (str(err).splitlines() or ["?"])[0]
        raise ConfigError(f"block shape {shape.name!r} cannot be simulated: {first}") from None
