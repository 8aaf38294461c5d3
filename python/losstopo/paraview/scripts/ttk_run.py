"""Run TTK for losstopo, in pvpython (TTK's ParaView plugin) or in python (TTK's VTK modules):

    pvpython ttk_run.py '{"job": "probe", "route": "paraview"}'
    python   ttk_run.py '{"job": "topology", "route": "python", "merge_tree": "TTKMergeTree",
                          "input": "in.vti", "out": "DIR", "threshold": 0.0, "array": "Loss"}'

probe: prints one line `TTK-PROBE {json}`: how TTK was found, where, its version, and the TTK filters it
offers with their properties (ParaView) or setters (VTK classes).
topology: [TTKTopologicalSimplificationByPersistence ->] the merge tree (join tree, direct arcs) and
TTKPersistenceDiagram, set up as ttk_names' entry (named by its merge-tree proxy) says, 1 thread so ids
are deterministic; writes simplified.EXT, nodes.vtu, arcs.vtu, segmentation.EXT, diagram.vtu into DIR
and prints TTK-DONE. Leaves with os._exit: some TTK builds crash at interpreter exit.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

from losstopo.paraview.ttk_names import TTKFilter, by_key


def _write(data, path: str) -> None:
    from vtkmodules.vtkIOXML import vtkXMLDataObjectWriter

    w = vtkXMLDataObjectWriter()
    w.SetFileName(path)
    w.SetInputData(data)
    if not w.Write():
        raise RuntimeError(f"could not write {path}")


def probe_paraview() -> dict:
    from losstopo.paraview.scripts.ttk_load import load_ttk

    return load_ttk()


def probe_python() -> dict:
    import importlib.metadata

    import topologytoolkit

    try:
        version = importlib.metadata.version("topologytoolkit")
    except importlib.metadata.PackageNotFoundError:
        version = ""
    offered = {n: [m for m in dir(getattr(topologytoolkit, n)) if m.startswith("Set")]
               for n in dir(topologytoolkit) if n.startswith("ttk")}
    return {"source": "TTK's Python modules (topologytoolkit)", "location": os.path.dirname(topologytoolkit.__file__),
            "version": version, "filters": sorted(offered), "offered": offered}


class ParaViewChain:
    """TTK's filters as pvpython proxies."""

    def __init__(self, path: str):
        from paraview import simple as pv

        from losstopo.paraview.scripts.ttk_load import load_ttk

        load_ttk()
        self.pv = pv
        reader = pv.XMLImageDataReader if path.endswith(".vti") else pv.XMLUnstructuredGridReader
        self.source = reader(FileName=[path])

    def add(self, f: TTKFilter, inp, array: str, **extra):
        proxy = getattr(self.pv, f.proxy)(Input=inp)
        setattr(proxy, f.scalar, ["POINTS", array])
        for name, value in list(f.settings) + list(extra.items()):
            setattr(proxy, name, value)
        return proxy

    def output(self, proxy, port: int = 0):
        proxy.UpdatePipeline()
        return proxy.GetClientSideObject().GetOutputDataObject(port)


class VTKChain:
    """TTK's filters as VTK algorithms from the topologytoolkit package (no ParaView)."""

    def __init__(self, path: str):
        from vtkmodules.vtkIOXML import vtkXMLImageDataReader, vtkXMLUnstructuredGridReader

        reader = vtkXMLImageDataReader() if path.endswith(".vti") else vtkXMLUnstructuredGridReader()
        reader.SetFileName(path)
        self.source = reader

    def add(self, f: TTKFilter, inp, array: str, **extra):
        import topologytoolkit

        algo = getattr(topologytoolkit, f.vtk_class)()
        algo.SetInputConnection(inp.GetOutputPort())
        algo.SetInputArrayToProcess(0, 0, 0, 0, array)
        for method, args in list(f.vtk_settings) + [(f"Set{k}", (v,)) for k, v in extra.items()]:
            getattr(algo, method)(*args)
        return algo

    def output(self, algo, port: int = 0):
        algo.Update()
        return algo.GetOutputDataObject(port)


def topology(job: dict) -> None:
    """The chain of the module docstring; with job["threads"] > 1 TTK may use that many threads (ids are
    then not deterministic: for benchmarks only). Prints `TTK-TIMES {json}`: seconds per filter."""
    names = by_key(job["merge_tree"])
    chain = (ParaViewChain if job["route"] == "paraview" else VTKChain)(job["input"])
    ext = os.path.splitext(job["input"])[1]
    out, array, src = job["out"], job["array"], chain.source
    threads = int(job.get("threads", 1))
    extra = {"UseAllCores": 0, "ThreadNumber": threads} if threads > 1 else {}
    times = {"read": _timed(chain.output, src)}
    if job["threshold"] > 0:
        src = chain.add(names.simplification, src, array, PersistenceThreshold=float(job["threshold"]), **extra)
        times["simplification"] = _timed(chain.output, src)
    _write(chain.output(src), f"{out}/simplified{ext}")
    tree = chain.add(names.merge_tree, src, array, **extra)
    times["merge_tree"] = _timed(chain.output, tree, names.nodes_port)
    _write(chain.output(tree, names.nodes_port), f"{out}/nodes.vtu")
    _write(chain.output(tree, names.arcs_port), f"{out}/arcs.vtu")
    _write(chain.output(tree, names.segmentation_port), f"{out}/segmentation{ext}")
    diagram = chain.add(names.persistence_diagram, src, array, **extra)
    times["persistence_diagram"] = _timed(chain.output, diagram)
    _write(chain.output(diagram), f"{out}/diagram.vtu")
    print("TTK-TIMES " + json.dumps(times), flush=True)
    print("TTK-DONE", flush=True)


def _timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def main(job: dict) -> int:
    try:
        if job["job"] == "probe":
            found = probe_paraview() if job["route"] == "paraview" else probe_python()
            print("TTK-PROBE " + json.dumps(found), flush=True)
        else:
            topology(job)
    except Exception as e:  # noqa: BLE001 - reported to the caller as one line
        traceback.print_exc()
        print(f"{type(e).__name__}: {e}".replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    code = main(json.loads(sys.argv[1]))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
