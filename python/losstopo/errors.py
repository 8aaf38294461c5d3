"""User-facing errors: one clear line naming the problem and the fix, exit code 2."""

from __future__ import annotations

EXIT_USER_ERROR = 2


class LossTopoError(Exception):
    """A problem with the user's input that the user can fix.

    The message is one line: what is wrong, then what to do about it. Entry points (CLI, plugin)
    print it without a traceback; the CLI exits with EXIT_USER_ERROR.
    """

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}; {fix}" if fix else problem)


def require(condition: bool, problem: str, fix: str | None = None) -> None:
    """Raise LossTopoError(problem, fix) unless condition holds."""
    if not condition:
        raise LossTopoError(problem, fix)
