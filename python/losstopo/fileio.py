"""Atomic file writing: no partial or corrupt file ever sits under a final output name."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from .errors import LossTopoError


def ensure_output_dir(path: str | os.PathLike) -> Path:
    """Create `path` as a writable folder or raise a one-line LossTopoError."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise LossTopoError(f"output path {p} is a file, not a folder", "pass --out a folder path")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LossTopoError(f"cannot create output folder {p} ({e.strerror})", "choose a writable --out") from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise LossTopoError(f"output folder {p} is not writable", "choose a writable --out")
    return p


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to `final`; on success fsync it and rename it to `final`.

    On any exception the temporary file is removed and `final` is left as it was.
    """
    final = Path(final)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=suffix or final.suffix, dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write `obj` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")
