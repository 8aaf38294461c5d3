"""The two standard ParaView pipelines (merge tree, persistence diagram), built with paraview.simple.

pvpython or the GUI only. The state files (losstopo/paraview/states/*.py) are two lines calling
`build_state`; make_statefiles.py saves the TTK variants as .pvsm; run_pipeline.py renders straight from
a landscape or a checkpoint. The built-in filters carry TTK's property names and output layout;
`backend="ttk"` builds the same views with TTK's filters.

Conventions of every view built here:
  * the landscape is a surface warped by a normalised, logarithmic loss (height_expression: 0 at the
    lowest loss, 0.6 of the grid's width at the highest), coloured by Loss on a log scale, so
    landscapes of any span and loss range look alike;
  * critical points are lifted onto that surface with the same normalisation (PythonCalculator with
    the landscape as second input), coloured by CriticalType (blue minimum, green saddle, red maximum).
"""

from __future__ import annotations

import os
from pathlib import Path

from paraview import simple as pv

from losstopo import names
from losstopo.errors import LossTopoError
from losstopo.paraview.env import PLUGIN_FILE
from losstopo.paraview.scripts.diagram_view import (DIAGRAM_VIEW, diagram_view_expression, in_view_coordinates,
                                                     square_diagonal)

HEIGHT = "Height"
LANDSCAPE_VARIABLE = "LOSSTOPO_LANDSCAPE"  # the landscape a state file opens (render and the GUI set it)
DEFAULT_LANDSCAPE = "demo/landscape"  # what `make demo` writes
HEIGHT_FACTOR = 0.6  # warped height = this fraction of the grid's width at the loss range


def ensure_plugin(path: str | Path | None = None) -> None:
    """Load plugin/LossTopo.py into paraview.simple unless PV_PLUGIN_PATH already did."""
    if not hasattr(pv, "LossLandscapeReader"):
        pv.LoadPlugin(str(path or PLUGIN_FILE), remote=False)
    if not hasattr(pv, "LossLandscapeReader"):
        pv._add_functions(vars(pv))


def require_ttk():
    """Load TTK the way users have it (scripts/ttk_load.py) and return its entry of the name table
    (paraview/ttk_names.py); a one-line error when there is no TTK or its names are unknown."""
    from losstopo.paraview.scripts.ttk_load import ttk_names

    try:
        return ttk_names()
    except LossTopoError as e:
        raise LossTopoError(f"this pipeline uses TTK's filters: {e.problem}",
                            "use the built-in state (without _ttk), or a ParaView with TTK (see docs/paraview.md)") \
            from None


def ttk_filter(f, inp, scalar: str, registration: str, **extra):
    """TTK's filter `f` (a ttk_names.TTKFilter) on `inp`, set up as the name table says."""
    proxy = getattr(pv, f.proxy)(registrationName=registration, Input=inp)
    setattr(proxy, f.scalar, ["POINTS", scalar])
    for name, value in list(f.settings) + list(extra.items()):
        if name not in ("UseAllCores", "ThreadNumber"):  # interactive views use every core
            setattr(proxy, name, value)
    return proxy


def height_expression(values: str, landscape_input: int) -> str:
    """PythonCalculator expression: the height of `values` against the landscape's Loss.

    h = log(1 + (v - min) / d) / log(1 + range / d) with d = 1% of the loss range: 0 at the lowest
    loss, 1 at the highest, monotone (so critical points stay where they are) and logarithmic, so a
    loss that explodes at the border (common at large spans) does not flatten the basins.
    """
    loss = f"inputs[{landscape_input}].PointData['{names.LOSS}']"
    bounds = f"inputs[{landscape_input}].GetBounds()"
    lo, rng = f"min({loss})", f"(max({loss}) - min({loss}) + 1e-300)"
    # (x extent + y extent) / 2: the grid's width for square grids, half the length for 1-D ones
    return (f"log(1 + 100 * ({values} - {lo}) / {rng}) / log(101.0) * {HEIGHT_FACTOR} * "
            f"({bounds}[1] - {bounds}[0] + {bounds}[3] - {bounds}[2]) / 2")


NODE_LOSS = "NodeLoss"  # the merge-tree nodes' own loss, kept when Scalar becomes the tree view's height


