"""argparse with one-line errors (exit code 2), and the argument types shared by the subcommands.

The types only turn text into numbers; the rules live in losstopo.settings, which every entry point
(API, CLI, plugin) applies.
"""

from __future__ import annotations

import argparse
from typing import Callable, NoReturn

from ..errors import EXIT_USER_ERROR, LossTopoError


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def checked(rule: Callable, convert: Callable = float) -> Callable[[str], object]:
    """An argparse type: convert the text, then apply a losstopo.settings rule (its one-line message)."""

    def parse(text: str) -> object:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {convert.__name__}") from None
        try:
            return rule(value)
        except LossTopoError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = getattr(rule, "__name__", "value")
    return parse


def size(text: str) -> tuple[int, int]:
    """WIDTHxHEIGHT in pixels."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 800x600") from None
    return w, h
