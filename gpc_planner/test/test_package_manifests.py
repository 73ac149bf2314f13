"""Every package.xml declares what its package needs, so rosdep can install it and colcon
can order it: each import of a package's sources (and launch files) is a declared
dependency, each node the launchers start is one of gpc_planner's, each interface a .msg
or .srv names is one of gpc_msgs', and the Python libraries without a rosdep key are pip
requirements (requirements.txt). An import nobody declared used to surface on a robot only
(`colcon build --packages-up-to gpc_planner` built no bridge; rosdep installed no numpy
for the bridge)."""

import ast
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gpc_planner.bringup import resolve_arguments, spot_push_nodes

ROOT = Path(__file__).resolve().parents[2]
PYTHON_PACKAGES = ("gpc_sim", "gpc_planner", "gpc_spot_bridge")
WORKSPACE = {"gpc_msgs", "gpc_sim", "gpc_planner", "gpc_spot_bridge"}
# Python modules -> their rosdep keys.
ROSDEP_KEYS = {"numpy": "python3-numpy", "scipy": "python3-scipy", "yaml": "python3-yaml",
               "tqdm": "python3-tqdm", "matplotlib": "python3-matplotlib",
               "shapely": "python3-shapely", "pytest": "python3-pytest",
               "grpc": "python3-grpcio"}
# Python modules with no rosdep key -> the pip distribution (requirements.txt) they come in.
PIP_ONLY = {"torch": "torch", "mujoco": "mujoco", "bosdyn": "bosdyn-client"}
# judo's compiled rollout (bench only, imported if present); Ray (the optional --backend ray,
# requirements-ray.txt, imported only when chosen): no exec_depend of the ROS package.
OPTIONAL = {"mujoco_extensions", "ray"}


def manifest(package: str) -> dict[str, set[str]]:
    """A package.xml's dependencies by tag (``depend`` counts as build, exec and test)."""
    root = ET.parse(ROOT / package / "package.xml").getroot()
    deps: dict[str, set[str]] = {}
    for element in root:
        deps.setdefault(element.tag, set()).add((element.text or "").strip())
    both = deps.get("depend", set())
    for tag in ("exec_depend", "build_depend", "test_depend"):
        deps[tag] = deps.get(tag, set()) | both
    return deps


def imports(files: list[Path]) -> set[str]:
    """Top-level modules imported by ``files``, standard library and relative ones left out."""
    found: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names)


def sources(package: str) -> list[Path]:
    base = ROOT / package
    return sorted((base / package).rglob("*.py")) + sorted((base / "launch").glob("*.py"))


def key(module: str) -> str:
    return ROSDEP_KEYS.get(module, module)


def requirements() -> set[str]:
    text = (ROOT / "requirements.txt").read_text()
    return {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9_.-]+)", text, re.M)}


@pytest.mark.parametrize("package", PYTHON_PACKAGES)
def test_every_import_is_a_declared_dependency(package):
    needed = imports(sources(package)) - {package} - OPTIONAL - set(PIP_ONLY)
    declared = manifest(package)["exec_depend"]
    missing = sorted(key(m) for m in needed if key(m) not in declared)
    assert not missing, f"{package}/package.xml lacks <exec_depend> on {missing}"


@pytest.mark.parametrize("package", PYTHON_PACKAGES)
def test_pip_only_libraries_are_pip_requirements(package):
    used = imports(sources(package)) & set(PIP_ONLY)
    missing = sorted(PIP_ONLY[m] for m in used if PIP_ONLY[m] not in requirements())
    assert not missing, f"{package} imports {missing}, not in requirements.txt"


@pytest.mark.parametrize("package", (*PYTHON_PACKAGES, "gpc_msgs"))
def test_test_imports_are_declared(package):
    # Workspace packages are left out: gpc_sim's tests use the planner, which depends on
    # gpc_sim (a test_depend back would be a cycle for colcon).
    needed = imports(sorted((ROOT / package / "test").rglob("*.py")))
    local = {p.stem for p in (ROOT / package / "test").rglob("*.py")}
    needed -= WORKSPACE | local | OPTIONAL | set(PIP_ONLY)
    deps = manifest(package)
    declared = deps["test_depend"] | deps["exec_depend"]
    missing = sorted(key(m) for m in needed if key(m) not in declared)
    assert not missing, f"{package}/package.xml lacks <test_depend> on {missing}"


