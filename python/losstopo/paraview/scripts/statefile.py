"""Reading and rewriting ParaView state files (.pvsm) as XML: no ParaView needed.

Used by make_statefiles.py (portable paths, the TTK variants) and render_state.py (which reader to
point at the landscape). The TTK variants are the built-in states with each LossTopo proxy replaced by
the TTK proxy it mirrors (same property names, same output layout), so the views stay identical.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

# our proxy type -> (TTK's proxy XML name, properties to drop)
TTK_PROXIES = {
    "LandscapeMergeTree": ("ttkftmtree", ()),
    "LandscapePersistenceDiagram": ("ttkPersistenceDiagram", ()),
    "LandscapeTopologicalSimplification": ("ttkTopologicalSimplificationByPersistence", ()),
    "LandscapeMergeTreeLayout": ("ttkPlanarGraphLayout", ("Arcs", "Width")),
}
READERS = ("LossLandscapeReader", "XMLImageDataReader", "XMLUnstructuredGridReader")
DEFAULT_DATA = "demo/landscape/landscape.npz"  # what `make demo` writes, relative to the repository


def readers(state: str | Path | ET.ElementTree) -> list[tuple[str, str]]:
    """[(proxy id, proxy type)] of the landscape readers in a state file."""
    tree = state if isinstance(state, ET.ElementTree) else ET.parse(state)
    return [(p.get("id"), p.get("type")) for p in tree.iter("Proxy")
            if p.get("group") == "sources" and p.get("type") in READERS]


def proxy_types(state: str | Path) -> set[str]:
    return {p.get("type") for p in ET.parse(state).iter("Proxy") if p.get("type")}


def view_names(state: str | Path) -> list[str]:
    """Registration names of the views in a state file."""
    tree = ET.parse(state)
    for coll in tree.iter("ProxyCollection"):
        if coll.get("name") == "views":
            return sorted(item.get("name") for item in coll.iter("Item"))
    return []


def string_values(state: str | Path) -> list[str]:
    """Every string value in the state (for the no-absolute-path check)."""
    return [e.get("value") for e in ET.parse(state).iter("Element") if e.get("value") is not None]


def set_reader_files(tree: ET.ElementTree, filename: str) -> None:
    """Point every landscape reader of the state at `filename` (and drop stale file-info properties)."""
    for p in tree.iter("Proxy"):
        if p.get("group") == "sources" and p.get("type") in READERS:
            for prop in p.findall("Property"):
                if prop.get("name") == "FileName":
                    for e in prop.findall("Element"):
                        e.set("value", filename)
                elif prop.get("name") in ("FileNameInfo", "TimestepValues"):
                    p.remove(prop)


def _property(parent: ET.Element, proxy_id: str, name: str, values: list[str]) -> ET.Element:
    prop = ET.SubElement(parent, "Property", name=name, id=f"{proxy_id}.{name}",
                         number_of_elements=str(len(values)))
    for i, v in enumerate(values):
        ET.SubElement(prop, "Element", index=str(i), value=v)
    return prop


def to_ttk(tree: ET.ElementTree, vti_name: str) -> ET.ElementTree:
    """The same state with TTK's filters and ParaView's own .vti reader instead of the plugin's."""
    for p in tree.iter("Proxy"):
        ptype = p.get("type")
        pid = p.get("id")
        if p.get("group") == "sources" and ptype == "LossLandscapeReader":
            p.set("type", "XMLImageDataReader")
            for prop in list(p.findall("Property")):
                p.remove(prop)
            _property(p, pid, "FileName", [vti_name])
        elif p.get("group") == "filters" and ptype in TTK_PROXIES:
            new_type, drop = TTK_PROXIES[ptype]
            p.set("type", new_type)
            props = {prop.get("name"): prop for prop in p.findall("Property")}
            if ptype == "LandscapeMergeTreeLayout":  # TTK takes nodes and arcs on one multiple input
                inp, arcs = props["Input"], props["Arcs"]
                for proxy in arcs.findall("Proxy"):
                    inp.append(proxy)
                inp.set("number_of_elements", str(len(inp.findall("Proxy"))))
                _property(p, pid, "MergeTreePlanarLayout", ["1"])
            for name in drop + ("Reload Python Module", "ReloadPythonModule"):
                if name in props:
                    p.remove(props[name])
    return tree


def write(tree: ET.ElementTree, path: str | Path) -> None:
    ET.indent(tree, space="  ")
    tree.write(path, encoding="utf-8", xml_declaration=True)
