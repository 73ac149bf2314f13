"""Compile the Spot engine's C lane loop (``native/spot_lane.c``) once per machine, cached.

Why at first use and not at install: the workspace's packages are ament_python (no C build
step), and the library must match what it runs with: the installed mujoco wheel (its
headers, and its ``libmujoco``, which must be the very library the Python bindings loaded,
so the MjModel/MjData pointers handed over are that library's) and the CPU
(``-march=native``). All of that goes into the file name (``library_key``), so a changed
source, compiler, flag, wheel or CPU gets a fresh build and never a stale one.

The build is atomic (compiled to a temporary name in the cache folder, then renamed), so
processes that start together may each compile, but none ever loads a half-written file.
Cache folder: ``$GPC_SIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/gpc_sim``, else
``~/.cache/gpc_sim``. Compiler: ``$CC``, else ``cc``, ``gcc``, ``clang``, the first found.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import mujoco

SOURCE = Path(__file__).resolve().parent / "native" / "spot_lane.c"
# -ffp-contract=off: no fused multiply-add that numpy would round twice (the port keeps
# numpy's double-precision rounding); the matmul asks for its fmaf explicitly.
CFLAGS = ("-std=c11", "-O3", "-march=native", "-ffp-contract=off", "-fPIC", "-shared")
BUILD_TIMEOUT_S = 120


class NativeBuildError(RuntimeError):
    """The C lane loop could not be compiled here; the message is one line."""


def cache_dir() -> Path:
    """Where compiled libraries live (see the module docstring)."""
    explicit = os.environ.get("GPC_SIM_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gpc_sim"


def find_compiler() -> str | None:
    """The C compiler to use: ``$CC`` if set (even if missing: then None), else the first
    of cc, gcc, clang on PATH."""
    if os.environ.get("CC"):
        return shutil.which(os.environ["CC"])
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return path
    return None


def mujoco_paths() -> tuple[Path, Path]:
    """The installed wheel's include folder and its ``libmujoco.so.<version>``."""
    package = Path(mujoco.__file__).resolve().parent
    include = package / "include"
    library = package / f"libmujoco.so.{mujoco.__version__}"
    if not (include / "mujoco" / "mujoco.h").is_file():
        raise NativeBuildError(f"no MuJoCo headers in {include}")
    if not library.is_file():
        raise NativeBuildError(f"no {library.name} in {package}")
    return include, library


def _cpu_fingerprint() -> str:
    """What -march=native depends on: the CPU model and feature flags (Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            lines = [line for line in info if line.startswith(("model name", "flags"))]
        return "".join(sorted(set(lines)))
    except OSError:
        return os.uname().machine


def _compiler_version(compiler: str) -> str:
    try:
        done = subprocess.run(
            [compiler, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise NativeBuildError(f"cannot run the C compiler {compiler}: {err}") from None
    if done.returncode != 0:
        raise NativeBuildError(f"{compiler} --version failed (exit {done.returncode})")
    return done.stdout


def library_key(compiler: str, flags: tuple[str, ...] = CFLAGS) -> str:
    """Hash of everything the compiled library depends on (16 hex digits)."""
    include, library = mujoco_paths()
    digest = hashlib.sha256()
    for part in (
        SOURCE.read_bytes(),
        " ".join(flags).encode(),
        compiler.encode(),
        _compiler_version(compiler).encode(),
        mujoco.__version__.encode(),
        str(library).encode(),
        (include / "mujoco" / "mujoco.h").read_bytes(),
        _cpu_fingerprint().encode(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def build_library(compiler: str | None = None, cache: Path | None = None) -> Path:
    """The compiled ``spot_lane`` library: from the cache, or compiled into it now.

    Raises ``NativeBuildError`` (one line) when there is no compiler or the build fails.
    """
    compiler = compiler or find_compiler()
    if compiler is None:
        raise NativeBuildError("no C compiler found (set CC, or install gcc)")
    include, library = mujoco_paths()
    folder = cache or cache_dir()
    target = folder / f"spot_lane-{library_key(compiler)}.so"
    if target.is_file():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".spot_lane-", suffix=".so.tmp", dir=folder)
        os.close(fd)
    except OSError as err:
        raise NativeBuildError(f"cannot write to the cache folder {folder}: {err}") from None
    # Linked by full path with the wheel's folder as run path: the loader then finds the
    # libmujoco (by its soname) that the Python bindings already loaded, the same instance.
    command = [
        compiler,
        *CFLAGS,
        f"-I{include}",
        str(SOURCE),
        "-o",
        tmp,
        str(library),
        f"-Wl,-rpath,{library.parent}",
        "-lm",
    ]
    print(
        f"[gpc_sim] compiling the Spot lane loop (first use): {target}", file=sys.stderr, flush=True
    )
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False
        )
        if done.returncode != 0:
            first = next(
                (line for line in done.stderr.splitlines() if "error" in line),
                done.stderr.strip().splitlines()[0] if done.stderr.strip() else "",
            )
            raise NativeBuildError(
                f"{Path(compiler).name} failed (exit {done.returncode}): {first.strip()}"
            )
        os.chmod(tmp, 0o755)  # mkstemp made it private; a shared cache should load it too
        os.replace(tmp, target)
    except (OSError, subprocess.SubprocessError) as err:
        raise NativeBuildError(f"compiling {SOURCE.name} failed: {err}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def main() -> int:
    """``python -m gpc_sim.spot.native_build``: build now (setup.sh); exit 1 if it cannot."""
    from gpc_sim.spot.native_lane import native_unavailable

    reason = native_unavailable()
    if reason is not None:
        print(f"[gpc_sim] the Spot lane loop is not available: {reason}", file=sys.stderr)
        return 1
    print(f"[gpc_sim] the Spot lane loop is built: {build_library()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
