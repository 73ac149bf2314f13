/*
 * One lane of the Spot rollout engine, compiled: the whole horizon of a block of worlds.
 *
 * Why: the numpy lane loop (gpc_sim/spot/rollout.py, SpotRolloutEngine._run_lane) spends
 * ~220 us per command step in Python glue (target mapping, observation, copies, the
 * mujoco.rollout call) next to ~130 us of policy matmuls, against ~2.3 ms of physics for
 * 16 worlds. Here every command step of every world runs without returning to Python, and
 * the caller (gpc_sim/spot/native_lane.py, through ctypes, which releases the GIL) runs one
 * lane per thread.
 *
 * It is a port, not a new design: each function below names the numpy function it mirrors
 * and keeps its order of operations in double precision (this file is compiled with
 * -ffp-contract=off, so no multiply-add is fused that numpy would round twice). What
 * cannot be bitwise equal: libm's cos/sin/atan2 against numpy's (ulps), and the float32
 * network, whose matmul sums in another order than OpenBLAS and whose ELU uses the
 * polynomial expm1 below. The physics is mujoco.rollout's per-world sequence
 * (python/mujoco/rollout.cc), so given the same actuator targets the states are equal bit
 * for bit.
 *
 * The interface facts (joint orders, default pose, limits, weights) come from Python in a
 * SpotLaneConfig, so constants.py stays their one source; only the vector sizes below are
 * compiled in, and the loader checks them against constants.py (spot_lane_layout).
 */

#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mujoco/mujoco.h>

/* Bumped whenever SpotLaneConfig or a function signature changes. */
#define SPOT_LANE_ABI 1

/* Sizes fixed by the policy's interface (constants.py). */
#define TARGET_DIM 9   /* x, y, yaw, 6 arm joints */
#define COMMAND_DIM 25 /* vx, vy, yaw rate, 7 arm, 12 leg override, roll, pitch, height */
#define OBS_DIM 84
#define ACTION_DIM 12
#define N_JOINTS 19
#define N_LEG_JOINTS 12
#define N_ARM_TARGET 6
#define N_ARM_COMMAND 7 /* 6 arm joints and the gripper */
#define CMD_BASE_VEL 0 /* vx, vy, yaw rate */
#define CMD_ARM 3
#define CMD_GRIPPER (CMD_ARM + N_ARM_TARGET)
#define CMD_LEG_OVERRIDE 10
#define CMD_TORSO 22
#define OBS_LIN_VEL 0
#define OBS_ANG_VEL 3
#define OBS_GRAVITY 6
#define OBS_COMMAND 9
#define OBS_JOINT_POS 34
#define OBS_JOINT_VEL 53
#define OBS_PREV_ACTION 72
#define MAX_LAYERS 8
#define PI 3.141592653589793 /* np.pi (M_PI is not ISO C) */

/* Register tile of the matmul: ROWS batch rows x COLS outputs (COLS: one vector register
 * per row, 16 floats with AVX-512, 8 without). The batch is padded to a multiple of ROWS
 * and every row goes through the same instructions, so a world's output does not depend
 * on the batch it is in (numpy's OpenBLAS only promises that for batches of 8 or more). */
#define ROWS 8 /* dense_tile names its eight accumulator rows */
#if defined(__AVX512F__)
#define COLS 16
#else
#define COLS 8
#endif

enum {
  SPOT_LANE_OK = 0,
  SPOT_LANE_MJ_ERROR = 1,  /* mju_error inside MuJoCo; message in err */
  SPOT_LANE_NO_MEMORY = 2,
  SPOT_LANE_BAD_ARGUMENT = 3,
};

/* Everything the numpy reference takes from SpotActionConfig, constants.py and the
 * LocomotionPolicy; filled by native_lane.py (a ctypes.Structure of the same layout). */
