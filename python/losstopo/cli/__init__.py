"""Edge: the `losstopo` command line. argparse lives here only; nothing imports this package.

One module per subcommand, each with `add_arguments(parser)` and `run(args) -> int`, imported lazily so
`losstopo --help` is fast. `main` opts the process in to what a library must not do on its own (glibc
malloc tuning, torch.compile's cache folder) and turns every user error (LossTopoError, argparse errors,
unreadable files, a full disk) into one line on stderr and exit code 2; anything else (a bug) is one line
and exit code 1 (LOSSTOPO_DEBUG=1 shows the traceback).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Sequence

from ..errors import EXIT_USER_ERROR, LossTopoError
from .parser import Parser

__all__ = ["main", "build_parser", "COMMANDS"]

# subcommand -> (module under losstopo.cli, help)
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("train", "train a model (digits or CIFAR-10), seeded"),
    "landscape": ("landscape", "compute a loss landscape (stages 1-2)"),
    "analyze": ("analyze", "merge tree, persistence and metrics (stages 3-5)"),
    "metrics": ("metrics", "accuracy, loss, Hessian eigenvalue and trace"),
    "study": ("study", "relate topology to ML metrics (stage 6)"),
    "demo": ("demo", "the whole pipeline on the embedded digits default"),
    "render": ("render", "render a state file or the whole pipeline to PNGs with pvpython"),
    "paraview": ("paraview", "start the ParaView GUI with the plugin loaded and a state opened"),
    "doctor": ("doctor", "say what losstopo finds here: ParaView, TTK (how, version, filter names), torch"),
}


def _add(sub, name: str) -> None:
    module, help_text = COMMANDS[name]
    p = sub.add_parser(name, help=help_text, description=help_text)
    p.set_defaults(_command=name)
    importlib.import_module(f"{__name__}.{module}").add_arguments(p)


def build_parser(only: str | None = None) -> Parser:
    """The parser of every subcommand, or of `only` (keeps start-up fast)."""
    parser = Parser(prog="losstopo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in ([only] if only else COMMANDS):
        _add(sub, name)
    return parser


def _opt_in() -> None:
    """Process-wide tuning for the command line's long runs (losstopo.process)."""
    from .. import process
    from ..fileio import cache_root

    process.tune_malloc()
    process.use_compile_cache(cache_root() / "inductor")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        name = next((a for a in argv if not a.startswith("-")), None)
        parser = build_parser(name if name in COMMANDS else None)
        args = parser.parse_args(argv)
        if getattr(args, "_command", None) is None:
            parser.print_help()
            return EXIT_USER_ERROR
        _opt_in()
        module = importlib.import_module(f"{__name__}.{COMMANDS[args._command][0]}")
        return int(module.run(args) or 0)
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
    except OSError as e:  # e.g. a full disk: the atomic writes left every final file as it was
        where = f": {e.filename}" if e.filename else ""
        print(f"losstopo: error: {e.strerror or e}{where}; free space or choose another --out", file=sys.stderr)
        return EXIT_USER_ERROR
    except MemoryError:
        print("losstopo: error: out of memory; lower --resolution, --samples or --batch-size", file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception as e:  # a bug: still one line (the traceback on request)
        if os.environ.get("LOSSTOPO_DEBUG"):
            raise
        text = " ".join(str(e).split())[:300]
        print(f"losstopo: internal error: {type(e).__name__}: {text}; please report it with the command "
              "(LOSSTOPO_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
