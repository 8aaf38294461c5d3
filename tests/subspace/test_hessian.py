"""Hessian: Lanczos eigenpairs and the adaptive Hutchinson trace against dense Hessians (a 43-parameter MLP,
float64 autograd + eigvalsh) and an analytic one (least squares: H = 2/N [X 1]'[X 1]), the stopping rule,
batch-size weighting, and that the model is left exactly as it was."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from losstopo.errors import LossTopoError
from losstopo.models.zoo import build_model
from losstopo.subspace.hessian import (cross_entropy_loss, hessian_directions, hessian_eigenpairs, hessian_trace,
                                       tensor_batches)
from references import dense_hessian


@pytest.fixture(scope="module")
def tiny():
    """A 4-5-3 MLP (43 parameters) in float64, a fixed batch, and its dense float64 Hessian."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = build_model("mlp", input_dim=4, hidden=(5,), num_classes=3).double()
    X = torch.randn(40, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (40,), generator=g)
    return model, X, y, dense_hessian(model, X, y)


def _flat(v: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.detach().double().flatten() for t in v])


def test_lanczos_eigenpairs_match_the_dense_hessian(tiny):
    model, X, y, H = tiny
    evals, evecs = torch.linalg.eigh(H)
    values, vectors, info = hessian_eigenpairs(model, tensor_batches(X, y), k=3, tol=1e-8)
    for j in range(3):
        assert values[j] == pytest.approx(float(evals[-1 - j]), rel=1e-6)  # asked: 1e-3
        assert abs(float(_flat(vectors[j]) @ evecs[:, -1 - j])) > 1 - 1e-8
    gram = torch.stack([_flat(v) for v in vectors]) @ torch.stack([_flat(v) for v in vectors]).T
    torch.testing.assert_close(gram, torch.eye(3, dtype=torch.float64), atol=1e-10, rtol=0)
    assert info["converged"] and info["tol"] == 1e-8 and info["samples"] == 40 and info["n_parameters"] == 43
    assert 3 <= info["hessian_vector_products"] <= 200 and max(info["relative_residuals"]) < 1e-6
    assert list(values) == sorted(values, reverse=True)


def test_float32_model_within_1e3_and_largest_magnitude(tiny):
    model, X, y, H = tiny
    single = build_model("mlp", input_dim=4, hidden=(5,), num_classes=3)
    single.load_state_dict({k: v.float() for k, v in model.state_dict().items()})
    values, vectors, _ = hessian_eigenpairs(single, tensor_batches(X.float(), y), k=2)
    top = torch.linalg.eigvalsh(H).flip(0)[:2]
    assert np.allclose(values, top.numpy(), rtol=1e-3, atol=0)
    assert vectors[0][0].dtype == torch.float32
    magnitude, _, info = hessian_eigenpairs(model, tensor_batches(X, y), k=1, which="LM", tol=1e-10)
    ev = torch.linalg.eigvalsh(H)
    assert magnitude[0] == pytest.approx(float(ev[ev.abs().argmax()]), rel=1e-6) and info["which"] == "LM"


def test_custom_loss_batches_weighted_by_size_against_the_analytic_hessian():
    """Least squares y ~ Xw + b: the Hessian of the mean squared error is 2/N A'A with A = [X 1]; batches of
    10, 10 and 3 samples weighted by size give it, an unweighted mean of the batch losses would not."""
    g = torch.Generator().manual_seed(1)
    X = torch.randn(23, 3, generator=g, dtype=torch.float64)
    t = torch.randn(23, generator=g, dtype=torch.float64)
    model = nn.Linear(3, 1).double()
    A = torch.cat([X, torch.ones(23, 1, dtype=torch.float64)], 1)
    H = 2 * A.T @ A / 23

    def mse(m: nn.Module, batch) -> torch.Tensor:
        return ((m(batch[0]).squeeze(1) - batch[1]) ** 2).mean()

    batches = tensor_batches(X, t, batch_size=10)
    assert [len(b[0]) for b in batches] == [10, 10, 3]
    values, _, info = hessian_eigenpairs(model, batches, mse, k=2, tol=1e-10)
    assert np.allclose(values, torch.linalg.eigvalsh(H).flip(0)[:2].numpy(), rtol=1e-8)
    assert info["batches"] == 3 and info["samples"] == 23
    trace, se, n = hessian_trace(model, batches, mse, rel_se=0.01, seed=0)
    assert abs(trace - float(torch.trace(H))) <= 4 * se


def _stats(model, X, y, exact: float, sketch: int) -> tuple[int, int]:
    within2 = within4 = 0
    for seed in range(20):
        info: dict = {}
        est, se, n = hessian_trace(model, tensor_batches(X, y), rel_se=0.15, seed=seed, sketch=sketch, info=info)
        assert info["converged"] and n >= 10 and se <= 0.15 * abs(est)
        within2 += abs(est - exact) <= 2 * se
        within4 += abs(est - exact) <= 4 * se
    return within2, within4