def tree_height_expression() -> str:
    """PythonCalculator expression over merge-tree nodes (NodeLoss, CriticalType): the tree view's y.

    log10 of the loss (the loss itself if it is not positive), so minima a few percent apart stay apart;
    the root (the grid's highest loss, often a border that explodes to 1e9) is clipped to 15 % of the
    minima-to-highest-saddle range above the highest saddle, so it does not squash the tree into a line.
    """
    s = f"inputs[0].PointData['{NODE_LOSS}']"
    t = f"inputs[0].PointData['{names.CRITICAL_TYPE}']"
    v = f"numpy.where(min({s}) > 0, numpy.log10(numpy.maximum({s}, 1e-300)), {s})"
    top = f"max(numpy.where({t} != {int(names.CriticalType.MAXIMUM)}, {v}, min({v})))"
    clip = f"numpy.where({top} > min({v}), {top} + 0.15 * ({top} - min({v})), max({v}))"
    return f"numpy.minimum({v}, {clip})"


def tree_heights(nodes):
    """The merge-tree nodes with Scalar = tree_height_expression (the loss kept as NodeLoss): what both
    layouts (ours and TTK's PlanarGraphLayout, which read Scalar) draw on their y axis."""
    keep = pv.PythonCalculator(registrationName="MergeTreeNodeLoss", Input=nodes,
                               Expression=f"inputs[0].PointData['{names.SCALAR}']", ArrayName=NODE_LOSS)
    return pv.PythonCalculator(registrationName="MergeTreeHeight", Input=keep, Expression=tree_height_expression(),
                               ArrayName=names.SCALAR)


def square_layout(layout):
    """A planar layout with x rescaled to span what y spans (TTK's branch spacing follows its own units),
    so both layouts draw a square tree: WarpByVector by (x' - x, 0, 0)."""
    x, y = "inputs[0].Points[:, 0]", "inputs[0].Points[:, 1]"
    new_x = f"({x} - min({x})) / (max({x}) - min({x}) + 1e-300) * (max({y}) - min({y}))"
    shift = pv.PythonCalculator(registrationName="MergeTreeLayoutShift", Input=layout, ArrayName="LayoutShift",
                                Expression=f"numpy.stack([{new_x} - {x}, 0 * {x}, 0 * {x}], axis=1)")
    return pv.WarpByVector(registrationName="MergeTreeLayoutSquare", Input=shift, Vectors=["POINTS", "LayoutShift"],
                           ScaleFactor=1.0)


def lift(source, landscape, values: str, label: str):
    """`source`'s points moved to z = the normalised height of `values` (an expression over inputs[0])."""
    calc = pv.PythonCalculator(registrationName=f"{label}Height", Input=[source, landscape],
                               Expression=height_expression(values, 1), ArrayName=HEIGHT)
    return pv.WarpByScalar(registrationName=label, Input=calc, Scalars=["POINTS", HEIGHT], ScaleFactor=1.0,
                           Normal=[0, 0, 1], UseNormal=1)


def open_landscape(path: str, reader: str = "LossLandscapeReader", name: str = "Landscape"):
    """The landscape reader proxy (the plugin's reader, or XMLImageDataReader for a .vti in TTK states)."""
    if reader == "LossLandscapeReader":
        return pv.LossLandscapeReader(registrationName=name, FileName=path)
    return pv.XMLImageDataReader(registrationName=name, FileName=[path])


def warped_landscape(landscape):
    calc = pv.PythonCalculator(registrationName="LandscapeHeight", Input=landscape,
                               Expression=height_expression(f"inputs[0].PointData['{names.LOSS}']", 0),
                               ArrayName=HEIGHT)
    return pv.WarpByScalar(registrationName="WarpedLandscape", Input=calc, Scalars=["POINTS", HEIGHT],
                           ScaleFactor=1.0, Normal=[0, 0, 1], UseNormal=1)


def _critical_type_lut():
    lut = pv.GetColorTransferFunction(names.CRITICAL_TYPE)
    lut.InterpretValuesAsCategories = 1
    lut.Annotations = ["0", "minimum", "1", "1-saddle", "3", "maximum", "4", "degenerate"]
    lut.IndexedColors = [0.1, 0.3, 1.0, 0.1, 0.8, 0.1, 0.95, 0.1, 0.1, 0.9, 0.6, 0.0]
    return lut


