"""What a ``distml`` command fails with, and the exit code a scheduler acts on."""

EXIT_ERROR, EXIT_USAGE, EXIT_MISSING, EXIT_EXISTS = 1, 2, 3, 4


class CommandError(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code
