"""Entry point of ``gpc``: dispatch to subcommands, turn user errors into one line."""

from __future__ import annotations

import argparse
import signal
import sys

from gpc_planner.cli import (
    bench_cmd,
    collect_cmd,
    demo_cmd,
    eval_cmd,
    iterate_cmd,
    launch_cmd,
    model_cmd,
    report_cmd,
    soak_cmd,
    train_cmd,
)
from gpc_sim.errors import ConfigError

SUBCOMMANDS = (eval_cmd, bench_cmd, report_cmd, demo_cmd, collect_cmd, train_cmd, iterate_cmd,
               launch_cmd, soak_cmd, model_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gpc",
        description="Generative Predictive Control: sampling MPC bootstrapped by flow matching.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def option_for(parser: argparse.ArgumentParser, args: argparse.Namespace,
               setting: str | None) -> str | None:
    """The option of the command that ran (``args``) that sets ``setting`` (a ConfigError's
    ``setting``, in the library's words), e.g. "flow_noise" -> "--flow-noise"; None when
    the command has no such option."""
    if setting is None:
        return None
    current = parser
    while True:  # down to the parser of the (sub)subcommand that ran
        subs = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = getattr(args, subs[0].dest, None) if subs else None
        if chosen not in (subs[0].choices if subs else {}):
            break
        current = subs[0].choices[chosen]
    for action in current._actions:
        if action.dest == setting and action.option_strings:
            return max(action.option_strings, key=len)
    return None


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    """SIGTERM (``kill PID``, a job scheduler) takes Ctrl-C's path: finished work is kept,
    the worker pool is stopped by the parent, one line instead of a traceback per worker
    (left running, workers would die on a broken pipe once their parent is gone)."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # name:=value launch arguments may follow options (argparse stops at them)
        accept = getattr(args, "accepts_extra", None)
        if accept is None or not accept(args, extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # not when embedded with its own
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        return int(args.run(args) or 0)
    except ConfigError as err:
        flag = option_for(parser, args, err.setting)
        hint = f" (option {flag})" if flag is not None else ""
        print(f"gpc {args.command}: error: {err}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gpc {args.command}: interrupted; finished work is kept, rerun the same "
              "command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
