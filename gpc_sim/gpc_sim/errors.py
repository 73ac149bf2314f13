"""The one exception type users see as a one-line message instead of a traceback."""


class ConfigError(ValueError):
    """Bad user input: a malformed file, an unknown name, an out-of-range setting.

    Command-line front ends catch this and print ``str(err)`` on one line.
    """
