"""Reading and rewriting ParaView state files (.pvsm) as XML: no ParaView needed.

Used by make_statefiles.py (portable paths) and render_state.py (which reader to point at the landscape).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

READERS = ("LossLandscapeReader", "XMLImageDataReader", "XMLUnstructuredGridReader")


def readers(state: str | Path | ET.ElementTree) -> list[tuple[str, str]]:
    """[(proxy id, proxy type)] of the landscape readers in a state file."""
    tree = state if isinstance(state, ET.ElementTree) else ET.parse(state)
    return [(p.get("id"), p.get("type")) for p in tree.iter("Proxy")
            if p.get("group") == "sources" and p.get("type") in READERS]


def proxy_types(state: str | Path) -> set[str]:
    return {p.get("type") for p in ET.parse(state).iter("Proxy") if p.get("type")}


def proxy_groups_and_types(state: str | Path) -> set[tuple[str, str]]:
    """(group, type) of every proxy a state file creates: what ParaView must know to load it."""
    return {(p.get("group"), p.get("type")) for p in ET.parse(state).iter("Proxy") if p.get("type")}


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


def write(tree: ET.ElementTree, path: str | Path) -> None:
    ET.indent(tree, space="  ")
    tree.write(path, encoding="utf-8", xml_declaration=True)
