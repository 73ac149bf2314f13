"""ament_python package of the simulation: MuJoCo worlds, locomotion policy, rollouts, sim node."""

from setuptools import find_packages, setup

package_name = "gpc_sim"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    # Data shipped inside the package (shape YAMLs, MJCF XML, the Spot lane loop's C source,
    # compiled at first use) for non-symlink installs.
    package_data={package_name: ["**/*.yaml", "**/*.json", "**/*.xml", "**/*.c"]},
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="GPC maintainers",
    maintainer_email="maintainers@gpc-project.org",
    description="MuJoCo simulation for the GPC stack: worlds, locomotion policy, rollouts.",
    license="MIT",
    tests_require=["pytest"],
    entry_points={"console_scripts": ["sim_node = gpc_sim.ros.sim_node:main"]},
)