def _show_landscape(warp, view):
    rep = pv.Show(warp, view)
    rep.Representation = "Surface"
    pv.ColorBy(rep, ("POINTS", names.LOSS))
    lut = pv.GetColorTransferFunction(names.LOSS)
    lut.ApplyPreset("Viridis (matplotlib)", True)
    lut.AutomaticRescaleRangeMode = "Grow and update every timestep"
    lut.UseLogScale = 1  # losses are positive; log keeps the basins visible next to exploding borders
    _dark_scalar_bar(lut, view, names.LOSS)
    return rep


def _dark_scalar_bar(lut, view, title: str) -> None:
    bar = pv.GetScalarBar(lut, view)
    bar.Title, bar.ComponentTitle = title, ""
    bar.TitleFontSize = bar.LabelFontSize = 12
    bar.TitleColor = bar.LabelColor = [0.1, 0.1, 0.1]
    bar.Visibility = 1


def _show_points(source, view, size: float, array: str, association: str = "POINTS"):
    rep = pv.Show(source, view)
    rep.Representation = "Points"
    rep.PointSize = size
    rep.RenderPointsAsSpheres = 1
    pv.ColorBy(rep, (association, array))
    return rep


def _new_view(name: str, two_d: bool):
    view = pv.CreateView("RenderView", registrationName=name)
    view.OrientationAxesVisibility = 0
    view.Background = [1.0, 1.0, 1.0]
    try:  # ParaView >= 5.10 keeps the palette's background unless told otherwise
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass
    if two_d:
        view.InteractionMode = "2D"
        view.CameraParallelProjection = 1
    return view


def _frame(view, three_d: bool) -> None:
    if three_d:
        view.CameraPosition = [-1.6, -2.2, 1.8]
        view.CameraFocalPoint = [0, 0, 0]
        view.CameraViewUp = [0, 0, 1]
    view.ResetCamera()


def _side_by_side(title: str, right_name: str):
    """A layout with the 3-D LandscapeView on the left and a 2-D view named `right_name` on the right."""
    layout = pv.CreateLayout(title)
    land_view = _new_view("LandscapeView", two_d=False)
    right_view = _new_view(right_name, two_d=True)
    pv.AssignViewToLayout(view=land_view, layout=layout, hint=0)
    layout.SplitHorizontal(0, 0.5)
    pv.AssignViewToLayout(view=right_view, layout=layout, hint=2)
    return land_view, right_view


def merge_tree_views(landscape, backend: str = "builtin", scalar: str = names.LOSS):
    """Landscape view (warped surface, arcs, critical points) and Merge Tree view (planar tree, y = loss)."""
    ttk = require_ttk() if backend == "ttk" else None
    land_view, tree_view = _side_by_side("Merge tree", "MergeTreeView")

    warp = warped_landscape(landscape)
    if ttk is not None:
        tree = ttk_filter(ttk.merge_tree, landscape, scalar, "MergeTree")
        node_port, arc_port = pv.OutputPort(tree, ttk.nodes_port), pv.OutputPort(tree, ttk.arcs_port)
        planar = getattr(pv, ttk.planar_layout.proxy)(registrationName="MergeTreeLayout",
                                                      Input=[tree_heights(node_port), arc_port])
        setattr(planar, ttk.planar_layout_merge_tree, 1)
    else:
        tree = pv.LandscapeMergeTree(registrationName="MergeTree", Input=landscape,
                                     ScalarField=["POINTS", scalar])
        node_port, arc_port = pv.OutputPort(tree, 0), pv.OutputPort(tree, 1)
        planar = pv.LandscapeMergeTreeLayout(registrationName="MergeTreeLayout", Input=tree_heights(node_port),
                                             Arcs=arc_port)
    nodes = lift(node_port, landscape, f"inputs[0].PointData['{names.SCALAR}']", "LiftedNodes")
    arcs = lift(arc_port, landscape, f"inputs[0].PointData['{names.SCALAR}']", "LiftedArcs")

    _show_landscape(warp, land_view)
    arc_rep = pv.Show(arcs, land_view)
    arc_rep.Representation = "Wireframe"
    arc_rep.LineWidth = 3.0
    arc_rep.RenderLinesAsTubes = 1
    arc_rep.ColorArrayName = ["POINTS", ""]
    arc_rep.AmbientColor = arc_rep.DiffuseColor = [0.1, 0.1, 0.1]
    _critical_type_lut()
    _show_points(nodes, land_view, 14.0, names.CRITICAL_TYPE)

    planar = square_layout(planar)
    tree_rep = pv.Show(planar, tree_view)
    tree_rep.Representation = "Wireframe"
    tree_rep.LineWidth = 3.0
    tree_rep.ColorArrayName = ["POINTS", ""]
    tree_rep.AmbientColor = tree_rep.DiffuseColor = [0.1, 0.1, 0.1]
    tree_nodes = pv.ConvertToPointCloud(registrationName="MergeTreeLayoutNodes", Input=planar)
    tree_nodes.CellGenerationMode = "Vertex cells"
    _show_points(tree_nodes, tree_view, 12.0, names.CRITICAL_TYPE)
    tree_view.AxesGrid.Visibility = 1
    tree_view.AxesGrid.XTitle = "branches"
    tree_view.AxesGrid.YTitle = f"log10 {scalar} (root clipped)"
    tree_view.AxesGrid.XAxisUseCustomLabels = 1  # x is only the layout: no numbers on it
    tree_view.AxesGrid.XAxisLabels = []
    for prop in ("XTitleColor", "YTitleColor", "XLabelColor", "YLabelColor", "GridColor"):
        setattr(tree_view.AxesGrid, prop, [0.2, 0.2, 0.2])
    _frame(land_view, True)
    _frame(tree_view, False)
    return {"LandscapeView": land_view, "MergeTreeView": tree_view}


