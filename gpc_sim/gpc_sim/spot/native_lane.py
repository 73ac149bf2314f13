"""ctypes bindings of the compiled Spot lane loop (``native/spot_lane.c``).

``SpotRolloutEngine`` (``spot.rollout``) runs a lane's whole horizon through
``NativeLane.rollout``: one C call per lane and batch instead of ~10 numpy and MuJoCo calls
per command step. ctypes releases the GIL during the call, so the engine's lane threads
run in parallel. The other entry points (``command``, ``observe``, ``forward``,
``targets``) expose the C ports of the numpy functions one by one, for the tests that hold
them to the numpy reference.

``native_lane()`` builds (``native_build``) and loads the library once per process and
returns None where that is impossible; ``native_unavailable()`` says why, in one line, and
a warning says it once when the engine falls back to numpy. ``GPC_SPOT_NATIVE=0`` turns
the compiled loop off (no build, no warning).
"""

from __future__ import annotations

import ctypes
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from gpc_sim.spot.action import _ARM_HIGH, _ARM_LOW, SAFE_ARM_POSE, SpotActionConfig
from gpc_sim.spot.constants import (
    ACTION_DIM,
    ACTION_SCALE,
    ARM,
    BASE_VEL,
    COMMAND_DIM,
    DEFAULT_JOINT_POSE,
    DEFAULT_LEG_POSE,
    ISAAC_FROM_MUJOCO,
    LEG_ACTION_FROM_MUJOCO,
    LEG_OVERRIDE,
    N_ARM_JOINTS,
    N_JOINTS,
    N_LEG_JOINTS,
    N_TARGET_ARM,
    OBS_ANG_VEL,
    OBS_COMMAND,
    OBS_DIM,
    OBS_GRAVITY,
    OBS_JOINT_POS,
    OBS_JOINT_VEL,
    OBS_LIN_VEL,
    OBS_PREV_ACTION,
    QPOS_JOINTS,
    QVEL_JOINTS,
    TARGET_DIM,
    TORSO,
)
from gpc_sim.spot.native_build import NativeBuildError, build_library
from gpc_sim.spot.policy import LocomotionPolicy

ABI = 1  # SPOT_LANE_ABI of the source this module was written for
MAX_LAYERS = 8
DISABLE_VARIABLE = "GPC_SPOT_NATIVE"  # "0": do not build or use the compiled loop

_ERRORS = {1: "MuJoCo error", 2: "out of memory", 3: "bad arguments"}

_d, _i, _f = ctypes.c_double, ctypes.c_int, ctypes.c_float
_P = ctypes.c_void_p


class _Config(ctypes.Structure):
    """``SpotLaneConfig`` of spot_lane.c, field for field."""

    _fields_ = [  # ctypes reads this class attribute
        ("tracking_time", _d), ("max_vx", _d), ("max_vy", _d), ("max_yaw_rate", _d),
        ("gripper", _d), ("torso", _d * 3),
        ("arm_low", _d * N_TARGET_ARM), ("arm_high", _d * N_TARGET_ARM),
        ("safe_arm", _d * N_TARGET_ARM),
        ("default_isaac", _d * N_JOINTS), ("default_legs", _d * N_LEG_JOINTS),
        ("qpos_isaac", _i * N_JOINTS), ("qvel_isaac", _i * N_JOINTS),
        ("leg_action", _i * N_LEG_JOINTS),
        ("action_scale", _f),
        ("nlayer", _i), ("dims", _i * (MAX_LAYERS + 1)),
        ("weight", _P * MAX_LAYERS), ("bias", _P * MAX_LAYERS),
    ]  # fmt: skip


@dataclass
class LaneConfig:
    """A filled ``SpotLaneConfig`` and the weight arrays its pointers point into.

    Holding the arrays here keeps them alive as long as the struct is used.
    """

    struct: _Config
    arrays: tuple[np.ndarray, ...]
    policy: LocomotionPolicy
    action_config: SpotActionConfig