typedef struct {
  /* SpotActionConfig */
  double tracking_time, max_vx, max_vy, max_yaw_rate, gripper;
  double torso[3];
  /* action.py: arm joint limits and the safe (non-finite input) arm pose */
  double arm_low[N_ARM_TARGET], arm_high[N_ARM_TARGET], safe_arm[N_ARM_TARGET];
  /* policy.py: default pose in Isaac order, default legs in MuJoCo order */
  double default_isaac[N_JOINTS];
  double default_legs[N_LEG_JOINTS];
  int qpos_isaac[N_JOINTS]; /* qpos index of Isaac joint j */
  int qvel_isaac[N_JOINTS];
  int leg_action[N_LEG_JOINTS]; /* network output feeding MuJoCo leg joint k */
  float action_scale;
  /* the MLP: dims[0] = OBS_DIM -> ... -> dims[nlayer] = ACTION_DIM, weights (in, out) */
  int nlayer;
  int dims[MAX_LAYERS + 1];
  const float* weight[MAX_LAYERS];
  const float* bias[MAX_LAYERS];
} SpotLaneConfig;

/* --- MuJoCo errors -------------------------------------------------------------------- */

/* mju_error's default handler exits the process. MuJoCo's Python bindings catch it with a
 * thread-local handler that longjmps back to the caller (python/mujoco/errors.h); this
 * file does the same through the same (private) hook, so an error in mj_step becomes a
 * return code and then a Python exception. Weak: a libmujoco without the hook still works,
 * without the interception. */
typedef void (*mj_error_fn)(const char*);
extern void _mjPRIVATE__set_tls_error_fn(mj_error_fn fn) __attribute__((weak));
extern mj_error_fn _mjPRIVATE__get_tls_error_fn(void) __attribute__((weak));

static _Thread_local jmp_buf lane_jump;
static _Thread_local char lane_message[512];

static void on_mj_error(const char* msg) {
  snprintf(lane_message, sizeof lane_message, "%s", msg);
  longjmp(lane_jump, 1);
}

/* --- layout check ----------------------------------------------------------------------- */

/* The compiled-in facts, for the loader to compare with constants.py and the wheel:
 * ABI, mjVERSION_HEADER, mj_version() of the loaded libmujoco, sizeof(SpotLaneConfig),
 * MAX_LAYERS, the five vector sizes, then where each part of the command and of the
 * observation starts. Returns how many facts there are; writes at most n. */
int spot_lane_layout(int* out, int n) {
  const int facts[] = {
      SPOT_LANE_ABI, mjVERSION_HEADER, mj_version(), (int)sizeof(SpotLaneConfig), MAX_LAYERS,
      TARGET_DIM, COMMAND_DIM, OBS_DIM, ACTION_DIM, N_JOINTS,
      CMD_BASE_VEL, CMD_ARM, CMD_LEG_OVERRIDE, CMD_TORSO,
      OBS_LIN_VEL, OBS_ANG_VEL, OBS_GRAVITY, OBS_COMMAND, OBS_JOINT_POS, OBS_JOINT_VEL,
      OBS_PREV_ACTION,
  };
  int count = (int)(sizeof facts / sizeof facts[0]);
  for (int i = 0; i < n && i < count; i++) out[i] = facts[i];
  return count;
}

/* 1 when fmaf is one instruction here. Without (x86 before FMA3, or a build without
 * -march=native) every multiply-add of the matmul is a libm call, ~70x slower: the loader
 * then prefers numpy. */
int spot_lane_fast_fma(void) {
#ifdef FP_FAST_FMAF
  return 1;
#else
  return 0;
#endif
}

/* Microseconds (C11 timespec_get): MuJoCo's timer callback (mjcb_time) for the physics
 * profile (gpc_sim/spot/physics_profile.py). A C function, so that the ~30 timer calls of
 * a step cost nanoseconds; a Python callback would add microseconds to every stage. */
double spot_lane_clock_us(void) {
  struct timespec now;
  timespec_get(&now, TIME_UTC);
  return (double)now.tv_sec * 1e6 + (double)now.tv_nsec * 1e-3;
}

