"""The ``name:=value`` launch arguments on gpc's command line: one parser for every
command that brings up a launch scenario (``gpc launch``, ``gpc soak``).

Arguments are written as for ``ros2 launch`` and may come before or after the options:
argparse stops collecting a positional list at the first option, so ``gpc``'s main
hands what is left over to the command's ``accepts_extra`` (``take_extra``), which takes
the ``name:=value`` ones. Which names a scenario knows is data (``bringup``); they are
checked against it when the scenario is resolved, not here.
"""

from __future__ import annotations

import argparse

from gpc_planner.bringup import LaunchArgument

METAVAR = "name:=value"


def launch_argument(text: str) -> tuple[str, str]:
    """``name:=value`` as (name, value); argparse's type error otherwise."""
    name, sep, value = text.partition(":=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected name:=value, got {text!r}")
    return name, value


def take_extra(args: argparse.Namespace, extra: list[str]) -> bool:
    """name:=value arguments after options (argparse leaves them over): take them."""
    try:
        args.arguments += [launch_argument(e) for e in extra]
    except argparse.ArgumentTypeError:
        return False
    return True


def add_launch_arguments(parser: argparse.ArgumentParser, help: str) -> None:
    """Declare the ``name:=value`` positionals (``args.arguments``, a list of pairs) on
    ``parser``, and take those that follow options (``take_extra``)."""
    parser.add_argument("arguments", nargs="*", type=launch_argument, metavar=METAVAR,
                        help=help)
    parser.set_defaults(accepts_extra=take_extra)


def given_arguments(args: argparse.Namespace) -> dict[str, str]:
    """The launch arguments given, by name (a later one wins, as in ros2 launch)."""
    return dict(args.arguments)


def describe_arguments(arguments: tuple[LaunchArgument, ...]) -> str:
    """One help line per argument of a scenario: ``name:=default  description``."""
    return "\n".join(f"  {a.name}:={a.default or repr('')}  {a.description}"
                     for a in arguments)


__all__ = ["METAVAR", "add_launch_arguments", "describe_arguments", "given_arguments",
           "launch_argument", "take_extra"]
