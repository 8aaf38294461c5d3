"""losstopo.landscape(model, data, loss): equal to a brute-force loop (copy weights, forward, loss) for models
the zoo does not have, equal to the zoo's evaluate_coords bitwise, and the model comes back unchanged."""

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import losstopo
from losstopo.errors import LossTopoError
from losstopo.landscape import EvalConfig, evaluate_coords, grid_coords, load_landscape
from losstopo.metrics import topology_metrics
from losstopo.models.data import load_dataset
from losstopo.models.zoo import build_model
from losstopo.subspace.directions import make_directions

RES, SPAN = 5, 0.8


def brute_force(model: nn.Module, directions, coords: np.ndarray, value) -> np.ndarray:
    """The definition: for each point a fresh copy, weights theta + sum a_k d_k, eval mode, value(model)."""
    out = []
    for a in coords:
        m = copy.deepcopy(model).eval()
        with torch.no_grad():
            for n, p in m.named_parameters():
                p.copy_(p + sum(float(a[k]) * d[n] for k, d in enumerate(directions)))
        out.append(float(value(m).detach()))
    return np.asarray(out)


def close(a: np.ndarray, b: np.ndarray, rel: float = 1e-6) -> bool:
    return bool(np.all(np.abs(a - b) <= rel * np.abs(b)))


def state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same_state(model: nn.Module, saved: dict[str, torch.Tensor]) -> bool:
    now = model.state_dict()
    return now.keys() == saved.keys() and all(torch.equal(now[k], saved[k]) for k in saved)


