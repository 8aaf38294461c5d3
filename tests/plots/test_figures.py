"""The pictures: each figure is checked on its matplotlib objects (where the points are, which scale,
which marker), and each plot_* function writes a non-blank PNG of a sensible size."""

from __future__ import annotations

import numpy as np
import pytest

from losstopo import plots
from losstopo.names import CriticalType
from losstopo.plots._mpl import pyplot
from losstopo.plots.diagram import persistence_diagram_figure
from losstopo.plots.landscape import landscape_figure
from losstopo.plots.style import CRITICAL
from losstopo.plots.topology import merge_tree_figure
from losstopo.representation.image import landscape_image
from losstopo.representation.knn import GraphConnectivity, exact_knn, symmetric_edges
from losstopo.topology import compute_topology, planar_tree_layout

N = 31


def grid(n: int = N, d: int = 2) -> np.ndarray:
    """Coordinates of linspace(-1, 1, n)^d in VTK order (x fastest)."""
    ax = np.linspace(-1.0, 1.0, n)
    mesh = np.meshgrid(*([ax] * d), indexing="ij")
    return np.stack([m.ravel(order="F") for m in mesh], axis=1)


def basins(c: np.ndarray, border: float = 300.0) -> np.ndarray:
    """Three wells of different depths and a border exploding to `border` (spans four decades)."""
    wells = [((-0.5, -0.4), 0.9), ((0.45, 0.1), 0.6), ((-0.1, 0.55), 0.4)]
    f = 1.0 + border * np.clip((c ** 2).sum(1) - 0.8, 0, None) ** 2
    for (x, y), depth in wells:
        f -= depth * np.exp(-((c[:, 0] - x) ** 2 + (c[:, 1] - y) ** 2) / 0.04)
    return f


def topo(c: np.ndarray, f: np.ndarray, res: tuple | None):
    if res is None:
        idx, _ = exact_knn(c, 8)
        return compute_topology(f, GraphConnectivity(symmetric_edges(idx), len(f), c))
    return compute_topology(f, landscape_image(res, 1.0))


def by_gid(fig, gid: str) -> list:
    return [a for a in fig.findobj(lambda o: o.get_gid() == gid)]


def close(fig) -> None:
    pyplot().close(fig)


@pytest.fixture(scope="module")
def multi():
    c = grid()
    f = basins(c)
    return c, f, topo(c, f, (N, N))


def test_pngs_are_written_non_blank_and_of_sensible_size(tmp_path, multi):
    c, f, r = multi
    paths = [plots.plot_landscape(tmp_path / "l.png", c, f, (N, N), result=r, loss_name="test loss"),
             plots.plot_merge_tree(tmp_path / "m.png", r), plots.plot_persistence_diagram(tmp_path / "d.png", r)]
    for p in paths:
        img = pyplot().imread(p)
        h, w = img.shape[:2]
        assert 500 <= w <= 1400 and 500 <= h <= 1400, (p, img.shape)
        grey = img[..., :3].mean(axis=2)
        assert grey.std() > 0.05 and (grey < 0.5).mean() > 0.01, f"{p} looks blank"


def diagram_axes(fig):
    diag = by_gid(fig, "diagonal")
    assert len(diag) == 1
    return diag[0].axes, diag[0]


