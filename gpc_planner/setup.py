"""ament_python package of the planning library, the planner node and the `gpc` CLI."""

import glob
import os

from setuptools import find_packages, setup

package_name = "gpc_planner"

# launch/ and config/ live at the repository root (shared by the whole stack) and are
# installed by this package. Paths must be relative (setuptools refuses absolute ones) and
# '../launch/x' works in both colcon modes: a plain build runs setup.py in this directory,
# --symlink-install runs it in build/gpc_planner/ after symlinking build/launch/x to the
# source file. The glob itself resolves this file's real path, since under
# --symlink-install it is run through a symlink. New files there need a rebuild
# (scripts/setup.sh) to be installed.
_root = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..")


def _files(pattern):
    paths = glob.glob(os.path.join(_root, pattern))
    return sorted(os.path.join("..", os.path.relpath(p, _root)) for p in paths if os.path.isfile(p))


setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    package_data={
        package_name: ["**/*.yaml", "**/*.json", "**/*.xml", "models/*.pt", "models/*.md"],
    },
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
        ("share/" + package_name + "/launch", _files("launch/*.launch.py")),
        ("share/" + package_name + "/config", _files("config/*.yaml") + _files("config/*.rviz")),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="GPC maintainers",
    maintainer_email="maintainers@gpc-project.org",
    description="Generative predictive control: planning library, planner node and gpc CLI.",
    license="MIT",
    tests_require=["pytest"],
    entry_points={
        "console_scripts": [
            "gpc = gpc_planner.cli.main:main",
            "planner_node = gpc_planner.ros.planner_node:main",
        ],
    },
)
