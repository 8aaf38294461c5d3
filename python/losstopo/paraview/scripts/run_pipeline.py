"""The whole pipeline in pvpython, headless (under xvfb-run -a): landscape -> merge tree -> persistence
diagram -> one PNG per view of both standard layouts (pipelines.py), and the metrics as JSON.

    pvpython run_pipeline.py '{"landscape": DIR|FILE, "out": OUT, "backend": "builtin"|"ttk", ...}'
    pvpython run_pipeline.py '{"checkpoint": "model.pt", "resolution": 21, "span": 1, "out": OUT, ...}'

(the keys of losstopo.paraview.launch.RenderRequest, which checks them).
With --checkpoint the plugin's Loss Landscape source computes the landscape inside ParaView (cached on
disk by losstopo, so a second run with the same settings is instant).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

from paraview import simple as pv

from losstopo.errors import EXIT_USER_ERROR, LossTopoError
from losstopo.fileio import write_json
from losstopo.paraview.scripts import pipelines
from losstopo.paraview.scripts.render_state import exit_now
from losstopo.settings import DIRECTION_KINDS

DIRECTIONS = {kind: i for i, kind in enumerate(DIRECTION_KINDS)}  # the source's Directions enumeration


def landscape_source(args: SimpleNamespace):
    rep = 0 if args.representation == "image" else 1
    if args.checkpoint:
        src = pv.LossLandscape(registrationName="Landscape", Checkpoint=args.checkpoint,
                                     Directions=DIRECTIONS[args.directions], DirectionSeed=args.seed,
                                     Span=args.span, Resolution=args.resolution, Samples=args.samples,
                                     Representation=rep, K=args.k)
    else:
        src = pv.LossLandscapeReader(registrationName="Landscape", FileName=args.landscape,
                                     Representation=rep, K=args.k)
    src.UpdatePipeline()
    if src.GetDataInformation().GetNumberOfPoints() == 0:
        raise LossTopoError("the landscape could not be computed or read (see the error above)",
                            "fix the input named there and rerun")
    return src


def metrics(src) -> dict:
    table = pv.LandscapeMetrics(Input=src, ScalarField=["POINTS", "Loss"])
    data = pv.servermanager.Fetch(table)
    return {data.GetColumnName(i): data.GetColumn(i).GetValue(0) for i in range(data.GetNumberOfColumns())}


def main(payload: dict) -> int:
    args = SimpleNamespace(**payload)
    try:
        pipelines.ensure_plugin()
        if args.backend == "ttk":
            pipelines.require_ttk()  # one line when there is no TTK or its names are unknown
        size = (args.width, args.height)
        out = Path(args.out)
        for name, build in (("merge_tree", pipelines.merge_tree_views),
                            ("persistence_diagram", pipelines.persistence_views)):
            pv.ResetSession()
            pipelines.ensure_plugin()
            src = landscape_source(args)
            kwargs = {"threshold": args.threshold} if name == "persistence_diagram" else {}
            build(src, backend=args.backend, **kwargs)
            for path in pipelines.screenshots(out, name, size):
                print(path)
        write_json(out / "metrics.json", metrics(src))  # strict JSON: a missing value (NaN) is null
        print(out / "metrics.json")
    except LossTopoError as e:
        print(f"losstopo: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


if __name__ == "__main__":
    exit_now(main(json.loads(sys.argv[1])))