@pytest.mark.parametrize("border", [0.5, 3e9])
def test_diagram_equal_ranges_diagonal_and_every_point(multi, border):
    c, _f, _r = multi
    f = basins(c, border)
    r = topo(c, f, (N, N))
    p = r.pairs
    assert p.finite.sum() >= 2 and (~p.finite).sum() == 1
    fig = persistence_diagram_figure(r, loss_name="test loss")
    ax, diag = diagram_axes(fig)
    lo, hi = ax.get_xlim()
    assert ax.get_ylim() == pytest.approx((lo, hi))
    assert ax.get_xscale() == ax.get_yscale()
    dx, dy = diag.get_data()
    assert min(dx) <= lo and max(dx) >= hi and list(dx) == list(dy)  # the diagonal crosses the square
    (fin,) = by_gid(fig, "finite")
    pts = fin.get_offsets()
    assert sorted(map(tuple, np.asarray(pts))) == sorted(zip(p.birth[p.finite], p.death[p.finite]))
    assert ((pts >= lo) & (pts <= hi)).all()
    (ess,) = by_gid(fig, "essential")
    e = np.asarray(ess.get_offsets())
    assert e.tolist() == np.column_stack([p.birth[~p.finite], p.death[~p.finite]]).tolist()
    # drawn distinctly: another marker and colour than the finite pairs
    assert not np.allclose(ess.get_facecolor()[0], fin.get_facecolor()[0])
    assert ess.get_paths()[0].vertices.shape != fin.get_paths()[0].vertices.shape or \
        not np.allclose(ess.get_paths()[0].vertices, fin.get_paths()[0].vertices)
    eax = ess.axes
    assert eax.get_ylim()[0] <= e[0, 1] <= eax.get_ylim()[1]
    if border > 1e6:  # the max dwarfs the finite pairs: the essential pair sits on its own band
        assert eax is not ax and hi < e[0, 1]
        assert "dies at max" in " ".join(t.get_text() for t in eax.texts)
    else:
        assert eax is ax and by_gid(fig, "essential_line")  # in the square, on a dotted "dies at max" line
    assert "test loss" in ax.get_xlabel() and "test loss" in ax.get_ylabel()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("essential" in t for t in labels) and any("diagonal" in t for t in labels)
    close(fig)


def test_diagram_births_spanning_less_than_deaths_do_not_collapse():
    c = grid()
    f = basins(c, 0.0) + 0.0 * c[:, 0]
    f[np.argmax(c[:, 0] + c[:, 1])] = 50.0  # one high peak: deaths span far more than births
    r = topo(c, f, (N, N))
    fig = persistence_diagram_figure(r)
    ax, _ = diagram_axes(fig)
    fig.canvas.draw()  # the layout and the box aspect are applied at drawing time
    bbox = ax.get_window_extent()
    assert bbox.width == pytest.approx(bbox.height, rel=0.02)  # a square, not a line
    assert ax.get_xlim() == pytest.approx(ax.get_ylim())
    close(fig)


def test_diagram_scale_log_symlog_linear(multi):
    c, f, _ = multi
    x = np.linspace(-1, 1, 201)[:, None]
    r = topo(x, 10.0 ** (3 * np.abs(x[:, 0])) * (1.5 + np.sin(9 * x[:, 0])), (201,))  # minima 0.5 .. 2e3
    fig = persistence_diagram_figure(r)
    ax, _ = diagram_axes(fig)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    close(fig)
    r = topo(c, f - 1.0, (N, N))  # minima below zero, border at 300: symlog, never log of <= 0
    fig = persistence_diagram_figure(r)
    ax, _ = diagram_axes(fig)
    assert ax.get_xscale() == "symlog" and ax.get_yscale() == "symlog"
    close(fig)
    r = topo(c, 1.0 + 0.01 * f, (N, N))  # within one decade: linear
    fig = persistence_diagram_figure(r)
    assert diagram_axes(fig)[0].get_xscale() == "linear"
    close(fig)


@pytest.mark.parametrize("border", [300.0, 3e9])
def test_merge_tree_nodes_at_their_loss_minima_apart(multi, border):
    c, _f, _ = multi
    r = topo(c, basins(c, border), (N, N))
    tree = r.tree
    fig = merge_tree_figure(r, loss_name="test loss")
    x = planar_tree_layout(tree.arcs[:, 0], tree.arcs[:, 1], tree.node_scalar)
    (main,) = [a for a in fig.axes if a.get_ylabel().startswith("test loss")]
    seen = 0
    for code in set(int(t) for t in tree.node_type):
        label = CRITICAL[CriticalType(code)]["label"]
        want = sorted(zip(x[tree.node_type == code], tree.node_scalar[tree.node_type == code]))
        arts = [a for a in by_gid(fig, label) if a.axes is main]
        assert len(arts) == 1, label
        got = sorted(map(tuple, np.asarray(arts[0].get_offsets())))
        np.testing.assert_allclose(np.array(got), np.array(want), err_msg=label)
        seen += len(want)
    assert seen == tree.n_nodes
    mins = np.asarray([a for a in by_gid(fig, "minima") if a.axes is main][0].get_offsets())
    assert len(mins) == 3 and len(np.unique(np.round(mins[:, 0], 9))) == 3  # distinct x
    lo, hi = main.get_ylim()
    inner = tree.node_scalar[tree.node_type != int(CriticalType.MAXIMUM)]
    assert lo <= inner.min() and inner.max() <= hi
    assert "test loss" in main.get_ylabel()
    if border > 1e6:  # the root far above: on a band of its own, the basin keeps the height
        (band_root,) = [a for a in by_gid(fig, "root (maximum)") if a.axes is not main][:1]
        top = tree.node_scalar.max()
        assert band_root.axes.get_ylim()[0] <= top <= band_root.axes.get_ylim()[1] and top > hi
    close(fig)


