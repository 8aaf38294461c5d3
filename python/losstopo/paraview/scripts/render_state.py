"""Apply a state to a landscape and write one PNG per view (pvpython, under xvfb-run -a):

    pvpython render_state.py '{"state": STATE, "landscape": LANDSCAPE, "out": OUT, "width": 800, ...}'

STATE: a Python state of losstopo/paraview/states (run with LOSSTOPO_LANDSCAPE = LANDSCAPE) or a .pvsm
state, whose landscape readers are pointed at LANDSCAPE through ParaView's data-file substitution
(LoadState(..., filenames=[{'id': <reader id>, 'FileName': LANDSCAPE}])). Then colour maps are rescaled
to the new data and cameras reset (unless keep_camera), and OUT/<state>_<view>.png is written for each
view. Exit code 2 with one line on stderr when the state cannot be applied (its proxies cannot be
created: a TTK state without TTK or with a TTK of other names). With "check_only": true, only that check
(what `losstopo paraview --state` runs before it starts the GUI).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path

from paraview import simple as pv

from losstopo import names
from losstopo.errors import EXIT_USER_ERROR, LossTopoError
from losstopo.paraview.scripts import pipelines, statefile


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


def needs_ttk(state: Path) -> bool:
    """Whether a state builds TTK's filters: a .pvsm naming ttk* proxies, or a Python state with
    backend="ttk" (the shipped *_ttk states)."""
    if state.suffix == ".pvsm":
        return any(t.lower().startswith("ttk") for _, t in statefile.proxy_groups_and_types(state))
    text = state.read_text(errors="replace")
    return state.stem.endswith("_ttk") or 'backend="ttk"' in text or "backend='ttk'" in text


def check_state(state: Path) -> None:
    """One line (LossTopoError) unless this ParaView can create every proxy of `state`: TTK loaded the way
    users have it when the state needs it, and for .pvsm every proxy type known (GetPrototypeProxy)."""
    if not state.is_file():
        raise LossTopoError(f"state file {state} does not exist", "pass a state of losstopo")
    pipelines.ensure_plugin()
    if state.suffix != ".pvsm":
        if needs_ttk(state):
            pipelines.require_ttk()
        return
    if not statefile.readers(state):
        raise LossTopoError(f"state {state.name} has no landscape reader", "pass a state of losstopo")
    if needs_ttk(state):
        try:
            pipelines.require_ttk()  # loads TTK the way users have it, if there is one
        except LossTopoError:
            pass  # the check below names what cannot be created
    wanted = statefile.proxy_groups_and_types(state)
    pxm = pv.servermanager.ProxyManager().SMProxyManager
    unknown = sorted(t for g, t in wanted if pxm.GetPrototypeProxy(g, t) is None)
    if unknown:
        ttk = [t for t in unknown if t.lower().startswith("ttk")]
        raise LossTopoError(f"state {state.name} needs proxies this ParaView cannot create ({', '.join(unknown[:5])})",
                            "load TTK with the version the state was made for (see losstopo doctor), or use the "
                            "built-in state without _ttk" if ttk else "load the plugin that defines them")


def _load_pvsm(state: Path, landscape: Path) -> None:
    check_state(state)
    files = [{"id": rid, "FileName": landscape_file(landscape, rtype)} for rid, rtype in statefile.readers(state)]
    pv.LoadState(str(state), filenames=files)


def load_state(state: Path, landscape: Path) -> dict:
    """Load `state` on `landscape`; {view name: view}."""
    if not state.is_file():
        raise LossTopoError(f"state file {state} does not exist", "pass a state of losstopo")
    if not landscape.exists():
        raise LossTopoError(f"landscape {landscape} does not exist",
                            "pass a landscape folder, .npz, .vti or .vtu")
    pipelines.ensure_plugin()
    if state.suffix == ".py":
        os.environ[pipelines.LANDSCAPE_VARIABLE] = str(landscape)
        runpy.run_path(str(state), run_name="__main__")
    else:
        _load_pvsm(state, landscape)
    views = pipelines.view_names()
    if not views:
        raise LossTopoError(f"state {state.name} has no views after loading", "regenerate it (make statefiles)")
    for src in pv.GetSources().values():
        if src.GetXMLName() in statefile.READERS:
            src.UpdatePipeline()
            if src.GetDataInformation().GetNumberOfPoints() == 0:
                raise LossTopoError(f"the landscape {landscape} gave no points",
                                    "check that it is a landscape (see the error above)")
    return views


def main(payload: dict) -> int:
    try:
        state = Path(payload["state"])
        if payload.get("check_only"):  # `losstopo paraview` asks before it starts the GUI
            check_state(state)
            return 0
        load_state(state, Path(payload["landscape"]))
        size = (int(payload.get("width", 800)), int(payload.get("height", 600)))
        for path in pipelines.screenshots(payload["out"], state.stem, size, fit=not payload.get("keep_camera")):
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
    exit_now(main(json.loads(sys.argv[1])))
