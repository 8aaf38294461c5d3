"""Stage 1: normalisation (Li et al. 2018), zeroed 1-D tensors, orthonormality, determinism, the file."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from losstopo.subspace.directions import (Directions, cosines, flatten, load_directions, make_directions,
                                 normalize_direction, save_directions)
from losstopo.errors import LossTopoError


def _net() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 8 * 8, 10))


def test_filter_rows_have_weight_row_norms_and_1d_zeroed():
    m = _net()
    d = make_directions(m, "filter", dims=2, seed=0)
    for direction in d.tensors:
        for n, w in m.named_parameters():
            t = direction[n]
            if w.dim() <= 1:
                assert torch.count_nonzero(t) == 0, n
            else:
                dn = t.reshape(t.shape[0], -1).double().norm(dim=1)
                wn = w.detach().reshape(w.shape[0], -1).double().norm(dim=1)
                torch.testing.assert_close(dn, wn, rtol=1e-5, atol=1e-6)
                # not merely the weights themselves: a random direction
                assert not torch.allclose(t, w.detach())


def test_layer_normalisation_whole_tensor_norms():
    m = _net()
    d = make_directions(m, "random", dims=1, seed=1)
    assert d.meta["normalization"] == "layer"
    for n, w in m.named_parameters():
        if w.dim() > 1:
            assert abs(float(d.tensors[0][n].norm()) - float(w.detach().norm())) < 1e-4 * float(w.detach().norm())
            rows = d.tensors[0][n].reshape(w.shape[0], -1).norm(dim=1)
            wrows = w.detach().reshape(w.shape[0], -1).norm(dim=1)
            assert not torch.allclose(rows, wrows, rtol=1e-3)  # layer != filter normalisation


def test_keep_1d_copies_weights_like_li_et_al():
    m = _net()
    w = {n: p.detach() for n, p in m.named_parameters()}
    raw = {n: torch.randn(p.shape) for n, p in w.items()}
    out = normalize_direction(raw, w, "filter", keep_1d=True)
    for n, p in w.items():
        if p.dim() <= 1:
            assert torch.equal(out[n], p)
    kept = normalize_direction(raw, w, "none", keep_1d=True)
    assert all(torch.equal(kept[n], raw[n]) for n in w)


def test_bn_buffers_are_not_directions():
    m = _net()
    d = make_directions(m, "filter", dims=2, seed=0)
    buffers = {n for n, _ in m.named_buffers()}
    assert buffers and not (buffers & set(d.tensors[0]))
    assert list(d.tensors[0]) == [n for n, _ in m.named_parameters()]


def test_orthonormalize_gives_identity_gram_matrix():
    m = _net()
    d = make_directions(m, "filter", dims=3, seed=5, orthonormalize=True)
    flat = torch.stack([flatten(t) for t in d.tensors])
    gram = flat @ flat.T
    torch.testing.assert_close(gram, torch.eye(3, dtype=torch.float64), atol=1e-6, rtol=0)
    assert abs(d.meta["cosine_before_orthonormalization"][0][1]) > 0  # reported before and after
    assert abs(d.meta["cosine"][0][1]) < 1e-6


def test_cosines_against_numpy():
    a = {"x": torch.tensor([1.0, 0.0]), "y": torch.tensor([[0.0]])}
    b = {"x": torch.tensor([1.0, 1.0]), "y": torch.tensor([[0.0]])}
    c = cosines([a, b])
    assert abs(c[0][1] - 2 ** -0.5) < 1e-12


def test_deterministic_in_seed():
    m = _net()
    a, b = make_directions(m, "filter", 2, seed=7), make_directions(m, "filter", 2, seed=7)
    c = make_directions(m, "filter", 2, seed=8)
    assert a.digest() == b.digest()
    assert all(torch.equal(x[n], y[n]) for x, y in zip(a.tensors, b.tensors) for n in x)
    assert a.digest() != c.digest()


def test_save_load_roundtrip_and_bad_files(tmp_path):
    m = _net()
    d = make_directions(m, "filter", 2, seed=2)
    p = save_directions(tmp_path / "directions.pt", d)
    back = load_directions(p, m)
    assert isinstance(back, Directions) and back.digest() == d.digest()
    assert back.meta["kind"] == "filter" and back.meta["seed"] == 2
    bad = tmp_path / "bad.pt"
    bad.write_text("not torch")
    with pytest.raises(LossTopoError):
        load_directions(bad)
    other = nn.Linear(3, 2)
    with pytest.raises(LossTopoError, match="do not match"):
        load_directions(p, other)


def test_unknown_kind_and_dims():
    with pytest.raises(LossTopoError):
        make_directions(_net(), "nope")
    with pytest.raises(LossTopoError):
        make_directions(_net(), "filter", dims=4)


def test_hessian_directions_are_orthonormal_eigenvectors():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    X, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    d = make_directions(m, "hessian", dims=2, seed=0, data=(X, y))
    flat = torch.stack([flatten(t) for t in d.tensors])
    gram = flat @ flat.T
    torch.testing.assert_close(gram.diagonal(), torch.ones(2, dtype=torch.float64), atol=1e-5, rtol=0)
    assert abs(float(gram[0, 1])) < 0.05  # power iteration to tol 1e-3: nearly orthogonal
    assert d.meta["keep_1d"] and d.meta["normalization"] == "none"
    # top eigenvector of the dense Hessian (independent of PyHessian)
    params = [p.detach().clone() for p in m.parameters()]
    shapes = [p.shape for p in params]

    def loss_of(v: torch.Tensor) -> torch.Tensor:
        ps, i = [], 0
        for s in shapes:
            k = int(torch.tensor(s).prod())
            ps.append(v[i:i + k].reshape(s))
            i += k
        h = torch.tanh(X @ ps[0].T + ps[1])
        return nn.functional.cross_entropy(h @ ps[2].T + ps[3], y)

    H = torch.autograd.functional.hessian(loss_of, torch.cat([p.reshape(-1) for p in params]).double().float())
    evals, evecs = torch.linalg.eigh(H.double())
    top = evecs[:, -1]
    assert abs(float(top @ flat[0])) > 0.99
