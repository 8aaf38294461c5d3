"""Output files and folders: atomic writes, one writer per folder, and no trace of a failed command.

* Files are written atomically (`atomic_path`): no partial or corrupt file ever sits under a final name.
  JSON is strict (NaN and inf are written as null).
* Folders have one writer (`output_lock`, an fcntl lock on FOLDER/.losstopo.lock that names its holder;
  the kernel drops it when the process dies, also on SIGKILL); readers take it shared (`reading`), so
  they never see a folder half-written.
* `output_folder` creates a command's output folder, holds its lock, and removes the folders it created
  when the command fails (and nothing else).
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

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


def check_creatable(path: str | os.PathLike) -> Path:
    """One-line error unless folder `path` exists writable or could be created; creates nothing (so a command
    that fails later leaves no folder behind)."""
    p = Path(path).absolute()
    q = p
    while not q.exists() and q != q.parent:
        q = q.parent
    if not q.is_dir():
        raise LossTopoError(f"cannot create folder {p}: {q} is a file, not a folder", "choose another --out")
    if not os.access(q, os.W_OK | os.X_OK):
        raise LossTopoError(f"cannot create folder {p}: {q} is not writable", "choose a writable --out")
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
    """Write `obj` as indented, strictly valid JSON (NaN and inf become null), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json_text(obj) + "\n")


def json_text(obj: Any) -> str:
    """`obj` as indented, strictly valid JSON: NaN and inf become null, numpy types plain ones."""
    return json.dumps(json_safe(obj), indent=2, sort_keys=False, allow_nan=False, default=_json_default)


def json_safe(obj: Any) -> Any:
    """A copy of `obj` with every non-finite float replaced by None (JSON has no NaN or inf)."""
    import numpy as np

    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


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


LOCK_FILE = ".losstopo.lock"
_HELD: dict[str, int] = {}  # folders whose lock this process holds, with the nesting depth


def _holder(fd: int) -> str:
    """Who holds a lock, as its holder wrote it into the lock file."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError, UnicodeDecodeError):
        info = {}
    if not isinstance(info, dict) or "pid" not in info:
        return "another process"
    return f"another process (pid {info['pid']}: {info.get('command', '?')})"


def _command_line() -> str:
    argv = list(sys.argv) or ["python"]
    argv[0] = "losstopo" if argv[0].endswith(("losstopo", "__main__.py")) else Path(argv[0]).name
    text = " ".join(argv)
    return text if len(text) <= 300 else text[:297] + "..."


@contextlib.contextmanager
def output_lock(folder: str | os.PathLike, what: str = "losstopo") -> Iterator[None]:
    """Hold FOLDER/.losstopo.lock while writing FOLDER, so two writers never share one folder.

    An advisory fcntl lock, released by the kernel when the process dies (also on SIGKILL), so a killed
    run never blocks its rerun. The holder writes its pid and command line into the file; a second writer
    gets one line naming it. Re-entrant within a process (a command and the library calls it makes).
    """
    folder = Path(folder)
    key = os.path.realpath(folder)
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise LossTopoError(f"cannot write into output folder {folder} ({e.strerror})",
                            "choose a writable --out") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LossTopoError(f"output folder {folder} is in use by {_holder(fd)}",
                                f"wait for it to finish, or choose another --out for this {what}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": _command_line(), "what": what}).encode(), 0)
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)


@contextlib.contextmanager
def reading(folder: str | os.PathLike) -> Iterator[None]:
    """Read FOLDER under a shared lock: a folder being written is refused with one line, never half read.

    Folders without a lock file (never written by losstopo, or read-only) are read as they are.
    """
    folder = Path(folder)
    if os.path.realpath(folder) in _HELD:  # this process is the writer
        yield
        return
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LossTopoError(f"{folder} is being written by {_holder(fd)}",
                                "wait for it to finish, then read it") from None
        yield
    finally:
        os.close(fd)


def _missing_folders(path: Path) -> list[Path]:
    """The folders from `path` upwards that do not exist yet (the top one first)."""
    missing = []
    p = path.absolute()
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing[::-1]


@contextlib.contextmanager
def output_folder(path: str | os.PathLike, what: str = "losstopo",
                  keep: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """The output folder of one command: created if missing, locked for its one writer (`output_lock`).

    If the command fails (any exception), the folders this call created are removed again, unless
    `keep(folder)` says they hold work worth keeping (finished chunks of a landscape that --resume
    continues). Folders that existed before are never removed.
    """
    p = Path(path)
    created = _missing_folders(p)
    out = ensure_output_dir(p)
    with output_lock(out, what):  # if another writer holds it, nothing here is ours to remove
        try:
            yield out
        except BaseException:
            if created and not (keep is not None and keep(out)):  # removed while still holding the lock
                shutil.rmtree(out, ignore_errors=True)
                for parent in reversed(created[:-1]):  # the parents, only if nothing else is in them
                    with contextlib.suppress(OSError):
                        parent.rmdir()
            raise


@contextlib.contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A hidden folder inside `out` that a command's outputs are written to first; removed whatever happens."""
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish(stage: Path, out: Path, last: str | None = None, drop: Sequence[str] = ()) -> None:
    """Move the files staged in `stage` into `out`, `last` (the mark of a finished result) last.

    `last` is removed from `out` first, so the folder never looks finished while its files change; the
    names in `drop` (the replaced result's files) that the new result does not write are deleted.
    """
    if last is not None:
        (out / last).unlink(missing_ok=True)
    new = {p.name for p in stage.iterdir()}
    for name in drop:
        if name not in new and Path(name).name == name and not name.startswith("."):
            (out / name).unlink(missing_ok=True)
    for p in sorted(stage.iterdir(), key=lambda q: q.name == last):
        if p.is_dir():
            shutil.rmtree(out / p.name, ignore_errors=True)
        os.replace(p, out / p.name)


def differ_text(names: Sequence[str]) -> str:
    """'span differs' / 'seed, span differ': the settings a refusal names."""
    return f"{', '.join(names)} {'differs' if len(names) == 1 else 'differ'}"


def check_settings(out: Path, record: str, settings: dict[str, Any], overwrite: bool, what: str) -> dict[str, Any]:
    """Refuse to replace a finished result of other settings in `out` unless overwrite.

    `record` is the JSON file (in `out`) that marks the finished result and holds its "settings". Returns
    that record ({} when there is none); raises a one-line LossTopoError naming the differing settings.
    """
    path = out / record
    if not path.exists():
        return {}
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        old = None
    have = old.get("settings") if isinstance(old, dict) else None
    want = json_safe(json.loads(json.dumps(settings, default=_json_default)))
    if isinstance(have, dict):
        diff = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
    else:
        diff = ["settings (not recorded)"]
    if diff and not overwrite:
        raise LossTopoError(f"{out} holds a finished {what} with other settings ({differ_text(diff)})",
                            "pass --overwrite to replace it, or choose another --out")
    return old if isinstance(old, dict) else {}