def persistence_views(landscape, backend: str = "builtin", scalar: str = names.LOSS, threshold: float = 0.0):
    """Landscape view (warped surface and the critical points of the pairs above the threshold) and
    Persistence Diagram view (bars from (birth, birth) to (birth, death), the diagonal, one marker per
    pair at (birth, death), all coloured by persistence). One Threshold on Persistence drives both."""
    ttk = require_ttk() if backend == "ttk" else None
    land_view, pd_view = _side_by_side("Persistence diagram", "PersistenceDiagramView")

    warp = warped_landscape(landscape)
    if ttk is not None:
        diagram = ttk_filter(ttk.persistence_diagram, landscape, scalar, "PersistenceDiagram")
    else:
        diagram = pv.LandscapePersistenceDiagram(registrationName="PersistenceDiagram", Input=landscape,
                                                 ScalarField=["POINTS", scalar])
    shift = pv.PythonCalculator(registrationName="DiagramViewPoint", Input=diagram, ArrayName=DIAGRAM_VIEW,
                                Expression=diagram_view_expression())
    kept = pv.Threshold(registrationName="PersistenceThreshold", Input=shift,
                        Scalars=["CELLS", names.PERSISTENCE], ThresholdMethod="Above Upper Threshold",
                        UpperThreshold=threshold)
    # the minimum-saddle pairs (PairType 0): not the diagonal (-1), nor the saddle-maximum pairs TTK adds
    pairs = pv.Threshold(registrationName="Pairs", Input=kept, Scalars=["CELLS", names.PAIR_TYPE],
                         ThresholdMethod="Between", LowerThreshold=0, UpperThreshold=0)
    per_point = pv.CellDatatoPointData(registrationName="PairPoints", Input=pairs)
    cloud = pv.ConvertToPointCloud(registrationName="PairPointCloud", Input=per_point)
    cloud.CellGenerationMode = "Vertex cells"
    markers = pv.Threshold(registrationName="PairMarkers", Input=cloud,
                           Scalars=["POINTS", names.CRITICAL_TYPE], ThresholdMethod="Between",
                           LowerThreshold=1, UpperThreshold=4)
    # critical points of the kept pairs, moved to their place in the domain and lifted onto the surface;
    # each diagram point's y is its own vertex's value: (birth, birth) and (birth, death)
    value = pv.Calculator(registrationName="PairValue", Input=cloud, ResultArrayName="PairValue",
                          Function="coordsY")
    embedded = pv.Calculator(registrationName="PairCriticalPoints", Input=value, CoordinateResults=1,
                             ResultArrayName="Position",
                             Function=f"{names.COORDINATES}_X*iHat + {names.COORDINATES}_Y*jHat")
    lifted = lift(embedded, landscape, "inputs[0].PointData['PairValue']", "LiftedPairPoints")

    _show_landscape(warp, land_view)
    _critical_type_lut()
    _show_points(lifted, land_view, 14.0, names.CRITICAL_TYPE)

    bars_view = in_view_coordinates(kept, "PersistenceBarsView")
    diagonal = pv.Show(square_diagonal(bars_view), pd_view)
    diagonal.ColorArrayName = ["POINTS", ""]
    diagonal.AmbientColor = diagonal.DiffuseColor = [0.55, 0.55, 0.55]
    diagonal.LineWidth = 1.5
    bars = pv.Show(bars_view, pd_view)
    bars.Representation = "Wireframe"
    bars.LineWidth = 2.0
    pv.ColorBy(bars, ("CELLS", names.PERSISTENCE))
    plut = pv.GetColorTransferFunction(names.PERSISTENCE)
    plut.ApplyPreset("Inferno (matplotlib)", True)
    plut.AutomaticRescaleRangeMode = "Grow and update every timestep"
    _show_points(in_view_coordinates(markers, "PairMarkersView"), pd_view, 12.0, names.PERSISTENCE)
    _dark_scalar_bar(plut, pd_view, names.PERSISTENCE)
    pd_view.AxesGrid.Visibility = 1
    pd_view.AxesGrid.XTitle = f"birth (log10 {scalar}; essential deaths clipped)"
    pd_view.AxesGrid.YTitle = f"death (log10 {scalar})"
    for prop in ("XTitleColor", "YTitleColor", "XLabelColor", "YLabelColor", "GridColor"):
        setattr(pd_view.AxesGrid, prop, [0.2, 0.2, 0.2])
    _frame(land_view, True)
    _frame(pd_view, False)
    return {"LandscapeView": land_view, "PersistenceDiagramView": pd_view}


