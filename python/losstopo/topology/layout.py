"""A planar layout of a merge tree: y = the node's scalar, x chosen so that branches do not cross.

Used by the ParaView plugin's "Landscape Merge Tree Layout" filter (the built-in counterpart of TTK's
PlanarGraphLayout with "Input is a Merge Tree"). The layout follows the branch decomposition: at every
node the child subtree holding the lowest minimum continues the node's branch (same x), so the most
persistent branch is one vertical line and each less persistent branch hangs beside it. Leaves are
ordered depth-first, children by their subtree minimum, which keeps arcs from crossing.
"""

from __future__ import annotations

import numpy as np


def planar_tree_layout(up: np.ndarray, down: np.ndarray, scalar: np.ndarray) -> np.ndarray:
    """x position of each of the N nodes of a forest given by arcs down[a] -> up[a] (child -> parent).

    Returns x in [0, 1] (0.5 for a single node); the y position is `scalar` itself.
    """
    up = np.asarray(up, dtype=np.int64).ravel()
    down = np.asarray(down, dtype=np.int64).ravel()
    scalar = np.asarray(scalar, dtype=np.float64).ravel()
    n = len(scalar)
    if n == 0:
        return np.zeros(0)
    children: list[list[int]] = [[] for _ in range(n)]
    has_parent = np.zeros(n, dtype=bool)
    for u, d in zip(up, down):
        if u != d:
            children[u].append(int(d))
            has_parent[d] = True
    # lowest scalar (ties: lowest node id) in each subtree, computed bottom-up without recursion
    order = _postorder(children, np.flatnonzero(~has_parent))
    sub_min = scalar.copy()
    sub_arg = np.arange(n)
    for v in order:
        for c in children[v]:
            if (sub_min[c], sub_arg[c]) < (sub_min[v], sub_arg[v]):
                sub_min[v], sub_arg[v] = sub_min[c], sub_arg[c]
    key = lambda c: (sub_min[c], sub_arg[c])  # noqa: E731
    x = np.zeros(n)
    next_slot = 0
    roots = sorted(np.flatnonzero(~has_parent).tolist(), key=key)
    for root in roots:
        # each node's slot is that of the leaf its lowest branch ends in
        stack = [root]
        while stack:
            v = stack.pop()
            kids = sorted(children[v], key=key)
            if not kids:
                x[v] = next_slot
                next_slot += 1
            stack.extend(reversed(kids))
        for v in _postorder(children, [root]):
            if children[v]:
                x[v] = x[min(children[v], key=key)]
    return x / (next_slot - 1) if next_slot > 1 else np.full(n, 0.5)


def _postorder(children: list[list[int]], roots) -> list[int]:
    """Nodes so that every child comes before its parent."""
    out: list[int] = []
    stack = [(int(r), False) for r in roots]
    while stack:
        v, done = stack.pop()
        if done:
            out.append(v)
            continue
        stack.append((v, True))
        stack.extend((c, False) for c in children[v])
    return out
