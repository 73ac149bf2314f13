"""ament_python package of the Spot bridge (9-DoF command -> Spot velocity/arm commands)."""

from setuptools import find_packages, setup

package_name = "gpc_spot_bridge"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="GPC maintainers",
    maintainer_email="maintainers@gpc-project.org",
    description="Bridge from the 9-DoF GPC command to Spot (simulated or bosdyn-client).",
    license="MIT",
    tests_require=["pytest"],
    entry_points={"console_scripts": ["spot_bridge = gpc_spot_bridge.bridge_node:main"]},
)