def fit_view(view) -> None:
    """After loading a state on other data: colour maps rescaled to the data, camera reset to fit it."""
    pv.Render(view)
    for rep in view.Representations:
        if rep.Visibility and "ColorArrayName" in rep.ListProperties() and rep.ColorArrayName[1] \
                and rep.ColorArrayName[1] != names.CRITICAL_TYPE:
            rep.RescaleTransferFunctionToDataRange(False, True)
    view.ResetCamera()
    camera = view.GetActiveCamera()  # the vtkCamera itself: the proxy's Camera* properties can be stale
    if camera.GetParallelProjection():  # 2-D views: a margin so markers at the edges stay whole
        camera.SetParallelScale(1.12 * camera.GetParallelScale())
    else:  # 3-D views: the bounding sphere leaves much empty space around a surface
        camera.Dolly(1.25)
    view.SynchronizeCameraProperties()  # or the next proxy update puts the old camera back
    pv.Render(view)


def view_names() -> dict[str, object]:
    """{registration name: view proxy} of every view in the session."""
    pxm = pv.servermanager.ProxyManager()
    return {name: view for (name, _id), view in pxm.GetProxiesInGroup("views").items()}


def screenshots(out_dir: str | Path, prefix: str, size=(800, 600), fit: bool = True) -> list[Path]:
    """One PNG per view, OUT/<prefix>_<view name>.png, each view first sized (and fitted to its data)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, view in sorted(view_names().items()):
        path = out / f"{prefix}_{name}.png"
        view.ViewSize = list(size)
        if fit:
            fit_view(view)
        pv.SaveScreenshot(str(path), view, ImageResolution=list(size))
        files.append(path)
    return files


STATES = {"merge_tree": merge_tree_views, "persistence_diagram": persistence_views}


def build_state(name: str, backend: str = "builtin", landscape: str | None = None) -> dict[str, object]:
    """What a state file does: open the landscape (LOSSTOPO_LANDSCAPE, else demo/landscape) with the
    plugin's reader and build the views of state `name` with the built-in or TTK's filters."""
    ensure_plugin()
    path = landscape or os.environ.get(LANDSCAPE_VARIABLE) or DEFAULT_LANDSCAPE
    return STATES[name](open_landscape(path), backend=backend)