def test_landscape_marks_critical_points_nonfinite_and_has_readable_ticks(multi):
    c, f, _ = multi
    g = f.copy()
    g[f > 100] = np.inf
    g[[40, 41, 500]] = np.nan
    r = topo(c, g, (N, N))
    fig = landscape_figure(c, g, (N, N), result=r, loss_name="test loss")
    (nf,) = by_gid(fig, "nonfinite")
    bad = ~np.isfinite(g)
    assert sorted(map(tuple, np.asarray(nf.get_offsets()))) == sorted(map(tuple, c[bad]))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"non-finite (inf/NaN) ({int(bad.sum())})" in labels
    assert any(t.startswith("minima (3)") for t in labels) and any(t.startswith("saddles") for t in labels)
    mins = by_gid(fig, "minima")[0]
    want = c[r.tree.node_vertex[r.tree.node_type == int(CriticalType.MINIMUM)]]
    assert sorted(map(tuple, np.asarray(mins.get_offsets()))) == sorted(map(tuple, want))
    ax = mins.axes
    assert ax.get_xlabel().startswith("a1") and ax.get_ylabel().startswith("a2")
    cbar = [a for a in fig.axes if a is not ax and a.get_label() == "<colorbar>"][0]
    ticks = [t.get_text() for t in cbar.get_yticklabels()]
    assert "1" in ticks and "10" in ticks, ticks  # a log colour scale labelled in loss units
    close(fig)


def test_landscape_zoom_when_critical_points_crowd():
    c = grid(41)
    f = basins(c)
    f -= 0.4 * np.exp(-((c[:, 0] - 0.6) ** 2 + (c[:, 1] - 0.1) ** 2) / 0.001)  # a narrow well next door
    r = topo(c, f, (41, 41))
    fig = landscape_figure(c, f, (41, 41), result=r)
    assert by_gid(fig, "zoom"), "crowded critical points get a magnified inset"
    close(fig)
    fig = landscape_figure(c, basins(c), (41, 41), result=topo(c, basins(c), (41, 41)))
    assert not by_gid(fig, "zoom")
    close(fig)


def test_landscape_1d_3d_and_scattered(tmp_path):
    x = np.linspace(-1, 1, 81)[:, None]
    f = 1 + np.sin(6 * x[:, 0]) ** 2 + 3 * x[:, 0] ** 2
    f[:3] = np.inf
    r = topo(x, f, (81,))
    fig = landscape_figure(x, f, (81,), result=r)
    (nf,) = by_gid(fig, "nonfinite")
    assert np.asarray(nf.get_offsets())[:, 0].tolist() == x[:3, 0].tolist()
    mins = r.tree.node_vertex[r.tree.node_type == int(CriticalType.MINIMUM)]
    np.testing.assert_array_equal(np.asarray(by_gid(fig, "minima")[0].get_offsets()), np.column_stack(
        [x[mins, 0], f[mins]]))
    close(fig)
    c3 = grid(11, 3)
    f3 = 0.5 + ((c3 - 0.4) ** 2).sum(1) * ((c3 + 0.6) ** 2).sum(1)
    fig = landscape_figure(c3, f3, (11, 11, 11), result=topo(c3, f3, (11, 11, 11)))
    title = fig.axes[0].get_title()
    k = int(np.argmin(f3)) // 121
    assert f"a3 = {c3[k * 121, 2]:.3g}" in title  # the slice through the lowest point
    close(fig)
    c = grid(21)
    f = basins(c)
    path = plots.plot_landscape(tmp_path / "knn.png", c, f, None, result=topo(c, f, None))
    assert pyplot().imread(path)[..., :3].std() > 0.05