/* 1 when MuJoCo errors become SPOT_LANE_MJ_ERROR, 0 when this libmujoco lacks the hook
 * (an mju_error then ends the process, as it does inside mujoco.rollout). */
int spot_lane_catches_errors(void) {
  return _mjPRIVATE__set_tls_error_fn && _mjPRIVATE__get_tls_error_fn;
}

/* --- action.py: targets_to_command --------------------------------------------------- */

/* gpc_sim.angles.wrap_angle: (a + pi) % (2 pi) - pi with numpy's floored remainder
 * (npy_divmod: fmod, moved into the divisor's sign, a zero result takes its sign). */
static double wrap_angle(double a) {
  const double period = 2.0 * PI;
  double mod = fmod(a + PI, period);
  if (mod != 0.0) {
    if ((period < 0.0) != (mod < 0.0)) mod += period;
  } else {
    mod = copysign(0.0, period);
  }
  return mod - PI;
}

static double clip(double x, double low, double high) {
  /* np.clip = minimum(maximum(x, low), high); inputs here are finite */
  double y = x > low ? x : low;
  return y < high ? y : high;
}

/* action.base_pose_from_qpos + action.targets_to_command for one world. */
static void command_one(const SpotLaneConfig* c, const double* qpos, const double* target,
                        double* cmd) {
  double w = qpos[3], x = qpos[4], y = qpos[5], z = qpos[6];
  double pose[3] = {qpos[0], qpos[1],
                    atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))};
  double t[TARGET_DIM];
  int valid = 1;
  for (int i = 0; i < TARGET_DIM; i++) valid &= isfinite(target[i]) != 0;
  for (int i = 0; i < 3; i++) valid &= isfinite(pose[i]) != 0;
  for (int i = 0; i < TARGET_DIM; i++) t[i] = valid ? target[i] : 0.0;
  if (!valid) pose[0] = pose[1] = pose[2] = 0.0;

  double yaw = pose[2];
  double cs = cos(yaw), sn = sin(yaw);
  double dx = (t[0] - pose[0]) / c->tracking_time;
  double dy = (t[1] - pose[1]) / c->tracking_time;
  double vx = cs * dx + sn * dy; /* rotation by -yaw: world -> body */
  double vy = -sn * dx + cs * dy;
  double rx = fabs(vx) / c->max_vx, ry = fabs(vy) / c->max_vy;
  double ratio = rx > ry ? rx : ry;
  double scale = 1.0 / (ratio > 1.0 ? ratio : 1.0);
  double yaw_rate = wrap_angle(t[2] - yaw) / c->tracking_time;

  memset(cmd, 0, COMMAND_DIM * sizeof(double));
  cmd[CMD_BASE_VEL + 0] = vx * scale;
  cmd[CMD_BASE_VEL + 1] = vy * scale;
  cmd[CMD_BASE_VEL + 2] = clip(yaw_rate, -c->max_yaw_rate, c->max_yaw_rate);
  for (int i = 0; i < N_ARM_TARGET; i++) {
    cmd[CMD_ARM + i] = valid ? clip(t[3 + i], c->arm_low[i], c->arm_high[i]) : c->safe_arm[i];
  }
  cmd[CMD_GRIPPER] = c->gripper;
  for (int i = 0; i < 3; i++) cmd[CMD_TORSO + i] = c->torso[i];
}

/* --- policy.py: LocomotionPolicy.observe ------------------------------------------------ */

