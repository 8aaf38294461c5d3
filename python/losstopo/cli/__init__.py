"""The `losstopo` command line: one subcommand per job, each implemented by the module named below.

Each module provides `add_arguments(parser)` and `run(args) -> int | None` (names in the table), so this
file only wires them up; modules are imported lazily so `losstopo --help` is fast. Every user error
(LossTopoError, argparse errors, unreadable files) ends in one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn, Sequence

from .errors import EXIT_USER_ERROR, LossTopoError

# subcommand -> (module, add_arguments function, run function, help)
COMMANDS: dict[str, tuple[str, str, str, str]] = {
    "train": ("losstopo.train", "add_arguments", "run", "train a model (digits or CIFAR-10), seeded"),
    "landscape": ("losstopo.landscape", "add_arguments", "run", "compute a loss landscape (stages 1-2)"),
    "analyze": ("losstopo.analyze", "add_arguments", "run", "merge tree, persistence and metrics (stages 3-5)"),
    "metrics": ("losstopo.mlmetrics", "add_arguments", "run", "accuracy, loss, Hessian eigenvalue and trace"),
    "study": ("losstopo.study", "add_arguments", "run", "relate topology to ML metrics (stage 6)"),
    "demo": ("losstopo.demo", "add_arguments", "run", "the whole pipeline on the embedded digits default"),
    "render": ("losstopo.paraview_launch", "add_render_arguments", "run_render",
               "render a state file or the whole pipeline to PNGs with pvpython"),
    "paraview": ("losstopo.paraview_launch", "add_gui_arguments", "run_gui",
                 "start the ParaView GUI with the plugin loaded and a state opened"),
}


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="losstopo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, add_fn, _run_fn, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_command=name)
        getattr(importlib.import_module(module), add_fn)(p)
    return parser


def _command_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """Build only the parser of the subcommand named in argv (keeps start-up fast)."""
    name = next((a for a in argv if not a.startswith("-")), None)
    if name not in COMMANDS:
        return build_parser()
    module, add_fn, _run, help_text = COMMANDS[name]
    parser = _Parser(prog="losstopo")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p = sub.add_parser(name, help=help_text, description=help_text)
    p.set_defaults(_command=name)
    getattr(importlib.import_module(module), add_fn)(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = _command_parser(argv)
        args = parser.parse_args(argv)
        if getattr(args, "_command", None) is None:
            parser.print_help()
            return EXIT_USER_ERROR
        module, _add, run_fn, _help = COMMANDS[args._command]
        result = getattr(importlib.import_module(module), run_fn)(args)
        return int(result or 0)
    except LossTopoError as e:
        print(f"losstopo: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("losstopo: interrupted; finished chunks are saved, rerun the same command with --resume",
              file=sys.stderr)
        return 130
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as e:
        print(f"losstopo: error: {e.strerror}: {e.filename}; check the path and its permissions",
              file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