def _ptr(array: np.ndarray) -> int:
    return array.ctypes.data


class NativeLane:
    """The loaded library, with typed wrappers of its entry points."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._lib = lib
        lib.spot_lane_layout.argtypes = [_P, _i]
        lib.spot_lane_layout.restype = _i
        lib.spot_lane_rollout.argtypes = [_P, _P, _i, _P, _i, _i, _i, _P, _P, _P, _P, _i]
        lib.spot_lane_rollout.restype = _i
        lib.spot_command.argtypes = [_P, _i, _P, _i, _P, _P]
        lib.spot_command.restype = None
        lib.spot_observe.argtypes = [_P, _i, _P, _i, _P, _i, _P, _P, _P]
        lib.spot_observe.restype = None
        lib.spot_forward.argtypes = [_P, _i, _P, _P]
        lib.spot_forward.restype = _i
        lib.spot_targets.argtypes = [_P, _i, _P, _P, _P]
        lib.spot_targets.restype = None
        lib.spot_elu.argtypes = [_i, _P]
        lib.spot_elu.restype = None
        lib.spot_lane_catches_errors.argtypes = []
        lib.spot_lane_catches_errors.restype = _i
        lib.spot_lane_fast_fma.argtypes = []
        lib.spot_lane_fast_fma.restype = _i
        lib.spot_lane_clock_us.argtypes = []
        lib.spot_lane_clock_us.restype = _d

    @property
    def clock_us(self) -> ctypes._CFuncPtr:
        """A C clock in microseconds, ``double (void)``: MuJoCo's timer callback
        (``mujoco.set_mjcb_time``) without a Python call per timed stage."""
        return self._lib.spot_lane_clock_us

    def layout(self) -> tuple[int, ...]:
        """The compiled-in facts (``spot_lane_layout`` in spot_lane.c says which)."""
        out = (ctypes.c_int * 32)()
        count = self._lib.spot_lane_layout(ctypes.addressof(out), 32)
        return tuple(out[: min(count, 32)])

    def catches_errors(self) -> bool:
        """Whether a MuJoCo error inside ``rollout`` raises (True) or ends the process."""
        return bool(self._lib.spot_lane_catches_errors())

    def mismatch(self) -> str | None:
        """Why this library does not fit this Python side (or would be slower than numpy:
        no hardware fused multiply-add), or None."""
        if not self._lib.spot_lane_fast_fma():
            return "no hardware fused multiply-add (the float32 matmul would crawl)"
        header = mujoco.mjVERSION_HEADER
        starts = (BASE_VEL, ARM, LEG_OVERRIDE, TORSO, OBS_LIN_VEL, OBS_ANG_VEL, OBS_GRAVITY,
                  OBS_COMMAND, OBS_JOINT_POS, OBS_JOINT_VEL, OBS_PREV_ACTION)  # fmt: skip
        want = (ABI, header, header, ctypes.sizeof(_Config), MAX_LAYERS,
                TARGET_DIM, COMMAND_DIM, OBS_DIM, ACTION_DIM, N_JOINTS,
                *(part.start for part in starts))  # fmt: skip
        facts = self.layout()
        if facts != want:
            return f"compiled layout {facts} differs from the expected {want}"
        return None

    @staticmethod
    def config(policy: LocomotionPolicy, action_config: SpotActionConfig) -> LaneConfig:
        """The C view of a policy and an action config (pointers into the weights)."""
        c = _Config()
        a = action_config
        c.tracking_time, c.max_vx, c.max_vy = a.tracking_time, a.max_vx, a.max_vy
        c.max_yaw_rate, c.gripper = a.max_yaw_rate, a.gripper
        c.torso[:] = list(a.torso)
        c.arm_low[:], c.arm_high[:] = list(_ARM_LOW), list(_ARM_HIGH)
        c.safe_arm[:] = list(SAFE_ARM_POSE)
        c.default_isaac[:] = [DEFAULT_JOINT_POSE[j] for j in ISAAC_FROM_MUJOCO]
        c.default_legs[:] = list(DEFAULT_LEG_POSE)
        c.qpos_isaac[:] = [QPOS_JOINTS + j for j in ISAAC_FROM_MUJOCO]
        c.qvel_isaac[:] = [QVEL_JOINTS + j for j in ISAAC_FROM_MUJOCO]
        c.leg_action[:] = list(LEG_ACTION_FROM_MUJOCO)
        c.action_scale = ACTION_SCALE  # rounded to float32, as numpy's weak scalar is
        weights = [np.ascontiguousarray(w, dtype=np.float32) for w in policy.weights]
        biases = [np.ascontiguousarray(b, dtype=np.float32) for b in policy.biases]
        if not 1 <= len(weights) <= MAX_LAYERS:
            raise ValueError(f"the C lane loop takes 1-{MAX_LAYERS} layers, not {len(weights)}")
        c.nlayer = len(weights)
        dims = [weights[0].shape[0], *(w.shape[1] for w in weights)]
        c.dims[: len(dims)] = dims
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            c.weight[i], c.bias[i] = _ptr(w), _ptr(b)
        return LaneConfig(c, (*weights, *biases), policy, action_config)

    def rollout(
        self,
        model: mujoco.MjModel,
        datas: Sequence[mujoco.MjData],
        config: LaneConfig,
        start: np.ndarray,
        targets: np.ndarray,
        states: np.ndarray,
        substeps: int,
    ) -> None:
        """Fill ``states`` (m, T, size) from ``start`` (m, size) and ``targets`` (m, T, 9).

        All three C-contiguous float64; ``datas``: one MjData (shared by the worlds) or one
        per world. Raises ``mujoco.FatalError`` on an error inside MuJoCo (the datas are
        then spent) and ValueError on arguments the C side rejects.
        """
        m, t, _ = targets.shape
        for name, array in (("start", start), ("targets", targets), ("states", states)):
            if array.dtype != np.float64 or not array.flags.c_contiguous:
                raise ValueError(f"{name} must be C-contiguous float64")
        if start.shape[0] != m or states.shape[:2] != (m, t) or start.shape[1] != states.shape[2]:
            raise ValueError(
                f"shapes start {start.shape}, targets {targets.shape}, "
                f"states {states.shape} do not fit"
            )
        pointers = (ctypes.c_void_p * len(datas))(*(d._address for d in datas))
        err = ctypes.create_string_buffer(512)
        status = self._lib.spot_lane_rollout(
            model._address, pointers, len(datas), ctypes.addressof(config.struct), m, t,
            substeps, _ptr(start), _ptr(targets), _ptr(states), err, len(err),
        )  # fmt: skip
        if status == 1:
            raise mujoco.FatalError(err.value.decode(errors="replace"))
        if status != 0:
            raise ValueError(f"spot_lane_rollout: {_ERRORS.get(status, status)}")

    # --- the numpy functions one by one (tests) ---------------------------------------------

    def command(self, config: LaneConfig, qpos: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``targets_to_command(targets, base_pose_from_qpos(qpos))``: (n, nq), (n, 9)."""
        qpos = np.ascontiguousarray(qpos, dtype=np.float64)
        targets = np.ascontiguousarray(targets, dtype=np.float64)
        n = qpos.shape[0]
        out = np.empty((n, COMMAND_DIM))
        self._lib.spot_command(
            ctypes.addressof(config.struct), n, _ptr(qpos), qpos.shape[1], _ptr(targets), _ptr(out)
        )
        return out

    def observe(
        self,
        config: LaneConfig,
        qpos: np.ndarray,
        qvel: np.ndarray,
        command: np.ndarray,
        prev_out: np.ndarray,
    ) -> np.ndarray:
        """``LocomotionPolicy.observe``: (n, 84) float32."""
        qpos = np.ascontiguousarray(qpos, dtype=np.float64)
        qvel = np.ascontiguousarray(qvel, dtype=np.float64)
        command = np.ascontiguousarray(command, dtype=np.float64)
        prev = np.ascontiguousarray(prev_out, dtype=np.float32)
        n = qpos.shape[0]
        obs = np.empty((n, OBS_DIM), dtype=np.float32)
        self._lib.spot_observe(
            ctypes.addressof(config.struct),
            n,
            _ptr(qpos),
            qpos.shape[1],
            _ptr(qvel),
            qvel.shape[1],
            _ptr(command),
            _ptr(prev),
            _ptr(obs),
        )
        return obs

    def forward(self, config: LaneConfig, obs: np.ndarray) -> np.ndarray:
        """``LocomotionPolicy.forward``: (n, 12) float32."""
        obs = np.ascontiguousarray(obs, dtype=np.float32)
        out = np.empty((obs.shape[0], ACTION_DIM), dtype=np.float32)
        status = self._lib.spot_forward(
            ctypes.addressof(config.struct), obs.shape[0], _ptr(obs), _ptr(out)
        )
        if status != 0:
            raise ValueError(f"spot_forward: {_ERRORS.get(status, status)}")
        return out

    def targets(self, config: LaneConfig, command: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``LocomotionPolicy.targets``: (n, 19)."""
        command = np.ascontiguousarray(command, dtype=np.float64)
        out = np.ascontiguousarray(out, dtype=np.float32)
        ctrl = np.empty((command.shape[0], N_LEG_JOINTS + N_ARM_JOINTS))
        self._lib.spot_targets(
            ctypes.addressof(config.struct), command.shape[0], _ptr(command), _ptr(out), _ptr(ctrl)
        )
        return ctrl

    def elu(self, x: np.ndarray) -> np.ndarray:
        """The C ELU (its polynomial expm1) of float32 values, as a new array."""
        y = np.array(x, dtype=np.float32, order="C")
        self._lib.spot_elu(y.size, _ptr(y))
        return y


# --- loading, once per process -----------------------------------------------------------

_lock = threading.Lock()
_loaded: tuple[NativeLane | None, str | None] | None = None


def _load() -> tuple[NativeLane | None, str | None]:
    if os.environ.get(DISABLE_VARIABLE, "").strip() == "0":
        return None, f"turned off by {DISABLE_VARIABLE}=0"
    try:
        path = build_library()
    except NativeBuildError as err:
        return None, str(err)
    try:
        lane = NativeLane(ctypes.CDLL(str(path)))
    except (OSError, AttributeError) as err:
        return None, f"cannot load {path}: {err}"
    mismatch = lane.mismatch()
    if mismatch is not None:
        return None, f"{path.name}: {mismatch}"
    return lane, None


def _state() -> tuple[NativeLane | None, str | None]:
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _load()
        return _loaded


def native_lane() -> NativeLane | None:
    """The compiled lane loop, built on first use; None where it cannot be built or loaded."""
    return _state()[0]


def native_unavailable() -> str | None:
    """Why the compiled lane loop cannot be used here, in one line; None when it can."""
    return _state()[1]


def warn_fallback() -> None:
    """Say once per process that the engine runs numpy because the C loop is unavailable
    (not when it was turned off on purpose)."""
    global _warned
    reason = native_unavailable()
    if reason is None or _warned or os.environ.get(DISABLE_VARIABLE, "").strip() == "0":
        return
    _warned = True
    warnings.warn(
        f"Spot rollouts use the numpy engine: the compiled lane loop is unavailable ({reason})",
        RuntimeWarning,
        stacklevel=4,  # the code that made the engine
    )


_warned = False


def reset_for_tests() -> None:
    """Forget the loaded library and the warning, so that a test can load again."""
    global _loaded, _warned
    with _lock:
        _loaded = None
        _warned = False
