"""Checks of an untrusted VTK XML file before VTK parses it.

VTK's C++ readers abort the whole process or allocate without bound on some corrupt headers, and
zero-fill truncated data without a word (found by fuzzing, tests/vtkio/test_readers_fuzz.py). These
checks read the header, the extents, the block size headers and the end of the file, and name the
problem in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import LossTopoError


def check_xml_file(path: Path, size: int) -> None:
    """Structural checks before VTK parses a file: VTK's C++ readers abort the whole process or
    allocate without bound on some corrupt headers, and zero-fill truncated data without a word."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
        f.seek(max(0, size - 512))
        tail = f.read()
    if b"<VTKFile" not in head[:1024]:
        raise LossTopoError(f"input file {path} is not a VTK XML {path.suffix} file",
                            "pass a .vti/.vtu written by losstopo, ParaView or VTK")
    if b"</VTKFile>" not in tail:  # every complete file ends with it
        raise LossTopoError(f"input file {path} is truncated (no closing </VTKFile>)",
                            "recompute or re-export it")
    limit = 1100 * size + 1_000_000  # zlib compresses at most ~1032:1
    declared = _declared_points(head)
    if declared is not None and not 0 <= declared <= limit:
        raise LossTopoError(f"input file {path} declares {declared} points but holds only {size} bytes",
                            "the file is corrupt; recompute or re-export it")
    problem = _extent_problem(head) or _appended_blocks_problem(path, head, size, limit)
    if problem:
        raise LossTopoError(f"input file {path} is corrupt ({problem})", "recompute or re-export it")


def _extent_problem(head: bytes) -> str | None:
    """Image pieces must lie inside the whole extent, lo <= hi (VTK segfaults on some that do not)."""
    import re

    text = head.decode("latin-1")
    whole = re.search(r'WholeExtent="([^"]*)"', text)
    if whole is None:
        return None
    try:
        w = [int(v) for v in whole.group(1).split()]
        pieces = [[int(v) for v in m.split()] for m in re.findall(r'<Piece[^>]*\bExtent="([^"]*)"', text)]
    except ValueError:
        return "an extent is not six integers"
    for e in [w, *pieces]:
        if len(e) != 6 or any(e[2 * a] > e[2 * a + 1] for a in range(3)):
            return "an extent is not six integers lo <= hi"
        if any(e[2 * a] < w[2 * a] or e[2 * a + 1] > w[2 * a + 1] for a in range(3)):
            return "a piece lies outside the whole extent"
    return None


def _appended_blocks_problem(path: Path, head: bytes, size: int, limit: int) -> str | None:
    """Check the size headers of the data blocks (appended raw or base64, inline binary) against
    what the file holds: a corrupt one makes VTK allocate without bound (std::bad_alloc aborts)."""
    import re

    text = head.decode("latin-1")
    vtkfile = re.search(r"<VTKFile[^>]*>", text)
    attrs = vtkfile.group(0) if vtkfile else ""
    layout = _BlockLayout(wide='header_type="UInt64"' in attrs,
                          big='byte_order="BigEndian"' in attrs,
                          compressed="compressor=" in attrs and 'compressor=""' not in attrs)
    counts = [int(c) for c in re.findall(r'Number(?:OfCells|OfComponents)="\s*(-?\d+)', text)]
    if any(not 0 <= c <= limit for c in counts):
        return "a cell or component count is out of range"
    for m in re.finditer(r'<DataArray[^>]*format="binary"[^>]*>([^<]*)<', text):
        data = m.group(1).strip().encode("latin-1")
        problem = layout.problem(lambda n, d=data: d[:n], len(data), True, limit)
        if problem:
            return problem
    start = text.find("<AppendedData")
    if start < 0:
        return None
    b64 = 'encoding="base64"' in text[start:start + 200]
    underscore = text.find("_", start)
    if underscore < 0:
        return "no appended data marker"
    base = underscore + 1
    appended = r'<DataArray[^>]*format="appended"[^>]*offset="\s*(\d+)'
    offsets = [int(m) for m in re.findall(appended, text[:start])]
    with open(path, "rb") as f:
        for off in offsets:
            if base + off >= size:
                return f"data block at offset {off} lies beyond the end of the file"
            def read(n: int, pos: int = base + off) -> bytes:
                f.seek(pos)
                return f.read(n)

            problem = layout.problem(read, size - (base + off), b64, limit)
            if problem:
                return f"{problem} at offset {off}"
    return None


class _BlockLayout:
    """VTK XML binary data blocks: a size header (UInt32/UInt64), then the data; compressed blocks
    carry [number of blocks, block size, last block size, compressed sizes...]. In base64 the
    header is encoded on its own, then the data."""

    def __init__(self, wide: bool, big: bool, compressed: bool):
        self.width = 8 if wide else 4
        self.code = (">" if big else "<") + ("Q" if wide else "I")
        self.compressed = compressed

    def _ints(self, raw: bytes, n: int) -> list[int] | None:
        import struct

        need = n * self.width
        if len(raw) < need:
            return None
        return list(struct.unpack(self.code[0] + self.code[1] * n, raw[:need]))

    def problem(self, read: Any, length: int, b64: bool, limit: int) -> str | None:
        """read(n): the block's first n bytes; length: bytes from the block's start to the file's end."""
        import binascii

        def decode(chars: bytes) -> bytes:
            try:
                return binascii.a2b_base64(chars)
            except (binascii.Error, ValueError):
                return b""

        enc = lambda n: 4 * ((n + 2) // 3)  # noqa: E731  (base64 length of n bytes)
        w = self.width
        if not self.compressed:
            hdr = decode(read(enc(w))) if b64 else read(w)
            ints = self._ints(hdr, 1)
            if ints is None:
                return "a data block header is cut off"
            avail = (length - enc(w)) * 3 // 4 + 3 if b64 else length - w
            return f"a data block claims {ints[0]} bytes" if ints[0] > min(avail, limit) else None
        first = decode(read(4 * w)) if b64 else read(3 * w)
        ints = self._ints(first, 3)
        if ints is None:
            return "a compressed block header is cut off"
        nblocks, block, last = ints
        if nblocks * max(block, 1) > limit or last > block:
            return f"a compressed block header claims {nblocks} x {block} bytes"
        hlen = (3 + nblocks) * w
        if enc(hlen) > length:
            return "a compressed block header runs past the end of the file"
        hdr = decode(read(enc(hlen))) if b64 else read(hlen)
        sizes = self._ints(hdr[3 * w:], nblocks)
        if sizes is None:
            return "a compressed block header is cut off"
        avail = (length - enc(hlen)) * 3 // 4 + 3 * nblocks if b64 else length - hlen
        return "compressed data runs past the end of the file" if sum(sizes) > avail else None


def _declared_points(head: bytes) -> int | None:
    """Number of points a VTK XML header declares (image extents or pieces' NumberOfPoints), or None."""
    import re

    text = head.decode("latin-1")
    ext = re.search(r'WholeExtent="\s*(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)', text)
    if ext:
        e = [int(v) for v in ext.groups()]
        n = 1
        for a in range(3):
            n *= e[2 * a + 1] - e[2 * a] + 1
        return n if all(e[2 * a + 1] >= e[2 * a] for a in range(3)) else -1
    counts = re.findall(r'NumberOfPoints="\s*(-?\d+)', text)
    return sum(int(c) for c in counts) if counts else None
