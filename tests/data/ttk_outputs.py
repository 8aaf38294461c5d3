"""pvpython: run real TTK on one case and store every array of every output, as TTK wrote it.

    pvpython ttk_outputs.py '{"plugin": ".../TopologyToolKit.so", "input": "case.vti", "array": "Loss",
                              "output": "case.ttk-BUILD.npz", "job": "topology"|"simplification",
                              "threshold": 0.1}'

job "topology": TTK's merge tree (Join Tree, direct arcs, deterministic ids, 1 thread) -> keys tree0/,
tree1/, tree2/ (its three ports), and TTK's persistence diagram with its defaults -> key diagram/.
job "simplification": TTKTopologicalSimplificationByPersistence (Minimum-Saddle, absolute threshold, 1
thread) -> simplified/, then the merge tree and the diagram of its output -> tree0/ ... diagram/.
Each output O becomes O/points (float as stored), O/cells/{connectivity,offsets,types} and
O/point/<array>, O/cell/<array> with TTK's dtypes; meta/ holds the TTK build's proxy names. Run by
make_data.py, one process per job (TTK crashes on some inputs; the caller records it). Ends with
os._exit after flushing: some builds crash at interpreter exit.
"""

import json
import os
import sys

import numpy as np
from paraview import simple as pv
from vtkmodules.util.numpy_support import vtk_to_numpy

job = json.loads(sys.argv[1])
pv.LoadPlugin(job["plugin"], remote=False, ns=globals())  # TTK's paraview.simple functions land here
TTK = globals()
NEW = "TTKMergeTree" in TTK  # the names after TTK 1.2.0 (TTKMergeTree); 1.2.0: TTKMergeandContourTreeFTM
arrays = {"meta/merge_tree_proxy": np.array("TTKMergeTree" if NEW else "TTKMergeandContourTreeFTM")}


def one_thread(proxy):
    proxy.UseAllCores = 0
    proxy.ThreadNumber = 1


def merge_tree(src):
    tree = TTK["TTKMergeTree"](Input=src) if NEW else TTK["TTKMergeandContourTreeFTM"](Input=src)
    if NEW:
        tree.Backend = "FTM (IEEE TPDS 2019)"
    tree.ScalarField = ["POINTS", job["array"]]
    tree.TreeType = "Join Tree"
    tree.ArcSampling = 0
    one_thread(tree)
    return tree


def diagram(src):
    d = TTK["TTKPersistenceDiagram"](Input=src)
    d.ScalarField = ["POINTS", job["array"]]
    one_thread(d)
    return d


def store(prefix, data):
    if data.IsA("vtkImageData"):
        arrays[f"{prefix}/dimensions"] = np.array(data.GetDimensions())
    elif data.GetPoints() is not None:
        arrays[f"{prefix}/points"] = vtk_to_numpy(data.GetPoints().GetData()).copy()
    cells = data.GetCells() if hasattr(data, "GetCells") else None
    if cells is not None:
        arrays[f"{prefix}/cells/connectivity"] = vtk_to_numpy(cells.GetConnectivityArray()).copy()
        arrays[f"{prefix}/cells/offsets"] = vtk_to_numpy(cells.GetOffsetsArray()).copy()
        arrays[f"{prefix}/cells/types"] = vtk_to_numpy(data.GetCellTypesArray()).copy()
    for kind, attrs in (("point", data.GetPointData()), ("cell", data.GetCellData())):
        for i in range(attrs.GetNumberOfArrays()):
            a = attrs.GetArray(i)
            if a is not None and a.GetName():
                arrays[f"{prefix}/{kind}/{a.GetName()}"] = vtk_to_numpy(a).copy()


def output(proxy, port=0):
    proxy.UpdatePipeline()
    return proxy.GetClientSideObject().GetOutputDataObject(port)


path = job["input"]
reader = (pv.XMLImageDataReader if path.endswith(".vti") else pv.XMLUnstructuredGridReader)(FileName=[path])
source = reader
if job["job"] == "simplification":
    source = TTK["TTKTopologicalSimplificationByPersistence"](Input=reader)
    source.InputArray = ["POINTS", job["array"]]
    source.PairType = "Minimum-Saddle"
    source.PersistenceThreshold = float(job["threshold"])
    source.ThresholdIsAbsolute = 1
    one_thread(source)
    store("simplified", output(source))
tree = merge_tree(source)
for port in range(3):
    store(f"tree{port}", output(tree, port))
store("diagram", output(diagram(source)))
np.savez_compressed(job["output"], **arrays)
print("TTK-OUTPUTS-WRITTEN", job["output"], flush=True)
sys.stderr.flush()
os._exit(0)
