"""Hessian: PyHessian's eigenpairs and trace against the dense Hessian of a 43-parameter MLP (float64
autograd, eigvalsh), including the stale-gradient quirk, and state restoration of the model."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from losstopo.errors import LossTopoError
from losstopo.subspace.hessian import hessian_directions, hessian_top_eigen, hessian_trace
from losstopo.models.zoo import build_model
from references import dense_hessian


@pytest.fixture(scope="module")
def tiny():
    """A 4-5-3 MLP (43 parameters) and a fixed batch, plus its dense float64 Hessian."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = build_model("mlp", input_dim=4, hidden=(5,), num_classes=3)
    X = torch.randn(40, 4, generator=g)
    y = torch.randint(0, 3, (40,), generator=g)
    return model, X, y, dense_hessian(model, X, y)


def _flat(v: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.detach().double().flatten() for t in v])


def test_top_two_eigenpairs_match_the_dense_hessian(tiny):
    model, X, y, H = tiny
    evals, evecs = torch.linalg.eigh(H)
    order = torch.argsort(evals.abs(), descending=True)  # power iteration ranks by magnitude
    assert evals[order[0]] > 0 and evals[order[0]] == evals.max()  # ... which here is the top eigenvalue
    info: dict = {}
    values, vectors = hessian_top_eigen(model, X, y, k=2, max_iter=1000, tol=1e-6, info=info)
    for j in range(2):
        assert values[j] == pytest.approx(float(evals[order[j]]), rel=1e-3)
        v = _flat(vectors[j])
        assert abs(float(v @ evecs[:, order[j]])) / float(v.norm()) > 0.999
    assert info["hessian_vector_products"] >= 2 and info["tol"] == 1e-6 and info["max_iter"] == 1000
    assert max(info["relative_residuals"]) < 1e-2


def test_float64_models_agree_with_the_dense_hessian_to_1e6(tiny):
    model, X, y, H = tiny
    double = build_model("mlp", input_dim=4, hidden=(5,), num_classes=3).double()
    double.load_state_dict(model.state_dict())
    values, vectors = hessian_top_eigen(double, X.double(), y, k=1, max_iter=2000, tol=1e-12)
    assert values[0] == pytest.approx(float(torch.linalg.eigvalsh(H).max()), rel=1e-6)
    assert vectors[0][0].dtype == torch.float64 and torch.get_default_dtype() == torch.float32


def test_stale_gradients_do_not_change_the_answer_and_state_is_restored(tiny):
    """PyHessian adds its gradient to whatever .grad holds: with this stale graph-connected gradient, plain
    PyHessian reports twice the top eigenvalue (1.62 instead of 0.81, checked by hand)."""
    model, X, y, H = tiny
    top = float(torch.linalg.eigvalsh(H).max())
    model.train()
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward(create_graph=True)  # .grad now holds a graph-connected gradient, as after a double backward
    stale = [p.grad.detach().clone() for p in model.parameters()]
    params_before = [p.detach().clone() for p in model.parameters()]
    rng_before = torch.get_rng_state()
    values, _ = hessian_top_eigen(model, X, y, k=1, max_iter=1000, tol=1e-7)
    assert values[0] == pytest.approx(top, rel=1e-3)
    assert model.training
    assert all(torch.equal(p.grad.detach(), s) for p, s in zip(model.parameters(), stale))
    assert all(torch.equal(p.detach(), b) for p, b in zip(model.parameters(), params_before))
    assert torch.equal(torch.get_rng_state(), rng_before)
    for p in model.parameters():
        p.grad = None
    model.eval()


def test_trace_is_within_four_standard_errors_of_the_dense_trace(tiny):
    """Hutchinson with Rademacher probes: Var(v'Hv) = 2 (||H||_F^2 - sum_i H_ii^2) (exact, from H), so
    n probes have standard error sqrt(Var / n); 4 of them bound a fixed-seed miss at p < 1e-4."""
    model, X, y, H = tiny
    info: dict = {}
    est = hessian_trace(model, X, y, max_iter=100, tol=1e-3, seed=0, info=info)
    n = info["iterations"]
    assert 1 <= n <= 100
    var = 2 * (float((H ** 2).sum()) - float((torch.diagonal(H) ** 2).sum()))
    assert abs(est - float(torch.trace(H))) <= 4 * math.sqrt(var / n)
    if n >= 10:  # the reported standard error estimates the exact one
        assert info["standard_error"] == pytest.approx(math.sqrt(var / n), rel=0.6)
    assert hessian_trace(model, X, y, max_iter=100, tol=1e-3, seed=0) == est  # seeded
    assert hessian_trace(model, X, y, max_iter=100, tol=1e-3, seed=1) != est


def test_directions_line_up_with_all_parameters_and_batchnorm_is_untouched():
    torch.manual_seed(0)
    model = build_model("resnet20", in_channels=1).train()
    model.fc.bias.requires_grad_(False)  # a frozen parameter gets a zero direction
    X, y = torch.randn(6, 1, 8, 8), torch.arange(6) % 3
    buffers = {k: v.clone() for k, v in model.state_dict().items()}
    dirs = hessian_directions(model, X, y, k=2, max_iter=3)
    assert len(dirs) == 2
    for d in dirs:
        assert [t.shape for t in d] == [p.shape for p in model.parameters()]
        assert float(d[-1].abs().max()) == 0.0
        assert _flat(d).norm() == pytest.approx(1.0, rel=1e-4)
    assert model.training  # PyHessian switched to eval (BN running stats) and we switched back
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in buffers.items())


def test_bad_settings_and_batches():
    model = build_model("mlp", input_dim=4, hidden=(5,), num_classes=3)
    X, y = torch.randn(4, 4), torch.tensor([0, 1, 2, 0])
    with pytest.raises(LossTopoError, match="k >= 1"):
        hessian_top_eigen(model, X, y, k=0)
    with pytest.raises(LossTopoError, match="max_iter >= 1"):
        hessian_trace(model, X, y, max_iter=0)
    with pytest.raises(LossTopoError, match="one label per input"):
        hessian_trace(model, X, y[:3])