static void observe_one(const SpotLaneConfig* c, const double* qpos, const double* qvel,
                        const double* cmd, const float* prev, float* obs) {
  double w = qpos[3], x = qpos[4], y = qpos[5], z = qpos[6];
  const double* v = qvel;
  /* world_to_body: t = 2 u x v, then v - w t + u x t (u = (x, y, z)) */
  double t0 = 2.0 * (y * v[2] - z * v[1]);
  double t1 = 2.0 * (z * v[0] - x * v[2]);
  double t2 = 2.0 * (x * v[1] - y * v[0]);
  obs[OBS_LIN_VEL + 0] = (float)(v[0] - w * t0 + (y * t2 - z * t1));
  obs[OBS_LIN_VEL + 1] = (float)(v[1] - w * t1 + (z * t0 - x * t2));
  obs[OBS_LIN_VEL + 2] = (float)(v[2] - w * t2 + (x * t1 - y * t0));
  for (int i = 0; i < 3; i++) obs[OBS_ANG_VEL + i] = (float)qvel[3 + i];
  /* gravity_in_body */
  obs[OBS_GRAVITY + 0] = (float)(2.0 * (w * y - x * z));
  obs[OBS_GRAVITY + 1] = (float)(-2.0 * (y * z + w * x));
  obs[OBS_GRAVITY + 2] = (float)(2.0 * (x * x + y * y) - 1.0);
  for (int i = 0; i < COMMAND_DIM; i++) obs[OBS_COMMAND + i] = (float)cmd[i];
  for (int j = 0; j < N_JOINTS; j++) {
    obs[OBS_JOINT_POS + j] = (float)(qpos[c->qpos_isaac[j]] - c->default_isaac[j]);
    obs[OBS_JOINT_VEL + j] = (float)qvel[c->qvel_isaac[j]];
  }
  for (int i = 0; i < ACTION_DIM; i++) obs[OBS_PREV_ACTION + i] = prev[i];
}

/* --- policy.py: LocomotionPolicy.forward ------------------------------------------------ */

/* expm1 of x <= 0 in float32, vectorisable (glibc's expm1f is a scalar call, and the ELUs
 * take ~7000 of them per lane and command step). x = k ln2 + r with |r| <= ln2 / 2 (ln2 in
 * two parts, Cody-Waite), expm1(r) by its Taylor series to r^7 (truncation < 1e-8
 * relative), expm1(x) = 2^k expm1(r) + (2^k - 1). Within 2 ulp of the exact value on
 * [-20, 0] (test_spot_native_lane.py); below -20 the float result is -1 anyway. NaN stays
 * NaN. */
static inline float expm1_nonpositive(float x) {
  const float inv_ln2 = 1.44269504088896341f;
  const float ln2_hi = 0.693145751953125f;
  const float ln2_lo = 1.42860682030941723e-06f;
  float xc = x >= -20.0f ? x : -20.0f; /* NaN -> -20, restored at the end */
  float k = rintf(xc * inv_ln2);
  float r = fmaf(-k, ln2_hi, xc);
  r = fmaf(-k, ln2_lo, r);
  float p = 1.0f / 5040.0f;
  p = fmaf(p, r, 1.0f / 720.0f);
  p = fmaf(p, r, 1.0f / 120.0f);
  p = fmaf(p, r, 1.0f / 24.0f);
  p = fmaf(p, r, 1.0f / 6.0f);
  p = fmaf(p, r, 0.5f);
  p = fmaf(p * r, r, r); /* r + r^2 (1/2 + r/6 + ...) */
  uint32_t bits = (uint32_t)((int32_t)k + 127) << 23;
  float s;
  memcpy(&s, &bits, sizeof s);
  float e = fmaf(s, p, s - 1.0f);
  return x != x ? x : e;
}

