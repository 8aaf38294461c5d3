"""Stage 2: values equal a brute-force loop, the model is never changed, chunking and resume are exact."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from losstopo.subspace.directions import make_directions
from losstopo.errors import LossTopoError
from losstopo.landscape import ChunkStore, EvalConfig, PointEvaluator, evaluate_coords, grid_coords


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 4))


def _cnn() -> nn.Module:
    torch.manual_seed(1)
    m = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                      nn.Linear(3 * 16, 4))
    with torch.no_grad():  # non-trivial running statistics, as after training
        m[1].running_mean.uniform_(-0.2, 0.2)
        m[1].running_var.uniform_(0.5, 2.0)
    return m


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(50, 1, 4, 4, generator=g), torch.randint(0, 4, (50,), generator=g)


def brute_force(model: nn.Module, dirs: list[dict], coords: np.ndarray, X, y) -> tuple[np.ndarray, np.ndarray]:
    """The textbook loop, independent of evaluate.py: float64 weights theta + sum a_i d_i, a fresh copy."""
    loss, acc = [], []
    theta = {n: p.detach().double() for n, p in model.named_parameters()}
    for a in coords:
        m = copy.deepcopy(model).eval()
        sd = m.state_dict()
        for n in theta:
            sd[n] = (theta[n] + sum(float(a[k]) * dirs[k][n].double() for k in range(len(dirs)))).float()
        m.load_state_dict(sd)
        with torch.no_grad():
            out = m(X)
        loss.append(F.cross_entropy(out.double(), y).item())
        acc.append((out.argmax(1) == y).double().mean().item())
    return np.array(loss), np.array(acc)


def test_grid_coords_vtk_order():
    c = grid_coords((4, 3), 2.0, 2)
    a1, a2 = np.linspace(-2, 2, 4), np.linspace(-2, 2, 3)
    for j in range(3):
        for i in range(4):
            assert tuple(c[i + 4 * j]) == (a1[i], a2[j])
    c3 = grid_coords(3, 1.0, 3)
    assert c3.shape == (27, 3) and tuple(c3[1 + 3 * 2 + 9 * 1]) == (0.0, 1.0, 0.0)
    with pytest.raises(LossTopoError):
        grid_coords(1, 1.0, 2)
    with pytest.raises(LossTopoError):
        grid_coords(5, 0.0, 2)


@pytest.mark.parametrize("make,strategy", [(_mlp, "loop"), (_mlp, "vmap"), (_cnn, "loop"), (_cnn, "vmap")])
def test_equals_brute_force(data, make, strategy):
    X, y = data
    model = make().eval()
    dirs = make_directions(model, "filter", dims=2, seed=4).tensors
    coords = np.random.default_rng(1).uniform(-1, 1, (13, 2))
    loss, acc, info = evaluate_coords(model, dirs, coords, X, y, EvalConfig(strategy=strategy, vmap_k=4,
                                                                            batch_size=16), show_progress=False)
    ref_loss, ref_acc = brute_force(model, dirs, coords, X, y)
    assert info.strategy == strategy
    assert np.max(np.abs(loss - ref_loss)) <= 1e-5
    np.testing.assert_array_equal(acc, ref_acc)
    assert np.ptp(ref_loss) > 1e-2  # the coordinates really move the loss


def test_first_layer_folding_only_when_its_input_is_fixed(data):
    X, y = data
    for make in (_mlp, _cnn):
        model = make()
        dirs = make_directions(model, "filter", dims=2, seed=4).tensors
        assert PointEvaluator(model, dirs, X, y)._fold is not None  # covered by test_equals_brute_force

    class Scaled(nn.Module):  # the first layer's input depends on a parameter: no folding
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(16))
            self.fc = nn.Linear(16, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x.flatten(1) * self.scale)

    torch.manual_seed(0)
    model = Scaled()
    dirs = make_directions(model, "filter", dims=2, seed=0, keep_1d=True, norm="none").tensors
    ev = PointEvaluator(model, dirs, X, y)
    assert ev._fold is None
    coords = np.random.default_rng(0).uniform(-1, 1, (4, 2))
    assert np.max(np.abs(ev.evaluate(coords)[0] - brute_force(model, dirs, coords, X, y)[0])) <= 1e-5


def test_three_dims_and_one_dim(data):
    X, y = data
    model = _mlp()
    for dims in (1, 3):
        dirs = make_directions(model, "random", dims=dims, seed=2).tensors
        coords = np.random.default_rng(dims).uniform(-0.5, 0.5, (5, dims))
        loss, _, _ = evaluate_coords(model, dirs, coords, X, y, show_progress=False)
        assert np.max(np.abs(loss - brute_force(model, dirs, coords, X, y)[0])) <= 1e-5


def _snapshot(model: nn.Module) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_model_unchanged_also_after_interrupt(data, tmp_path):
    X, y = data
    model = _cnn().train()  # user left it in train mode: must stay so
    before = _snapshot(model)
    grads = [p.requires_grad for p in model.parameters()]
    dirs = make_directions(model, "filter", dims=2, seed=0).tensors
    coords = grid_coords(5, 1.0, 2)
    calls = []

    def boom(fraction: float) -> None:
        calls.append(fraction)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate_coords(model, dirs, coords, X, y, EvalConfig(chunk_points=4), out_dir=tmp_path, progress=boom,
                        show_progress=False)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert model.training and [p.requires_grad for p in model.parameters()] == grads
    # the two finished chunks are on disk and a resume continues exactly
    assert len(list((tmp_path / "chunks").glob("chunk_*.npz"))) == 2
    resumed, racc, info = evaluate_coords(model, dirs, coords, X, y, EvalConfig(chunk_points=4), out_dir=tmp_path,
                                          resume=True, show_progress=False)
    full, facc, _ = evaluate_coords(model, dirs, coords, X, y, EvalConfig(chunk_points=4), show_progress=False)
    assert info.points_resumed == 8 and info.points_computed == 17
    np.testing.assert_array_equal(resumed, full)
    np.testing.assert_array_equal(racc, facc)
    assert all(torch.equal(before[k], model.state_dict()[k]) for k in before)


@pytest.mark.parametrize("strategy", ["loop", "vmap"])
def test_chunk_boundaries_do_not_change_values(data, strategy):
    X, y = data
    model = _mlp()
    dirs = make_directions(model, "filter", dims=2, seed=3).tensors
    coords = np.random.default_rng(5).uniform(-1, 1, (23, 2))
    runs = [evaluate_coords(model, dirs, coords, X, y, EvalConfig(strategy=strategy, vmap_k=4, chunk_points=cp),
                            show_progress=False)[0] for cp in (4, 8, 24)]
    for r in runs[1:]:
        np.testing.assert_array_equal(runs[0], r)
    # a point alone gives the same bits as inside a full run
    ev = PointEvaluator(model, dirs, X, y, EvalConfig(strategy=strategy, vmap_k=4))
    single = ev.evaluate(coords[9:10], global_start=9)[0]
    assert single[0] == runs[0][9]


def test_resume_with_other_settings_is_refused(data, tmp_path):
    X, y = data
    model = _mlp()
    dirs = make_directions(model, "filter", dims=2, seed=0).tensors
    coords = grid_coords(3, 1.0, 2)
    evaluate_coords(model, dirs, coords, X, y, out_dir=tmp_path, show_progress=False)  # leaves chunks
    with pytest.raises(LossTopoError, match="unfinished run"):
        evaluate_coords(model, dirs, coords, X, y, out_dir=tmp_path, show_progress=False)
    with pytest.raises(LossTopoError, match="other settings.*batch_size"):
        evaluate_coords(model, dirs, coords, X, y, EvalConfig(batch_size=7), out_dir=tmp_path, resume=True,
                        show_progress=False)
    other = make_directions(model, "filter", dims=2, seed=1).tensors
    with pytest.raises(LossTopoError, match="directions"):
        evaluate_coords(model, other, coords, X, y, out_dir=tmp_path, resume=True, show_progress=False)


def test_corrupt_chunk_is_recomputed(data, tmp_path):
    X, y = data
    model = _mlp()
    dirs = make_directions(model, "filter", dims=2, seed=0).tensors
    coords = grid_coords(4, 1.0, 2)
    full, _, _ = evaluate_coords(model, dirs, coords, X, y, EvalConfig(chunk_points=5), out_dir=tmp_path,
                                 show_progress=False)
    (tmp_path / "chunks" / "chunk_0000001.npz").write_bytes(b"garbage")
    again, _, info = evaluate_coords(model, dirs, coords, X, y, EvalConfig(chunk_points=5), out_dir=tmp_path,
                                     resume=True, show_progress=False)
    assert info.points_computed == 5
    np.testing.assert_array_equal(full, again)


def test_chunk_store_bounds(tmp_path):
    s = ChunkStore(tmp_path, {"a": 1}, 10, 4, resume=False)
    assert [s.bounds(c) for c in range(s.n_chunks)] == [(0, 4), (4, 8), (8, 10)]


def test_nonfinite_losses_are_kept_raw(data):
    X, y = data
    model = _mlp()
    dirs = make_directions(model, "filter", dims=1, seed=0).tensors
    loss, _, _ = evaluate_coords(model, dirs, np.array([[0.0], [1e38]]), X, y, show_progress=False)
    assert np.isfinite(loss[0]) and not np.isfinite(loss[1])


def test_compiled_equals_eager(data):
    X, y = data
    model = _mlp()
    dirs = make_directions(model, "filter", dims=2, seed=0).tensors
    coords = np.random.default_rng(2).uniform(-1, 1, (6, 2))
    eager, _, _ = evaluate_coords(model, dirs, coords, X, y, show_progress=False)
    comp, _, info = evaluate_coords(model, dirs, coords, X, y, EvalConfig(compile=True), show_progress=False)
    assert info.compiled, info.notes
    assert np.max(np.abs(eager - comp)) <= 1e-5


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_equals_cpu(data):
    X, y = data
    model = _cnn()
    dirs = make_directions(model, "filter", dims=2, seed=0).tensors
    coords = np.random.default_rng(2).uniform(-1, 1, (20, 2))
    cpu, _, _ = evaluate_coords(model, dirs, coords, X, y, show_progress=False)
    gpu, _, info = evaluate_coords(model, dirs, coords, X, y, EvalConfig(device="cuda"), show_progress=False)
    assert info.strategy == "vmap"
    assert np.max(np.abs(cpu - gpu)) <= 1e-4
