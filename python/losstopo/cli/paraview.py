"""`losstopo paraview`: the ParaView GUI with losstopo's plugin loaded and a state opened on a landscape."""

from __future__ import annotations

import argparse

from ..paraview.env import state_names
from ..paraview.launch import DEFAULT_STATE


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("landscape", nargs="?",
                   help="landscape folder or file (default: demo/landscape if `make demo` made it here)")
    p.add_argument("--state", default=DEFAULT_STATE,
                   help=f"state to open: {', '.join(state_names())} or a state file (default %(default)s)")
    p.add_argument("--no-state", action="store_true", help="only load the plugin")
    p.add_argument("--print-command", action="store_true",
                   help="print the command instead of starting ParaView")


def run(args: argparse.Namespace) -> int:
    from ..paraview.launch import run_gui

    return run_gui(args.landscape, None if args.no_state else args.state, print_command=args.print_command)