def test_every_node_the_launchers_start_is_a_dependency_of_gpc_planner():
    """The launch file is gpc_planner's: `colcon build --packages-up-to gpc_planner` and
    rosdep must bring every package whose executable it starts (rviz2 too)."""
    started = {node.package for given in ({}, {"use_sim": "false"})
               for node in spot_push_nodes(resolve_arguments(given), rviz_config="r.rviz")}
    assert started == {"gpc_sim", "gpc_spot_bridge", "gpc_planner", "rviz2"}
    missing = sorted(started - {"gpc_planner"} - manifest("gpc_planner")["exec_depend"])
    assert not missing, f"gpc_planner/package.xml lacks <exec_depend> on {missing}"


def test_interfaces_name_only_declared_packages():
    declared = manifest("gpc_msgs")["build_depend"]
    files = sorted((ROOT / "gpc_msgs").glob("*/*.msg")) + sorted(
        (ROOT / "gpc_msgs").glob("*/*.srv"))
    used = {m.group(1) for f in files for m in re.finditer(
        r"^\s*([a-z][a-z0-9_]*)/[A-Z]\w*(?:\[\d*\])?\s", f.read_text(), re.M)}
    assert used, "no interface field names another package: the pattern is wrong"
    assert used <= declared, f"gpc_msgs/package.xml lacks <depend> on {sorted(used - declared)}"


def test_the_launch_file_and_config_ship_inside_gpc_planner():
    """A release of gpc_planner alone must carry its launch file and parameter files."""
    setup = (ROOT / "gpc_planner" / "setup.py").read_text()
    assert "'..'" not in setup and '"..' not in setup, "setup.py installs files from outside"
    for path in ("launch/spot_push.launch.py", "config/spot_push.yaml", "config/gpc.rviz"):
        assert (ROOT / "gpc_planner" / path).is_file(), path


@pytest.mark.parametrize("package", ["mocap4r2_msgs", "tf2_msgs"])
def test_the_stand_ins_are_never_crawled_by_colcon(package):
    """A plain `colcon build` next to the upstream package must not overlay it;
    scripts/setup.sh builds the stand-in explicitly where upstream is absent."""
    assert (ROOT / "third_party" / package / "COLCON_IGNORE").is_file()
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert re.search(rf"^STANDINS=\(.*\b{package}\b.*\)$", setup, re.M)


def test_the_tf2_msgs_in_use_hashes_as_upstream():
    """A TF listener of a Jazzy or Kilted install (rviz2) checks the type hash: the stand-in's
    TFMessage must hash as upstream's (the value of ros2/geometry2's TFMessage)."""
    pytest.importorskip("tf2_msgs")
    from ament_index_python.packages import get_package_share_directory

    description = Path(get_package_share_directory("tf2_msgs")) / "msg" / "TFMessage.json"
    if not description.is_file():
        pytest.skip("no type description (a distribution before Jazzy)")
    hashes = re.findall(r'"hash_string": "(RIHS01_[0-9a-f]+)"', description.read_text())
    assert hashes[0] == ("RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f"
                         "087")


@pytest.mark.parametrize("package,executable", [("gpc_sim", "sim_node"),
                                                ("gpc_spot_bridge", "spot_bridge"),
                                                ("gpc_planner", "planner_node")])
def test_node_scripts_start_with_the_python_that_has_the_libraries(package, executable):
    """colcon writes its own Python into the scripts' shebang: run from a system colcon
    (#!/usr/bin/python3) the nodes would lack torch, mujoco and bosdyn. docker/Dockerfile
    runs colcon from its venv, as scripts/setup.sh does here."""
    from gpc_sim.ros.testing import find_node

    try:
        script = Path(find_node(package, executable))
    except FileNotFoundError:
        pytest.skip("the workspace is not built (scripts/setup.sh)")
    shebang = script.read_text().splitlines()[0]
    assert shebang.startswith("#!") and Path(shebang[2:].split()[0]).parent == Path(
        sys.executable).parent, f"{script}: {shebang}"
