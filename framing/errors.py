"""The one exception type users see.

Every mistake a user can make (a missing file, a bad config key, an unknown label) is
raised as a FramingError with a message that names the file and the problem; the CLI
prints it as one line and exits non-zero, and only ``--debug`` shows a traceback.
"""


class FramingError(Exception):
    """A user-facing error: its message is printed as one line, without a traceback."""