@pytest.mark.parametrize("sketch", [0, 8])
def test_trace_within_its_standard_error_over_20_seeds(tiny, sketch):
    """A t statistic with >= 9 degrees of freedom is within 2 in ~93 % of the cases: >= 17 of 20 seeds."""
    model, X, y, H = tiny
    within2, within4 = _stats(model, X, y, float(torch.trace(H)), sketch)
    assert within2 >= 17 and within4 == 20


def test_stopping_rule_is_honoured(tiny):
    model, X, y, _ = tiny
    b = tensor_batches(X, y)
    info: dict = {}
    est, se, n = hessian_trace(model, b, rel_se=0.1, min_probes=10, seed=3, info=info)
    assert info["converged"] and se <= 0.1 * abs(est) and n >= 10 and info["probes"] == n
    assert info["hessian_vector_products"] == n and info["standard_error"] == se
    if n > 10:  # one probe fewer (the same seeded probes) did not meet the rule
        est1, se1, n1 = hessian_trace(model, b, rel_se=0.1, min_probes=10, max_probes=n - 1, seed=3)
        assert n1 == n - 1 and se1 > 0.1 * abs(est1)
    _, _, n_min = hessian_trace(model, b, rel_se=10.0, min_probes=12, seed=3)
    assert n_min == 12  # met at once, but never before min_probes
    capped: dict = {}
    _, _, n_max = hessian_trace(model, b, rel_se=1e-6, min_probes=10, max_probes=15, seed=3, info=capped)
    assert n_max == 15 and not capped["converged"]
    assert hessian_trace(model, b, rel_se=0.1, seed=3) == (est, se, n)  # seeded
    assert hessian_trace(model, b, rel_se=0.1, seed=4)[0] != est


def test_state_is_restored_and_directions_line_up_with_all_parameters():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(108, 3)).train()
    model[4].bias.requires_grad_(False)  # a frozen parameter: excluded, a zero direction
    model[0].weight.grad = torch.ones_like(model[0].weight)  # a stale gradient, kept as it was
    X, y = torch.randn(6, 1, 8, 8), torch.arange(6) % 3
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    info: dict = {}
    dirs = hessian_directions(model, X, y, k=2, info=info)
    assert len(dirs) == 2 and len(info["eigenvalues"]) == 2 and info["excluded_parameters"] == ["4.bias"]
    for d in dirs:
        assert [t.shape for t in d] == [p.shape for p in model.parameters()]
        assert float(d[-1].abs().max()) == 0.0
        assert float(_flat(d).norm()) == pytest.approx(1.0, rel=1e-5)
    assert abs(float(_flat(dirs[0]) @ _flat(dirs[1]))) < 1e-5
    assert model.training and torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())  # bitwise, BN stats too
    assert torch.equal(model[0].weight.grad, torch.ones_like(model[0].weight))
    assert info["samples"] == 6 and info["hessian_vector_products"] >= 2


def test_bad_settings_and_batches(tiny):
    model, X, y, _ = tiny
    b = tensor_batches(X, y)
    with pytest.raises(LossTopoError, match="k >= 1"):
        hessian_eigenpairs(model, b, k=0)
    with pytest.raises(LossTopoError, match="fewer eigenpairs"):
        hessian_eigenpairs(model, b, k=43)
    with pytest.raises(LossTopoError, match="min_probes <= max_probes"):
        hessian_trace(model, b, min_probes=10, max_probes=5)
    with pytest.raises(LossTopoError, match="rel_se > 0"):
        hessian_trace(model, b, rel_se=0)
    with pytest.raises(LossTopoError, match="one label per input"):
        tensor_batches(X, y[:3])
    with pytest.raises(LossTopoError, match="scalar"):
        hessian_trace(model, b, lambda m, batch: m(batch[0]))
    with pytest.raises(LossTopoError, match="non-empty batch"):
        hessian_trace(model, [], cross_entropy_loss)


def test_hessian_directions_record_eigenvalues_and_warn_when_not_orthogonal():
    import warnings

    from losstopo.subspace import make_directions

    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    X, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # orthonormal eigenvectors: no warning
        d = make_directions(m, "hessian", dims=2, seed=0, data=(X, y))
    values, _, _ = hessian_eigenpairs(m, tensor_batches(X, y), k=2, seed=0)
    assert d.meta["hessian"]["eigenvalues"] == [float(v) for v in values]
    assert "parameter_names" not in d.meta["hessian"] and d.meta["hessian"]["converged"]
    assert np.allclose(d.meta["cosine"], np.eye(2), atol=1e-6)
    with pytest.warns(RuntimeWarning, match="not orthogonal .*largest \\|cosine\\|"):
        bent = make_directions(m, "hessian", dims=2, seed=0, data=(X, y), norm="layer")
    assert abs(bent.meta["cosine"][0][1]) > 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_directions(m, "hessian", dims=2, seed=0, data=(X, y), norm="layer", orthonormalize=True)