def bn_mlp() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    X = torch.randn(240, 2)
    y = ((X[:, 0] * X[:, 1]) > 0).long()
    model = nn.Sequential(nn.Linear(2, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
    with torch.no_grad():  # running statistics that are not the defaults
        for _ in range(5):
            model(X * 1.5 + 0.3)
    return model.train(), X, y


class TinyTransformer(nn.Module):
    def __init__(self, d: int = 16, classes: int = 3):
        super().__init__()
        self.embed = nn.Linear(4, d)
        self.layer = nn.TransformerEncoderLayer(d, nhead=2, dim_feedforward=32, dropout=0.1, batch_first=True)
        self.head = nn.Linear(d, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layer(self.embed(x)).mean(1))


def test_mlp_with_batchnorm_and_dropout_equals_brute_force_in_eval_mode():
    model, X, y = bn_mlp()
    saved = state(model)
    dirs = make_directions(model, "filter", 2, seed=3).tensors
    ls = losstopo.landscape(model, (X, y), directions=dirs, resolution=RES, span=SPAN, progress=False)
    ref = brute_force(model, dirs, ls.coords, lambda m: F.cross_entropy(m(X), y))
    assert close(ls.loss, ref)
    acc = brute_force(model, dirs, ls.coords, lambda m: (m(X).argmax(1) == y).double().mean())
    assert np.array_equal(ls.accuracy, acc)
    assert ls.meta["mode"] == "eval" and ls.meta["loss"].startswith("cross_entropy")
    # the same through the general evaluator (a loss of its own): same values
    gen = losstopo.landscape(model, (X, y), lambda o, t: F.cross_entropy(o, t), directions=dirs, resolution=RES,
                             span=SPAN, progress=False)
    assert gen.meta["evaluator"] == "general" and close(gen.loss, ref)
    assert same_state(model, saved) and model.training


def test_transformer_encoder_layer_equals_brute_force():
    torch.manual_seed(1)
    model = TinyTransformer()
    X, y = torch.randn(64, 5, 4), torch.randint(0, 3, (64,))
    dirs = make_directions(model, "filter", 2, seed=0).tensors
    ls = losstopo.landscape(model, (X, y), directions=dirs, resolution=RES, span=SPAN, progress=False)
    ref = brute_force(model, dirs, ls.coords, lambda m: F.cross_entropy(m(X), y))
    assert close(ls.loss, ref)


def test_regression_mlp_default_mse_equals_brute_force():
    torch.manual_seed(2)
    X = torch.rand(150, 1) * 6 - 3
    y = torch.sin(X[:, 0])  # (N,) targets for (N, 1) outputs: compared element-wise, never broadcast
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
    dirs = make_directions(model, "random", 2, seed=0).tensors
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=32, shuffle=True)
    ls = losstopo.landscape(model, loader, directions=dirs, resolution=RES, span=SPAN, progress=False)
    ref = brute_force(model, dirs, ls.coords, lambda m: F.mse_loss(m(X)[:, 0], y))
    assert ls.meta["loss"].startswith("mse") and close(ls.loss, ref)
    assert np.isnan(ls.accuracy).all() and ls.metrics == {}


def pinn_residual(model: nn.Module, batch) -> torch.Tensor:
    """u' = cos(x) on the collocation points and u(0) = 0: not a function of outputs and targets."""
    x = batch[0].clone().requires_grad_(True)
    u = model(x)
    du = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
    return ((du - torch.cos(x)) ** 2).mean() + model(torch.zeros(1, 1)).pow(2).sum()


def test_closure_loss_equals_brute_force():
    torch.manual_seed(3)
    X = torch.linspace(-2, 2, 64)[:, None]
    model = nn.Sequential(nn.Linear(1, 12), nn.Tanh(), nn.Linear(12, 1))
    dirs = make_directions(model, "filter", 2, seed=1).tensors
    ls = losstopo.landscape(model, (X, torch.zeros(64)), closure=pinn_residual, directions=dirs, resolution=RES,
                            span=SPAN, progress=False)
    ref = brute_force(model, dirs, ls.coords, lambda m: pinn_residual(m, (X, None)).detach())
    assert ls.meta["loss_kind"] == "closure" and close(ls.loss, ref)


@pytest.mark.parametrize("name, kwargs", [("mlp", {"hidden": (32,)}), ("cnn", {"width": 4})])
def test_zoo_models_equal_evaluate_coords_bitwise(name, kwargs):
    torch.manual_seed(0)
    model = build_model(name, **kwargs).eval()
    X, y = load_dataset("digits", "test", samples=100)
    dirs = make_directions(model, "filter", 2, seed=0)
    grid = grid_coords(RES, SPAN, 2)
    loss, acc, _ = evaluate_coords(model, dirs.tensors, grid, X, y, EvalConfig(compile=False), show_progress=False)
    ls = losstopo.landscape(model, (X, y), resolution=RES, span=SPAN, compile=False, progress=False)
    assert ls.meta["evaluator"] == "zoo"
    assert np.array_equal(ls.loss, loss) and np.array_equal(ls.accuracy, acc)


class Exploding(Exception):
    pass


def exploding_loss(after: int):
    calls = [0]

    def loss(outputs, targets):
        calls[0] += 1
        if calls[0] > after:
            raise Exploding("half-way")
        return F.cross_entropy(outputs, targets)

    return loss


class Uncopyable(nn.Module):
    """Holds a lock, so deepcopy fails: the model itself is used and must be restored."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.net = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
        self.net[0].weight.requires_grad_(False)  # a frozen parameter

    def forward(self, x):
        return self.net(x)


@pytest.mark.parametrize("make", [lambda: bn_mlp()[0], Uncopyable])
def test_model_unchanged_also_when_the_loss_raises_half_way(make):
    _, X, y = bn_mlp()
    model = make()
    with pytest.raises(TypeError):
        copy.deepcopy(Uncopyable())
    saved, grads = state(model), [p.requires_grad for p in model.parameters()]
    mode = [m.training for m in model.modules()]
    with pytest.raises(Exploding):
        losstopo.landscape(model, (X, y), exploding_loss(7), resolution=RES, progress=False)
    assert same_state(model, saved)
    assert [p.requires_grad for p in model.parameters()] == grads and [m.training for m in model.modules()] == mode
    ls = losstopo.landscape(model, (X, y), exploding_loss(10 ** 9), resolution=RES, progress=False)
    assert same_state(model, saved) and np.isfinite(ls.loss).all()


def test_data_forms_and_adapter_agree():
    model, X, y = bn_mlp()
    kw = dict(resolution=RES, span=SPAN, progress=False, loss=F.cross_entropy,
              metrics={"acc": losstopo.landscape.accuracy})
    ref = losstopo.landscape(model, (X, y), **kw)
    dicts = [{"x": X[i:i + 50], "label": y[i:i + 50], "id": i} for i in range(0, len(X), 50)]
    triples = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y, torch.arange(len(y))), batch_size=64)
    for data, adapter in [(torch.utils.data.TensorDataset(X, y), None), (dicts, lambda b: (b["x"], b["label"])),
                          (triples, lambda b: (b[0], b[1]))]:
        ls = losstopo.landscape(model, data, adapter=adapter, **kw)
        assert close(ls.loss, ref.loss, 1e-6) and np.array_equal(ls.metrics["acc"], ref.metrics["acc"])
    with pytest.raises(LossTopoError, match="3-field"):
        losstopo.landscape(model, triples, **kw)


def test_topology_and_out_folder(tmp_path):
    model, X, y = bn_mlp()
    ls = losstopo.landscape(model, (X, y), resolution=9, out=tmp_path / "ls", progress=False)
    topo = ls.topology()
    assert topo.metrics == topology_metrics(topo) and topo.metrics["minima"] >= 1
    back = load_landscape(tmp_path / "ls")
    assert np.array_equal(back.loss, ls.loss) and np.array_equal(back.metrics["accuracy"], ls.accuracy)
    assert back.meta["loss"].startswith("cross_entropy") and (tmp_path / "ls" / "directions.pt").exists()
    again = losstopo.landscape(model, (X, y), resolution=9, out=tmp_path / "ls", progress=False)
    assert np.array_equal(again.loss, ls.loss)
    with pytest.raises(LossTopoError, match="other settings"):
        losstopo.landscape(model, (X, y), resolution=7, out=tmp_path / "ls", progress=False)
    assert losstopo.landscape.grid_coords(3, 1.0).shape == (9, 2)  # the package's members still work


@pytest.mark.slow  # pynndescent's numba compilation: a minute on a busy 2-core machine
def test_topology_on_the_knn_graph():
    model, X, y = bn_mlp()
    ls = losstopo.landscape(model, (X, y), coords=np.random.default_rng(0).uniform(-1, 1, (60, 2)), progress=False)
    knn = ls.topology(k=6)  # scattered coordinates: the kNN graph by default
    assert knn.metrics == topology_metrics(knn) and knn.n_vertices == 60 and knn.metrics["minima"] >= 1
    with pytest.raises(LossTopoError, match="image"):
        ls.topology("image")


def test_hessian_directions_of_a_custom_loss_are_eigenvectors():
    torch.manual_seed(4)
    X, y = torch.randn(40, 3), torch.randn(40, 1)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    X, y = X.double(), y.double()

    def loss(o, t):
        return ((o - t) ** 4).mean()  # not MSE: the Hessian must be this loss's

    ls = losstopo.landscape(model, (X, y), loss, directions="hessian", dims=1, resolution=RES, progress=False)
    names = [n for n, _ in model.named_parameters()]
    params = {n: p.detach() for n, p in model.named_parameters()}

    def f(flat):
        i, p = 0, {}
        for n in names:
            p[n] = flat[i:i + params[n].numel()].reshape(params[n].shape)
            i += params[n].numel()
        return loss(torch.func.functional_call(model, p, (X,)), y)

    flat = torch.cat([params[n].reshape(-1) for n in names])
    H = torch.autograd.functional.hessian(f, flat)
    vals, vecs = torch.linalg.eigh(H)
    lam = ls.meta["direction_meta"]["hessian"]["eigenvalues"][0]
    assert abs(lam - float(vals[-1])) <= 1e-4 * abs(float(vals[-1]))
