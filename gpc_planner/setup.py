"""ament_python package of the planning library, the planner node and the `gpc` CLI."""

import glob
import os

from setuptools import find_packages, setup

package_name = "gpc_planner"

# launch/ and config/ belong to this package (a release of it alone carries them); new files
# there need a rebuild (scripts/setup.sh) to be installed.


def _files(pattern):
    here = os.path.dirname(os.path.realpath(__file__))
    # Relative to this directory (setuptools refuses absolute paths); the glob resolves
    # this file's real path, since under --symlink-install it runs through a symlink.
    return sorted(os.path.relpath(p, here) for p in glob.glob(os.path.join(here, pattern))
                  if os.path.isfile(p))


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
