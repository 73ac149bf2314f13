"""The one exception type users see as a one-line message instead of a traceback."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad user input: a malformed file, an unknown name, an out-of-range setting.

    Command-line front ends catch this and print ``str(err)`` on one line. The message is
    in the library's words (it names settings, not flags: the same code serves the CLI,
    ROS parameters and Python callers); ``setting``, when given, is the name of the
    setting at fault, which a front end may map to its own option (``gpc``'s CLI names
    the flag).
    """

    def __init__(self, message: str, setting: str | None = None) -> None:
        # Only the message goes to ``args``: the error pickles (worker processes) and
        # prints as before; ``setting`` is a hint, lost across a process boundary.
        super().__init__(message)
        self.setting = setting
