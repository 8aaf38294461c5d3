"""Running ParaView for losstopo: headless pvpython renders and the GUI, with the plugin loaded.

Both run ParaView's own Python (pvpython / paraview) in env.py's environment, which loads the plugin
and the getargspec fix, and run a script of losstopo/paraview/scripts/ whose one argument is a JSON
object (the scripts parse no command line of their own):
  * render a state on a landscape: render_state.py, one PNG per view of the state;
  * render the whole pipeline from a landscape or a checkpoint: run_pipeline.py (source or reader ->
    merge tree -> persistence diagram) and PNGs of both standard layouts;
  * regenerate the .pvsm state files: make_statefiles.py;
  * the GUI with a state opened on a landscape (gui_setup.py).
Rendering runs under `xvfb-run -a` when it is installed (never --force-offscreen-rendering, which
crashes Debian's ParaView 5.11).

`losstopo render` checks everything in this process first (settings, the checkpoint, the landscape's
file and its Loss array: pvpython must never see an input that can crash it), holds the output
folder's lock, lets pvpython write into a staging folder and moves the PNGs in only when it succeeded;
pvpython's own chatter is kept back, so the user sees the PNG paths or one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from .. import settings
from ..errors import LossTopoError
from .env import SCRIPTS_DIR, find_executable, paraview_environment, state_path

XVFB_SCREEN = "-screen 0 1600x1000x24"
DEFAULT_STATE = "merge_tree"
DEMO_LANDSCAPE = Path("demo") / "landscape"
BACKENDS = ("builtin", "ttk")
REPRESENTATIONS = settings.REPRESENTATIONS


@contextlib.contextmanager
def headless(cmd: list[str]) -> Iterator[list[str]]:
    """`cmd` under a virtual X server (xvfb-run -a), or as is when there is none but DISPLAY is set.

    The X authority file is ours (-f, removed afterwards): with its own temporary folder, Debian's xvfb-run
    exits 5 when it cannot remove that folder and then leaves its Xvfb running (seen under load)."""
    if shutil.which("xvfb-run"):
        with tempfile.TemporaryDirectory(prefix="losstopo-xauth-") as tmp:
            auth = Path(tmp) / "Xauthority"
            auth.touch()
            # -a searches upwards from -n for a free display; a random start keeps parallel runs apart
            # (two xvfb-run -a starting together can pick the same display and one then fails)
            yield ["xvfb-run", "-a", "-n", str(random.randint(100, 30000)), "-f", str(auth), "-s", XVFB_SCREEN] + cmd
        return
    if os.environ.get("DISPLAY"):
        yield cmd
        return
    raise LossTopoError("no X server for rendering (xvfb-run not installed, DISPLAY not set)",
                        "install xvfb (apt-get install xvfb xauth, or `make setup`)")


X_FAILURE = "bad X server connection"  # pvpython could not open the Xvfb display (1 run in 5 under load here): retried


def run_headless(cmd: list[str], env: dict[str, str] | None = None, timeout: float | None = None,
                 attempts: int = 5) -> subprocess.CompletedProcess:
    """Run `cmd` under xvfb-run (see headless), capturing its output; retried on a new display if the
    X server could not be reached."""
    for attempt in range(attempts):
        with headless(cmd) as full:
            res = subprocess.run(full, env=env or paraview_environment(), capture_output=True, text=True,
                                 timeout=timeout)
        if X_FAILURE not in res.stderr or attempt == attempts - 1:
            return res
    return res


def run_paraview(cmd: list[str], timeout: float | None = None, attempts: int = 5) -> int:
    """Run a ParaView command headless with losstopo's environment, passing its output through.

    stderr is passed on line by line as it comes (progress bars stay live) and watched for the X
    server failure, after which the command is run again on another display.
    """
    for attempt in range(attempts):
        x_failed = False
        try:
            with headless(cmd) as full:
                proc = subprocess.Popen(full, env=paraview_environment(), stderr=subprocess.PIPE, text=True)
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
@dataclass
class RenderRequest:
    """What `losstopo render` was asked for (checked by `check`, then passed to a pvpython script as JSON)."""

    out: str
    landscape: str | None = None
    state: str | None = None
    checkpoint: str | None = None
    directions: str = "filter"
    resolution: int = 41
    span: float = 1.0
    seed: int = 0
    samples: int = 0
    representation: str = "image"
    k: int = 8
    backend: str = "builtin"
    threshold: float = 0.0
    width: int = 800
    height: int = 600
    keep_camera: bool = False

    def check(self) -> "RenderRequest":
        """One-line errors for every setting; paths made absolute (pvpython runs elsewhere)."""
        settings.choice("--directions", self.directions, settings.DIRECTION_KINDS)
        settings.choice("--representation", self.representation, REPRESENTATIONS)
        settings.choice("--backend", self.backend, BACKENDS)
        settings.k(self.k)
        settings.threshold(self.threshold)
        if not (16 <= self.width <= 8192 and 16 <= self.height <= 8192):
            raise LossTopoError(f"size {self.width}x{self.height} is out of range (16..8192 pixels)",
                                "pass --size WIDTHxHEIGHT, e.g. 800x600")
        self.out = str(Path(self.out).resolve())
        if self.state is not None:
            self.state = str(state_path(self.state).resolve())
            if self.landscape is None:
                raise LossTopoError("no landscape to apply the state to", "pass a landscape folder or file")
            if self.checkpoint is not None:
                raise LossTopoError("--state renders an existing landscape, not --checkpoint",
                                    "compute the landscape first (losstopo landscape), then render it")
        if self.checkpoint is not None:
            if self.landscape is not None:
                raise LossTopoError("both a landscape and --checkpoint given", "pass only one of them")
            settings.resolution(self.resolution, 2)
            settings.span(self.span)
            settings.seed(self.seed)
            settings.samples(self.samples or None)
            self.checkpoint = _existing(self.checkpoint)
            from ..models.checkpoint import load_checkpoint

            load_checkpoint(self.checkpoint)  # a bad or corrupt checkpoint is named here, not inside pvpython
        elif self.landscape is None:
            raise LossTopoError("nothing to render", "pass a landscape, --checkpoint CKPT, or --state STATE LANDSCAPE")
        if self.landscape is not None:
            self.landscape = _existing(self.landscape)
            check_landscape(Path(self.landscape), self.state is not None and self.state.endswith(".pvsm"))
        return self

    def settings(self) -> dict:
        """What decides the PNGs (the finished render's record; `out` is where they go)."""
        return {k: v for k, v in asdict(self).items() if k != "out"}


def check_landscape(path: Path, needs_vti: bool, require_2d: bool = True) -> None:
    """One-line errors for a landscape ParaView could not render (or would crash on): it must be a
    landscape folder, landscape.npz, .vti or .vtu that losstopo reads, with a Loss array of which at
    least two values are finite, and two-dimensional (the views show a surface). needs_vti: a folder
    must hold landscape.vti (what .pvsm states open with ParaView's own reader)."""
    from .. import names, vtkio
    from ..landscape.files import load_landscape
    from ..topology.finite_part import finite_part

    if path.is_dir() or path.name == names.LANDSCAPE_NPZ:
        folder = path if path.is_dir() else path.parent
        if (folder / names.LANDSCAPE_NPZ).exists():
            ls = load_landscape(folder)
            finite_part(ls.loss)
            dims = ls.dims
            if needs_vti and not (folder / names.LANDSCAPE_VTI).exists():
                raise LossTopoError(f"{folder} holds no {names.LANDSCAPE_VTI} (scattered coordinates?)",
                                    "render it without --state, or recompute it on a grid")
        elif (folder / names.LANDSCAPE_VTI).exists():
            return check_landscape(folder / names.LANDSCAPE_VTI, needs_vti, require_2d)
        else:
            raise LossTopoError(f"{folder} is not a landscape folder (no {names.LANDSCAPE_NPZ})",
                                "pass a folder written by `losstopo landscape`, or a .vti/.vtu file")
    elif path.suffix.lower() in (".vti", ".vtu"):
        data = vtkio.read(path)
        if data.GetPointData().GetArray(names.LOSS) is None:
            have = [data.GetPointData().GetArrayName(i) for i in range(data.GetPointData().GetNumberOfArrays())]
            raise LossTopoError(f"{path} has no point array {names.LOSS!r} (it has {have}), which the views show",
                                "render a landscape written by losstopo; `losstopo analyze --array NAME` "
                                "analyses other arrays")
        finite_part(vtkio.raw_field(data, names.LOSS, source=str(path)))
        if data.IsA("vtkImageData"):
            dims = sum(1 for d in data.GetDimensions() if d > 1)
        else:
            pts = vtkio.points(data)
            dims = int((pts.max(0) - pts.min(0) > 0).sum()) if len(pts) else 0
    else:
        raise LossTopoError(f"cannot render {path} (not a landscape folder, landscape.npz, .vti or .vtu)",
                            "pass a landscape folder or a .vti/.vtu file")
    if require_2d and dims != 2:
        raise LossTopoError(f"{path} is a {dims}-D landscape and the render views show 2-D landscapes",
                            "render a 2-D landscape (--dims 2), or open it in ParaView (losstopo paraview)")


def script_command(script: str, payload: dict) -> list[str]:
    """pvpython SCRIPTS_DIR/script '<payload as JSON>' (the scripts' only argument)."""
    return [find_executable("pvpython"), str(SCRIPTS_DIR / script), json.dumps(payload)]


def render_command(request: RenderRequest) -> list[str]:
    """The pvpython command line `losstopo render` runs (without the xvfb-run prefix)."""
    req = request.check()
    return script_command("render_state.py" if req.state else "run_pipeline.py", asdict(req))


def statefiles_command(out: str | Path) -> list[str]:
    """The pvpython command that regenerates the .pvsm state files into `out`."""
    return script_command("make_statefiles.py", {"out": str(Path(out).resolve())})


def _existing(path: str) -> str:
    p = Path(path)
    if not p.exists():
        raise LossTopoError(f"{path} does not exist", "check the path")
    return str(p.resolve())


RENDER_RECORD = "render.json"  # the settings and files of the finished render in OUT (written last)


def render(request: RenderRequest, timeout: float = 1800, overwrite: bool = False) -> int:
    """Check the request, render under Xvfb into a staging folder, move the PNGs into request.out; 0 on
    success (the written paths printed). Every failure is one LossTopoError line (exit code 2)."""
    from ..fileio import check_settings, output_folder, publish, staging, write_json

    req = request.check()
    with output_folder(req.out, "render") as out:
        old = check_settings(out, RENDER_RECORD, req.settings(), overwrite, "render")
        with staging(out) as stage:
            payload = dict(asdict(req), out=str(stage))
            cmd = script_command("render_state.py" if req.state else "run_pipeline.py", payload)
            try:
                res = run_headless(cmd, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise LossTopoError(f"pvpython did not finish rendering in {timeout:.0f} s",
                                    "retry with --timeout larger, or render fewer views") from None
            if res.returncode != 0:
                raise LossTopoError(_failure(res))
            files = sorted(p.name for p in stage.iterdir())
            if not files:
                raise LossTopoError("pvpython wrote no picture", "check the landscape and the state")
            write_json(stage / RENDER_RECORD, {"settings": req.settings(), "files": files})
            publish(stage, out, last=RENDER_RECORD, drop=list(old.get("files") or []))
    for name in files:
        print(out / name)
    return 0


def _failure(res: subprocess.CompletedProcess) -> str:
    """The one line for a failed pvpython run: the script's own error line, else what happened."""
    prefix = "losstopo: error: "
    for line in reversed(res.stderr.splitlines()):
        if line.startswith(prefix):
            return line[len(prefix):]
    if res.returncode < 0 or res.returncode >= 128:  # killed by a signal (ParaView crashed)
        sig = -res.returncode if res.returncode < 0 else res.returncode - 128
        what = f"crashed (signal {sig})"
    else:
        what = f"failed (exit code {res.returncode})"
    last = next((ln.strip() for ln in reversed(res.stderr.splitlines()) if ln.strip()), "no message")
    return f"pvpython {what} while rendering; its last message: {last[:200]}; please report this with the input"


# ------------------------------------------------------------------------------------------------ GUI
def gui_command(landscape: str | None, state: str | None, script_dir: Path) -> list[str]:
    """`paraview --script=...` that loads the plugin and opens the state (by name or path) on the landscape.

    landscape None: demo/landscape when it exists (what `make demo` writes), else the plugin only.
    state None: the plugin only.
    """
    paraview = find_executable("paraview")
    if landscape is None and state is not None and DEMO_LANDSCAPE.exists():
        landscape = str(DEMO_LANDSCAPE)
    if state is None or landscape is None:
        if landscape is None and state is not None:
            print("losstopo: no landscape given and no demo/landscape here (run `make demo`); starting with "
                  "the plugin only", file=sys.stderr)
        lines = ["from losstopo.paraview.scripts import pipelines", "pipelines.ensure_plugin()"]
    else:
        found = _existing(landscape)
        check_landscape(Path(found), needs_vti=str(state).endswith(".pvsm"), require_2d=False)  # 3-D ones too
        lines = ["from losstopo.paraview.scripts import gui_setup",
                 f"gui_setup.open_state({str(state_path(state).resolve())!r}, {found!r})"]
    script = script_dir / "losstopo_gui_setup.py"
    script.write_text("\n".join(lines) + "\n")
    return [paraview, f"--script={script}"]


def check_state_proxies(state: str, timeout: float = 300) -> None:
    """One line (LossTopoError) unless ParaView can create every proxy of `state` (pvpython, no display):
    a TTK state without TTK, or with a TTK whose names differ, stops here instead of opening a GUI
    without the tree."""
    cmd = script_command("render_state.py", {"state": str(state_path(state).resolve()), "check_only": True})
    res = subprocess.run(cmd, env=paraview_environment(), capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise LossTopoError(_failure(res))


def run_gui(landscape: str | None, state: str | None, print_command: bool = False) -> int:
    """Start the ParaView GUI with the plugin and the state (or print the command)."""
    with tempfile.TemporaryDirectory(prefix="losstopo-gui-") as tmp:
        cmd = gui_command(landscape, state, Path(tmp))
        if print_command:
            print(" ".join(cmd))
            return 0
        if not os.environ.get("DISPLAY"):
            raise LossTopoError("no display for the ParaView GUI (DISPLAY not set)",
                                "run it on a desktop, over ssh -X, or under xvfb-run for tests")
        if state is not None:
            check_state_proxies(state)
        return subprocess.run(cmd, env=paraview_environment()).returncode