/* ELU (alpha 1) in place, as policy._elu: x for x > 0, expm1(x) otherwise. */
void spot_elu(int n, float* x) {
  for (int i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : expm1_nonpositive(x[i]);
}

/* One ROWS x width tile of y = x @ w + b: x (ROWS, k), w (k, n) row-major, width <= COLS.
 * The sum over k runs in order with one fused multiply-add per term (fmaf, exactly
 * rounded), so the vector and scalar forms of the loop give the same bits. Eight named
 * accumulator rows, not an array of rows: so written, gcc keeps them in registers (one
 * broadcast-FMA per row and weight vector); a [ROWS][COLS] array went through memory
 * (measured, a forward pass of 16 worlds: 70 us, against 83 us for the array and 93 us
 * for four named rows). */
#define FMA_ROWS(j, wj)                                                                  \
  do {                                                                                   \
    a0[j] = fmaf(x0[p], wj, a0[j]), a1[j] = fmaf(x1[p], wj, a1[j]);                      \
    a2[j] = fmaf(x2[p], wj, a2[j]), a3[j] = fmaf(x3[p], wj, a3[j]);                      \
    a4[j] = fmaf(x4[p], wj, a4[j]), a5[j] = fmaf(x5[p], wj, a5[j]);                      \
    a6[j] = fmaf(x6[p], wj, a6[j]), a7[j] = fmaf(x7[p], wj, a7[j]);                      \
  } while (0)

static inline void dense_tile(int k, int n, int width, const float* restrict x,
                              const float* restrict w, const float* restrict b,
                              float* restrict y) {
  float a0[COLS] = {0}, a1[COLS] = {0}, a2[COLS] = {0}, a3[COLS] = {0};
  float a4[COLS] = {0}, a5[COLS] = {0}, a6[COLS] = {0}, a7[COLS] = {0};
  const float *x0 = x, *x1 = x0 + k, *x2 = x1 + k, *x3 = x2 + k;
  const float *x4 = x3 + k, *x5 = x4 + k, *x6 = x5 + k, *x7 = x6 + k;
  if (width == COLS) { /* constant trip count: vectorised and unrolled */
    for (int p = 0; p < k; p++) {
      const float* wp = w + (size_t)p * n;
      for (int j = 0; j < COLS; j++) FMA_ROWS(j, wp[j]);
    }
  } else {
    for (int p = 0; p < k; p++) {
      const float* wp = w + (size_t)p * n;
      for (int j = 0; j < width; j++) FMA_ROWS(j, wp[j]);
    }
  }
  float* rows[ROWS] = {a0, a1, a2, a3, a4, a5, a6, a7};
  for (int r = 0; r < ROWS; r++) {
    for (int j = 0; j < width; j++) y[(size_t)r * n + j] = rows[r][j] + b[j];
  }
}

/* y (m, n) = x (m, k) @ w (k, n) + b, m a multiple of ROWS. */
static void dense(int m, int k, int n, const float* x, const float* w, const float* b,
                  float* y) {
  for (int i = 0; i < m; i += ROWS) {
    for (int j = 0; j < n; j += COLS) {
      int width = n - j < COLS ? n - j : COLS;
      dense_tile(k, n, width, x + (size_t)i * k, w + j, b + j, y + (size_t)i * n + j);
    }
  }
}

static int widest_layer(const SpotLaneConfig* c) {
  int widest = 0;
  for (int i = 0; i <= c->nlayer; i++) widest = c->dims[i] > widest ? c->dims[i] : widest;
  return widest;
}

static int padded(int n) { return (n + ROWS - 1) / ROWS * ROWS; }

/* The network on m padded rows: obs (m, OBS_DIM) -> out (m, ACTION_DIM), via two scratch
 * buffers of m x widest floats. */
static void forward_rows(const SpotLaneConfig* c, int m, const float* obs, float* out,
                         float* scratch_a, float* scratch_b) {
  const float* x = obs;
  for (int i = 0; i < c->nlayer; i++) {
    int last = i == c->nlayer - 1;
    float* y = last ? out : (i % 2 == 0 ? scratch_a : scratch_b);
    dense(m, c->dims[i], c->dims[i + 1], x, c->weight[i], c->bias[i], y);
    if (!last) spot_elu(m * c->dims[i + 1], y);
    x = y;
  }
}

static int config_ok(const SpotLaneConfig* c) {
  if (c->nlayer < 1 || c->nlayer > MAX_LAYERS) return 0;
  if (c->dims[0] != OBS_DIM || c->dims[c->nlayer] != ACTION_DIM) return 0;
  for (int i = 0; i < c->nlayer; i++) {
    if (c->dims[i + 1] < 1 || !c->weight[i] || !c->bias[i]) return 0;
  }
  return c->tracking_time > 0.0 && c->max_vx > 0.0 && c->max_vy > 0.0;
}

/* --- policy.py: LocomotionPolicy.targets ------------------------------------------------ */

/* Legs: default + scale * output (the product in float32, as numpy's weak-scalar rule
 * computes it, the sum in double); a leg with any non-zero override entry takes those
 * instead. Arm and gripper: the command's, passed through. */
static void targets_one(const SpotLaneConfig* c, const double* cmd, const float* out,
                        double* ctrl) {
  for (int leg = 0; leg < 4; leg++) {
    const double* override = cmd + CMD_LEG_OVERRIDE + 3 * leg;
    int active = override[0] != 0.0 || override[1] != 0.0 || override[2] != 0.0;
    for (int i = 0; i < 3; i++) {
      int k = 3 * leg + i;
      ctrl[k] = active ? override[i]
                       : c->default_legs[k] + (double)(c->action_scale * out[c->leg_action[k]]);
    }
  }
  for (int i = 0; i < N_ARM_COMMAND; i++) ctrl[N_LEG_JOINTS + i] = cmd[CMD_ARM + i];
}

/* --- entry points for tests: the numpy functions one by one ------------------------------ */

/* targets_to_command(targets, base_pose_from_qpos(qpos)) for n worlds; qpos rows of nq. */
void spot_command(const SpotLaneConfig* c, int n, const double* qpos, int nq,
                  const double* targets, double* cmd) {
  for (int i = 0; i < n; i++) {
    command_one(c, qpos + (size_t)i * nq, targets + (size_t)i * TARGET_DIM,
                cmd + (size_t)i * COMMAND_DIM);
  }
}

/* LocomotionPolicy.observe for n worlds. */
void spot_observe(const SpotLaneConfig* c, int n, const double* qpos, int nq,
                  const double* qvel, int nv, const double* cmd, const float* prev,
                  float* obs) {
  for (int i = 0; i < n; i++) {
    observe_one(c, qpos + (size_t)i * nq, qvel + (size_t)i * nv, cmd + (size_t)i * COMMAND_DIM,
                prev + (size_t)i * ACTION_DIM, obs + (size_t)i * OBS_DIM);
  }
}

/* LocomotionPolicy.forward for n rows; returns SPOT_LANE_* */
int spot_forward(const SpotLaneConfig* c, int n, const float* obs, float* out) {
  if (!config_ok(c) || n < 0) return SPOT_LANE_BAD_ARGUMENT;
  if (n == 0) return SPOT_LANE_OK;
  int m = padded(n), widest = widest_layer(c);
  float* buf = calloc((size_t)m * (OBS_DIM + ACTION_DIM + 2 * (size_t)widest), sizeof(float));
  if (!buf) return SPOT_LANE_NO_MEMORY;
  float *x = buf, *y = x + (size_t)m * OBS_DIM, *a = y + (size_t)m * ACTION_DIM;
  memcpy(x, obs, (size_t)n * OBS_DIM * sizeof(float));
  forward_rows(c, m, x, y, a, a + (size_t)m * widest);
  memcpy(out, y, (size_t)n * ACTION_DIM * sizeof(float));
  free(buf);
  return SPOT_LANE_OK;
}

/* LocomotionPolicy.targets for n worlds. */
void spot_targets(const SpotLaneConfig* c, int n, const double* cmd, const float* out,
                  double* ctrl) {
  for (int i = 0; i < n; i++) {
    targets_one(c, cmd + (size_t)i * COMMAND_DIM, out + (size_t)i * ACTION_DIM,
                ctrl + (size_t)i * N_JOINTS);
  }
}

/* --- the physics: mujoco.rollout's sequence for one world -------------------------------- */

/* What mujoco.rollout does for a world it rolls out nsub steps with one control (its
 * _unsafe_rollout, control_spec = mjSTATE_CTRL): user inputs back to the model's, the
 * FULLPHYSICS state set, the solver started cold (qacc_warmstart zeroed), warnings
 * cleared; then each step unless a warning was raised (a reset after a blow-up: the
 * rest of the command step keeps the reset state), and the state after the last. */
static void step_world(const mjModel* m, mjData* d, const double* state, const double* ctrl,
                       int nsub, double* dst) {
  if (m->nmocap) {
    for (int i = 0; i < m->nbody; i++) {
      int id = m->body_mocapid[i];
      if (id >= 0) {
        mju_copy3(d->mocap_pos + 3 * id, m->body_pos + 3 * i);
        mju_copy4(d->mocap_quat + 4 * id, m->body_quat + 4 * i);
      }
    }
  }
  for (int i = 0; i < m->neq; i++) d->eq_active[i] = m->eq_active0[i];
  mj_setState(m, d, state, mjSTATE_FULLPHYSICS);
  mju_zero(d->qacc_warmstart, (int)m->nv);
  for (int i = 0; i < mjNWARNING; i++) d->warning[i].number = 0;
  for (int s = 0; s < nsub; s++) {
    int warned = 0;
    for (int i = 0; i < mjNWARNING; i++) warned |= d->warning[i].number != 0;
    if (warned) break;
    mju_copy(d->ctrl, ctrl, N_JOINTS);
    mj_step(m, d);
  }
  mj_getState(m, d, dst, mjSTATE_FULLPHYSICS);
}

/* --- the lane ---------------------------------------------------------------------------- */

/* Buffers of one spot_lane_rollout call. */
typedef struct {
  int rows, widest; /* padded batch, widest layer */
  double *cmd, *ctrl; /* (nworld, COMMAND_DIM), (N_JOINTS) */
  float *obs, *out, *prev, *scratch; /* (rows, OBS_DIM), (rows, ACTION_DIM) x 2, 2 x rows x widest */
} LaneWork;

static void run_lane(const mjModel* m, mjData* const* datas, int ndata, const SpotLaneConfig* c,
                     int nworld, int nstep, int nsub, const double* start,
                     const double* targets, double* states, const LaneWork* lw) {
  int phys = mj_stateSize(m, mjSTATE_FULLPHYSICS), size = phys + ACTION_DIM;
  /* Once per call, as mujoco.rollout does (it has no qfrc/xfrc input here). */
  for (int i = 0; i < ndata; i++) {
    mju_zero(datas[i]->qfrc_applied, (int)m->nv);
    mju_zero(datas[i]->xfrc_applied, 6 * (int)m->nbody);
  }
  for (int w = 0; w < nworld; w++) {
    for (int i = 0; i < ACTION_DIM; i++) {
      lw->prev[(size_t)w * ACTION_DIM + i] = (float)start[(size_t)w * size + phys + i];
    }
  }
  for (int k = 0; k < nstep; k++) {
    for (int w = 0; w < nworld; w++) {
      const double* now = k == 0 ? start + (size_t)w * size
                                 : states + ((size_t)w * nstep + k - 1) * size;
      const double* qpos = now + 1;
      const double* qvel = now + 1 + m->nq;
      double* cmd = lw->cmd + (size_t)w * COMMAND_DIM;
      command_one(c, qpos, targets + ((size_t)w * nstep + k) * TARGET_DIM, cmd);
      observe_one(c, qpos, qvel, cmd, lw->prev + (size_t)w * ACTION_DIM,
                  lw->obs + (size_t)w * OBS_DIM);
    }
    forward_rows(c, lw->rows, lw->obs, lw->out, lw->scratch,
                 lw->scratch + (size_t)lw->rows * lw->widest);
    for (int w = 0; w < nworld; w++) {
      const double* now = k == 0 ? start + (size_t)w * size
                                 : states + ((size_t)w * nstep + k - 1) * size;
      double* dst = states + ((size_t)w * nstep + k) * size;
      const float* act = lw->out + (size_t)w * ACTION_DIM;
      targets_one(c, lw->cmd + (size_t)w * COMMAND_DIM, act, lw->ctrl);
      step_world(m, datas[ndata == 1 ? 0 : w], now, lw->ctrl, nsub, dst);
      for (int i = 0; i < ACTION_DIM; i++) {
        lw->prev[(size_t)w * ACTION_DIM + i] = act[i];
        dst[phys + i] = (double)act[i];
      }
    }
  }
}

/*
 * Roll nworld worlds through nstep command steps of nsub physics steps each.
 *
 * datas: ndata MjData of model m, ndata = 1 (all worlds share it, as the numpy lane's
 *   mujoco.rollout does) or nworld (one each).
 * start: (nworld, size) states, size = FULLPHYSICS size + ACTION_DIM (SpotStateLayout).
 * targets: (nworld, nstep, TARGET_DIM). states: (nworld, nstep, size), written.
 * Every command step: map, observe (all worlds), one forward pass for the lane, then the
 * actuator targets and the physics world by world. Returns SPOT_LANE_*; on
 * SPOT_LANE_MJ_ERROR the message is in err and the MjData must not be reused as is (an
 * error leaves MuJoCo's stack marks behind).
 */
int spot_lane_rollout(const mjModel* m, mjData* const* datas, int ndata,
                      const SpotLaneConfig* c, int nworld, int nstep, int nsub,
                      const double* start, const double* targets, double* states, char* err,
                      int errlen) {
  if (err && errlen > 0) err[0] = '\0';
  if (!m || !datas || !c || nworld < 0 || nstep < 0 || nsub < 1 || !config_ok(c) ||
      (ndata != 1 && ndata != nworld) || m->nu != N_JOINTS || m->nq < 7 + N_JOINTS ||
      m->nv < 6 + N_JOINTS) {
    return SPOT_LANE_BAD_ARGUMENT;
  }
  for (int i = 0; i < ndata; i++) {
    if (!datas[i]) return SPOT_LANE_BAD_ARGUMENT;
  }
  if (nworld == 0 || nstep == 0) return SPOT_LANE_OK;

  LaneWork lw;
  lw.rows = padded(nworld);
  lw.widest = widest_layer(c);
  size_t floats = (size_t)lw.rows * (OBS_DIM + 2 * ACTION_DIM + 2 * (size_t)lw.widest);
  double* dwork = malloc(((size_t)nworld * COMMAND_DIM + N_JOINTS) * sizeof(double));
  float* fwork = calloc(floats, sizeof(float)); /* padded rows stay zero */
  if (!dwork || !fwork) {
    free(dwork);
    free(fwork);
    return SPOT_LANE_NO_MEMORY;
  }
  lw.cmd = dwork;
  lw.ctrl = dwork + (size_t)nworld * COMMAND_DIM;
  lw.obs = fwork;
  lw.out = lw.obs + (size_t)lw.rows * OBS_DIM;
  lw.prev = lw.out + (size_t)lw.rows * ACTION_DIM;
  lw.scratch = lw.prev + (size_t)lw.rows * ACTION_DIM;

  /* volatile: read after the longjmp */
  volatile int intercept = _mjPRIVATE__set_tls_error_fn && _mjPRIVATE__get_tls_error_fn;
  mj_error_fn volatile previous = intercept ? _mjPRIVATE__get_tls_error_fn() : NULL;
  if (intercept) _mjPRIVATE__set_tls_error_fn(on_mj_error);
  int status;
  if (setjmp(lane_jump) == 0) {
    run_lane(m, datas, ndata, c, nworld, nstep, nsub, start, targets, states, &lw);
    status = SPOT_LANE_OK;
  } else { /* from on_mj_error: MuJoCo called mju_error */
    if (err && errlen > 0) snprintf(err, (size_t)errlen, "%s", lane_message);
    status = SPOT_LANE_MJ_ERROR;
  }
  if (intercept) _mjPRIVATE__set_tls_error_fn(previous);
  free(dwork);
  free(fwork);
  return status;
}
