"""`losstopo render` (headless pvpython screenshots) and `losstopo paraview` (the GUI), with the plugin.

Both run ParaView's own Python (pvpython / paraview) in paraview_env's environment, which loads the
plugin and the getargspec fix, and run a script from losstopo/paraview_scripts/:
  * render --state STATE LANDSCAPE --out DIR: render_state.py, one PNG per view of the state;
  * render LANDSCAPE --out DIR (or --checkpoint CKPT): run_pipeline.py, the whole pipeline (source or
    reader -> merge tree -> persistence diagram) and PNGs of both standard layouts;
  * render --make-statefiles: make_statefiles.py, regenerate statefiles/*.pvsm;
  * paraview [LANDSCAPE] [--state STATE]: the GUI with the state opened on the landscape.
Rendering runs under `xvfb-run -a` when it is installed (never --force-offscreen-rendering, which
crashes Debian's ParaView 5.11).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import LossTopoError
from .paraview_env import PACKAGE_DIR, REPO_ROOT, STATE_DIR, find_executable, paraview_environment

SCRIPTS = PACKAGE_DIR / "paraview_scripts"
XVFB_SCREEN = "-screen 0 1600x1000x24"
DEFAULT_STATE = STATE_DIR / "merge_tree.pvsm"
DEMO_LANDSCAPE = REPO_ROOT / "demo" / "landscape"


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 800x600") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"size {text!r} is out of range (16..8192 pixels)")
    return w, h


def headless(cmd: list[str]) -> list[str]:
    """`cmd` under a virtual X server (xvfb-run -a), or as is when there is none but DISPLAY is set."""
    if shutil.which("xvfb-run"):
        # -a searches upwards from -n for a free display; a random start keeps parallel runs apart
        # (two xvfb-run -a starting together can pick the same display and one then fails)
        return ["xvfb-run", "-a", "-n", str(random.randint(100, 30000)), "-s", XVFB_SCREEN] + cmd
    if os.environ.get("DISPLAY"):
        return cmd
    raise LossTopoError("no X server for rendering (xvfb-run not installed, DISPLAY not set)",
                        "install xvfb (apt-get install xvfb xauth, or `make setup`)")


X_FAILURE = "bad X server connection"  # Xvfb not reachable (seen now and then under load): worth a retry


def run_headless(cmd: list[str], env: dict[str, str] | None = None, timeout: float | None = None,
                 attempts: int = 3) -> subprocess.CompletedProcess:
    """Run `cmd` under xvfb-run (see headless), capturing its output; retried on a new display if the
    X server could not be reached."""
    for attempt in range(attempts):
        res = subprocess.run(headless(cmd), env=env or paraview_environment(), capture_output=True, text=True,
                             timeout=timeout)
        if X_FAILURE not in res.stderr or attempt == attempts - 1:
            return res
    return res


def run_paraview(cmd: list[str], timeout: float | None = None, attempts: int = 3) -> int:
    """Run a ParaView command headless with losstopo's environment, passing its output through.

    stderr is passed on line by line as it comes (progress bars stay live) and watched for the X
    server failure, after which the command is run again on another display.
    """
    for attempt in range(attempts):
        x_failed = False
        try:
            proc = subprocess.Popen(headless(cmd), env=paraview_environment(), stderr=subprocess.PIPE, text=True)
            assert proc.stderr is not None
            for line in proc.stderr:
                x_failed = x_failed or X_FAILURE in line
                sys.stderr.write(line)
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise LossTopoError(f"{Path(cmd[0]).name} did not finish in {timeout:.0f} s",
                                "retry, or render fewer views") from None
        if not (x_failed and rc != 0) or attempt == attempts - 1:
            return rc
        print("losstopo: the virtual X server was not reachable; retrying on another display", file=sys.stderr)
    return rc


# ------------------------------------------------------------------------------------------------ render
def add_render_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("landscape", nargs="?", help="landscape folder, landscape.npz, .vti or .vtu")
    p.add_argument("--state", help="state file to apply (statefiles/merge_tree.pvsm, ...); without it "
                                   "the whole pipeline is built and both layouts rendered")
    p.add_argument("--out", help="folder for the PNGs (one per view)")
    p.add_argument("--checkpoint", help="compute the landscape in ParaView from this checkpoint (Loss "
                                        "Landscape source) instead of reading LANDSCAPE")
    p.add_argument("--directions", default="filter", choices=("random", "filter", "hessian"))
    p.add_argument("--resolution", type=int, default=41)
    p.add_argument("--span", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--samples", type=int, default=0, help="evaluation samples (0: the whole test split)")
    p.add_argument("--representation", default="image", choices=("image", "knn"))
    p.add_argument("--k", type=int, default=8, help="neighbours of the kNN graph")
    p.add_argument("--backend", default="builtin", choices=("builtin", "ttk"),
                   help="topology filters: the plugin's built-in ones, or TTK's (needs TTK in ParaView)")
    p.add_argument("--threshold", type=float, default=0.0, help="persistence threshold of the diagram layout")
    p.add_argument("--size", type=_size, default=(800, 600), help="PNG size WIDTHxHEIGHT (default 800x600)")
    p.add_argument("--keep-camera", action="store_true", help="use the state's saved cameras")
    p.add_argument("--make-statefiles", action="store_true", help="regenerate statefiles/*.pvsm and exit")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before giving up (default 1800)")


def render_command(args: argparse.Namespace) -> list[str]:
    """The pvpython command line `losstopo render` runs (without the xvfb-run prefix)."""
    pvpython = find_executable("pvpython")
    w, h = args.size
    if args.make_statefiles:
        out = Path(args.out or STATE_DIR).resolve()
        return [pvpython, str(SCRIPTS / "make_statefiles.py"), "--out", str(out)]
    if not args.out:
        raise LossTopoError("no output folder", "pass --out DIR")
    out = str(Path(args.out).resolve())
    if args.state:
        state = Path(args.state)
        if not state.is_file() and (STATE_DIR / state.name).is_file():
            state = STATE_DIR / state.name
        if not state.is_file():
            raise LossTopoError(f"state file {args.state} does not exist",
                                f"pass one of {', '.join(p.name for p in sorted(STATE_DIR.glob('*.pvsm')))}")
        if not args.landscape:
            raise LossTopoError("no landscape to apply the state to", "pass a landscape folder or file")
        cmd = [pvpython, str(SCRIPTS / "render_state.py"), str(state.resolve()), _existing(args.landscape),
               out, "--width", str(w), "--height", str(h)]
        return cmd + (["--keep-camera"] if args.keep_camera else [])
    cmd = [pvpython, str(SCRIPTS / "run_pipeline.py"), "--out", out, "--width", str(w), "--height", str(h),
           "--backend", args.backend, "--threshold", str(args.threshold),
           "--representation", args.representation, "--k", str(args.k)]
    if args.checkpoint:
        if args.landscape:
            raise LossTopoError("both a landscape and --checkpoint given", "pass only one of them")
        cmd += ["--checkpoint", _existing(args.checkpoint), "--directions", args.directions,
                "--resolution", str(args.resolution), "--span", str(args.span), "--seed", str(args.seed),
                "--samples", str(args.samples)]
    elif args.landscape:
        cmd += ["--landscape", _existing(args.landscape)]
    else:
        raise LossTopoError("nothing to render",
                            "pass a landscape, --checkpoint CKPT, or --state STATE LANDSCAPE")
    return cmd


def _existing(path: str) -> str:
    p = Path(path)
    if not p.exists():
        raise LossTopoError(f"{path} does not exist", "check the path")
    return str(p.resolve())


def run_render(args: argparse.Namespace) -> int:
    rc = run_paraview(render_command(args), timeout=args.timeout)
    return 2 if rc == 2 else (1 if rc else 0)


# ------------------------------------------------------------------------------------------------ GUI
def add_gui_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("landscape", nargs="?",
                   help="landscape folder or file (default: demo/landscape if `make demo` made it)")
    p.add_argument("--state", default=str(DEFAULT_STATE),
                   help="state file to open (default statefiles/merge_tree.pvsm)")
    p.add_argument("--no-state", action="store_true", help="only load the plugin")
    p.add_argument("--print-command", action="store_true",
                   help="print the command instead of starting ParaView")


def gui_command(args: argparse.Namespace, script_dir: Path) -> list[str]:
    """`paraview --script=...` that loads the plugin and opens the state on the landscape."""
    paraview = find_executable("paraview")
    landscape = args.landscape or (str(DEMO_LANDSCAPE) if DEMO_LANDSCAPE.exists() else None)
    if args.no_state or landscape is None:
        if landscape is None and not args.no_state:
            print("losstopo: no landscape given and no demo/landscape yet (run `make demo`); starting with "
                  "the plugin only", file=sys.stderr)
        lines = ["from losstopo.paraview_scripts import pipelines", "pipelines.ensure_plugin()"]
    else:
        state = Path(args.state)
        if not state.is_file():
            raise LossTopoError(f"state file {args.state} does not exist", "pass one of statefiles/*.pvsm")
        lines = ["from losstopo.paraview_scripts import gui_setup",
                 f"gui_setup.open_state({str(state.resolve())!r}, {_existing(landscape)!r})"]
    script = script_dir / "losstopo_gui_setup.py"
    script.write_text("\n".join(lines) + "\n")
    return [paraview, f"--script={script}"]


def run_gui(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="losstopo-gui-") as tmp:
        cmd = gui_command(args, Path(tmp))
        if args.print_command:
            print(" ".join(cmd))
            return 0
        if not os.environ.get("DISPLAY"):
            raise LossTopoError("no display for the ParaView GUI (DISPLAY not set)",
                                "run it on a desktop, over ssh -X, or under xvfb-run for tests")
        return subprocess.run(cmd, env=paraview_environment()).returncode
