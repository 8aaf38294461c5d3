"""Lazy package faces (PEP 562): a face lists its public names, and a name's module is imported on first use.

Used where importing the face must stay cheap: `losstopo` itself and `losstopo.landscape`, whose members
pull in torch, while readers of landscape folders (the ParaView plugin, analyze) need only numpy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable


def lazy_face(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """(__getattr__, __dir__) for `package` whose public name N lives in the relative module exports[N]."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(import_module(exports[name], package), name)
        if not name.startswith("_"):  # a subpackage or module, e.g. losstopo.topology
            try:
                return import_module(f".{name}", package)
            except ModuleNotFoundError as e:
                if e.name != f"{package}.{name}":
                    raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
