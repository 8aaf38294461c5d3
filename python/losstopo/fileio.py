"""Atomic file writing: no partial or corrupt file ever sits under a final output name."""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence

from .errors import LossTopoError


def cache_root() -> Path:
    """Where losstopo caches landscapes and compiled code: $LOSSTOPO_CACHE or ~/.cache/losstopo."""
    return Path(os.environ.get("LOSSTOPO_CACHE") or Path.home() / ".cache" / "losstopo")


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


def write_csv(path: str | os.PathLike, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Path:
    """Write `rows` (dicts) as CSV with exactly `columns`, atomically; floats keep full precision."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_csv_cell(row.get(c)) for c in columns])
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue())
    return path


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return str(int(v))
    if isinstance(v, float) or type(v).__name__.startswith("float"):
        return repr(float(v))
    return str(v)


def read_csv(path: str | os.PathLike) -> list[dict[str, str]]:
    """Rows of a CSV written by write_csv (values as strings)."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@contextlib.contextmanager
def output_lock(folder: Path, what: str = "losstopo") -> Iterator[None]:
    """Hold FOLDER/.losstopo.lock while writing FOLDER, so two writers never share one folder.

    An advisory fcntl lock: the kernel releases it when the process dies (also on SIGKILL), so a killed
    run never blocks its rerun.
    """
    f = open(folder / ".losstopo.lock", "w")
    try:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LossTopoError(f"another {what} is writing {folder}", "wait for it or choose another --out") \
                from None
        yield
    finally:
        f.close()
