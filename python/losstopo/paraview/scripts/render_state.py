"""Apply a state file to a landscape and write one PNG per view (pvpython, under xvfb-run -a):

    pvpython render_state.py STATE LANDSCAPE OUT [--width 800 --height 600] [--keep-camera]

LANDSCAPE: a landscape folder, its landscape.npz, or a .vti/.vtu file. Every landscape reader in the
state is pointed at it through ParaView's data-file substitution (LoadState(..., filenames=[{'id': <reader
id>, 'FileName': LANDSCAPE}])); then colour maps are rescaled to the new data and cameras reset (unless
--keep-camera), and OUT/<state>_<view>.png is written for each view. Exit code 2 with one line on
stderr when the state cannot be applied (no reader in it, TTK filters without TTK, no data after loading).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from paraview import simple as pv

from losstopo import names
from losstopo.errors import EXIT_USER_ERROR, LossTopoError
from losstopo.paraview_scripts import pipelines, statefile


def landscape_file(landscape: Path, reader_type: str) -> str:
    """The file a reader of `reader_type` should open for the landscape the user named."""
    if reader_type == "LossLandscapeReader":
        return str(landscape)
    if landscape.is_dir():
        for name in (names.LANDSCAPE_VTI, names.LANDSCAPE_VTU):
            if (landscape / name).exists():
                return str(landscape / name)
        raise LossTopoError(f"{landscape} holds no {names.LANDSCAPE_VTI}",
                            "pass a landscape folder with a grid")
    if landscape.name == names.LANDSCAPE_NPZ and (landscape.parent / names.LANDSCAPE_VTI).exists():
        return str(landscape.parent / names.LANDSCAPE_VTI)
    return str(landscape)


def load_state(state: Path, landscape: Path) -> dict:
    """Load `state` with its readers pointed at `landscape`; {view name: view}."""
    if not state.is_file():
        raise LossTopoError(f"state file {state} does not exist", "pass one of statefiles/*.pvsm")
    if not landscape.exists():
        raise LossTopoError(f"landscape {landscape} does not exist",
                            "pass a landscape folder, .npz, .vti or .vtu")
    found = statefile.readers(state)
    if not found:
        raise LossTopoError(f"state {state.name} has no landscape reader", "pass one of statefiles/*.pvsm")
    ttk = sorted(t for t in statefile.proxy_types(state) if t.startswith("ttk"))
    if ttk and not hasattr(pv, "TTKPersistenceDiagram"):
        raise LossTopoError(f"state {state.name} uses TTK filters ({', '.join(ttk)}) and TTK is not loaded",
                            "use the built-in state without _ttk, or a ParaView with TTK")
    pipelines.ensure_plugin()
    files = [{"id": rid, "FileName": landscape_file(landscape, rtype)} for rid, rtype in found]
    pv.LoadState(str(state), filenames=files)
    views = pipelines.view_names()
    if not views:
        raise LossTopoError(f"state {state.name} has no views after loading",
                            "regenerate it with `losstopo render --make-statefiles`")
    for src in pv.GetSources().values():
        if src.GetXMLName() in statefile.READERS:
            src.UpdatePipeline()
            if src.GetDataInformation().GetNumberOfPoints() == 0:
                raise LossTopoError(f"the landscape {landscape} gave no points",
                                    "check that it is a landscape (see the error above)")
    return views


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("state")
    p.add_argument("landscape")
    p.add_argument("out")
    p.add_argument("--width", type=int, default=800)
    p.add_argument("--height", type=int, default=600)
    p.add_argument("--keep-camera", action="store_true", help="use the cameras saved in the state")
    args = p.parse_args(argv)
    try:
        state = Path(args.state)
        load_state(state, Path(args.landscape))
        size = (args.width, args.height)
        for path in pipelines.screenshots(args.out, state.stem, size, fit=not args.keep_camera):
            print(path)
    except LossTopoError as e:
        print(f"losstopo: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


def exit_now(code: int) -> None:
    """Leave without ParaView's teardown, which can fail with GLXBadContext under Xvfb after LoadState."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
