"""Data: the digits split checked against scikit-learn's raw images, CIFAR-10 from a tiny folder in the
standard layout (values checked against a direct computation), every malformed-folder case, user data."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from losstopo.cli import main as cli_main
from losstopo.models.data import (CIFAR10_MEAN, CIFAR10_STD, DATASETS, as_tensors, load_dataset)
from losstopo.errors import LossTopoError


# ----------------------------------------------------------------------------------------------- digits
def test_digits_split_is_a_stratified_partition_of_the_raw_images():
    raw = load_digits()
    x_tr, y_tr = load_dataset("digits", "train")
    x_te, y_te = load_dataset("digits", "test")
    assert x_tr.shape == (1437, 1, 8, 8) and x_te.shape == (360, 1, 8, 8)
    assert x_tr.dtype == torch.float32 and y_tr.dtype == torch.int64
    # standardised with the TRAIN statistics
    assert abs(float(x_tr.mean())) < 1e-5 and abs(float(x_tr.std(unbiased=False)) - 1) < 1e-4
    # undo the normalisation (recovered from the data) and find every image among the raw ones, labels too
    mean, std = _affine(x_tr)
    rows_tr = _row_ids(raw, x_tr, y_tr, mean, std)
    rows_te = _row_ids(raw, x_te, y_te, mean, std)
    assert sorted(rows_tr + rows_te) == list(range(1797))  # disjoint, and together all of them
    train_pixels = raw.images[rows_tr] / 16.0  # exact normalisation with the train statistics
    expect = (raw.images[rows_te] / 16.0 - train_pixels.mean()) / train_pixels.std()
    np.testing.assert_allclose(x_te.numpy()[:, 0], expect, atol=1e-5)
    # stratified: each class's share of the test split is within one sample of 20 %
    counts = np.bincount(raw.target, minlength=10)
    assert np.all(np.abs(np.bincount(y_te.numpy(), minlength=10) - 0.2 * counts) <= 1)


def _affine(x: torch.Tensor) -> tuple[float, float]:
    """(mean, std) such that x = (pixel/16 - mean) / std, from the data: pixels take the levels k/16 and
    the darkest level 0 occurs, so the smallest value is -mean/std and adjacent levels are 1/(16 std) apart."""
    levels = np.unique(np.round(x.numpy().astype(np.float64).ravel(), 4))
    std = (1 / 16) / float(np.median(np.diff(levels)))
    return -float(levels[0]) * std, std


def _row_ids(raw, x: torch.Tensor, y: torch.Tensor, mean: float, std: float) -> list[int]:
    """Indices into the raw digits of each normalised image; asserts its label matches."""
    lookup = {(r * 16).round().astype(np.int64).tobytes(): i for i, r in enumerate(raw.images.reshape(-1, 64) / 16)}
    ids = []
    for img, label in zip(x.numpy().reshape(-1, 64).astype(np.float64), y.numpy()):
        i = lookup[((img * std + mean) * 16).round().astype(np.int64).tobytes()]
        assert raw.target[i] == label
        ids.append(i)
    return ids


def test_digits_samples_is_a_fixed_seeded_prefix():
    x5, y5 = load_dataset("digits", "train", samples=5)
    x9, y9 = load_dataset("digits", "train", samples=9)
    x_all, y_all = load_dataset("digits", "train")
    assert torch.equal(x9[:5], x5) and torch.equal(y9[:5], y5)
    assert torch.equal(load_dataset("digits", "train", samples=5)[0], x5)
    assert not torch.equal(x5, x_all[:5])  # a permutation, not the first rows
    x5[:] = 99  # results are fresh tensors: the cache is not touched
    assert float(load_dataset("digits", "train", samples=5)[0].max()) < 99


@pytest.mark.parametrize("kwargs,match", [
    ({"name": "mnist", "split": "train"}, "unknown data set 'mnist'.*digits, cifar10"),
    ({"name": "digits", "split": "val"}, "unknown split"),
    ({"name": "digits", "split": "test", "samples": 0}, "positive integer"),
    ({"name": "digits", "split": "test", "samples": 361}, "only 360 exist"),
])
def test_bad_requests_name_the_fix(kwargs, match):
    with pytest.raises(LossTopoError, match=match):
        load_dataset(**kwargs)


def test_registry_describes_shapes():
    assert DATASETS["digits"].input_shape == (1, 8, 8) and not DATASETS["digits"].needs_root
    assert DATASETS["cifar10"].input_shape == (3, 32, 32) and DATASETS["cifar10"].needs_root


# --------------------------------------------------------------------------------------------- CIFAR-10
def _write_batch(path: Path, data: np.ndarray, labels: list[int]) -> None:
    with open(path, "wb") as f:  # the original files: protocol-2 pickles of dicts with bytes keys
        pickle.dump({b"batch_label": b"x", b"labels": labels, b"data": data,
                     b"filenames": [b"f%d.png" % i for i in range(len(labels))]}, f, protocol=2)


@pytest.fixture(scope="module")
def cifar_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cifar") / "cifar-10-batches-py"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1, 6):
        _write_batch(root / f"data_batch_{i}", rng.integers(0, 256, (3, 3072), dtype=np.uint8), [i, i, 9])
    _write_batch(root / "test_batch", rng.integers(0, 256, (4, 3072), dtype=np.uint8), [0, 1, 2, 3])
    return root


def test_cifar_values_match_a_direct_computation(cifar_root):
    x, y = load_dataset("cifar10", "train", root=str(cifar_root))
    assert x.shape == (15, 3, 32, 32) and x.dtype == torch.float32
    assert y.tolist() == [1, 1, 9, 2, 2, 9, 3, 3, 9, 4, 4, 9, 5, 5, 9]
    with open(cifar_root / "data_batch_2", "rb") as f:
        raw = pickle.load(f, encoding="bytes")[b"data"][1]
    # image 4 = batch 2, row 1; CIFAR stores 1024 red, then green, then blue values, row-major
    for c in range(3):
        expect = (raw[1024 * c:1024 * (c + 1)].reshape(32, 32) / 255.0 - CIFAR10_MEAN[c]) / CIFAR10_STD[c]
        np.testing.assert_allclose(x[4, c].numpy(), expect, rtol=1e-5, atol=1e-6)
    x_te, y_te = load_dataset("cifar10", "test", root=str(cifar_root.parent), samples=2)  # the parent works too
    assert x_te.shape == (2, 3, 32, 32) and set(y_te.tolist()) <= {0, 1, 2, 3}


def _broken_copy(cifar_root: Path, tmp_path: Path) -> Path:
    bad = tmp_path / "cifar-10-batches-py"
    bad.mkdir()
    for f in cifar_root.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    return bad


@pytest.mark.parametrize("damage,match", [
    (lambda d: (d / "data_batch_3").unlink(), "data_batch_3 is missing"),
    (lambda d: (d / "data_batch_1").write_bytes(os.urandom(200)), "not a readable batch"),
    (lambda d: (d / "test_batch").write_text("hello"), "not a readable batch"),
    (lambda d: _write_batch(d / "data_batch_2", np.zeros((3, 100), np.uint8), [0, 1, 2]), "expected uint8 N x 3072"),
    (lambda d: _write_batch(d / "data_batch_2", np.zeros((3, 3072), np.float32), [0, 1, 2]), "expected uint8"),
    (lambda d: _write_batch(d / "data_batch_2", np.zeros((3, 3072), np.uint8), [0, 1]), "one label 0..9"),
    (lambda d: (d / "data_batch_4").write_bytes(pickle.dumps([1, 2])), "lacks b'data'"),
])
def test_malformed_cifar_folders_give_one_line_errors(cifar_root, tmp_path, damage, match):
    bad = _broken_copy(cifar_root, tmp_path)
    damage(bad)
    with pytest.raises(LossTopoError, match=match) as err:
        for split in ("train", "test"):  # the damaged file is in one of them
            load_dataset("cifar10", split, root=str(bad))
    assert "\n" not in str(err.value)


def test_cifar_batches_cannot_run_code(cifar_root, tmp_path):
    bad = _broken_copy(cifar_root, tmp_path)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (bad / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": [0]}))
    with pytest.raises(LossTopoError, match="not a readable batch"):
        load_dataset("cifar10", "test", root=str(bad))
    assert not marker.exists()


def test_cifar_without_root_or_folder(tmp_path):
    with pytest.raises(LossTopoError, match="--data-root"):
        load_dataset("cifar10", "train")
    with pytest.raises(LossTopoError, match="does not exist"):
        load_dataset("cifar10", "train", root=str(tmp_path / "nowhere"))


def test_cli_train_with_a_missing_cifar_folder_exits_2(tmp_path, capsys):
    code = cli_main(["train", "--data", "cifar10", "--data-root", str(tmp_path / "nope"),
                     "--out", str(tmp_path / "m.pt")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "m.pt").exists()


# -------------------------------------------------------------------------------------------- user data
class _PairDataset(torch.utils.data.Dataset):
    def __init__(self, n: int):
        self.x = torch.arange(n * 4, dtype=torch.float64).reshape(n, 1, 2, 2)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        return self.x[i], i % 3


def test_as_tensors_accepts_datasets_loaders_and_pairs():
    ds = _PairDataset(7)
    x, y = as_tensors(ds)
    assert torch.equal(x, ds.x) and y.tolist() == [0, 1, 2, 0, 1, 2, 0] and y.dtype == torch.int64
    x, y = as_tensors(torch.utils.data.DataLoader(ds, batch_size=3), samples=5)
    assert torch.equal(x, ds.x[:5]) and y.tolist() == [0, 1, 2, 0, 1]
    x, y = as_tensors(ds, samples=2)
    assert len(y) == 2
    tx = torch.utils.data.TensorDataset(torch.ones(4, 3), torch.tensor([1, 0, 1, 0]))
    assert as_tensors(tx)[1].tolist() == [1, 0, 1, 0]
    x, y = as_tensors((torch.zeros(6, 2, dtype=torch.int32), torch.arange(6)), samples=4)
    assert x.dtype == torch.float32 and len(y) == 4


@pytest.mark.parametrize("source,match", [
    ([1, 2, 3], "expected \\(input, label\\)"),
    (42, "cannot read samples"),
    ((torch.zeros(3, 2), torch.zeros(3)), "integer"),
    ((torch.zeros(3, 2), torch.zeros(2, dtype=torch.long)), "3 inputs but 2 labels"),
    ([], "empty"),
])
def test_as_tensors_rejects_bad_sources(source, match):
    with pytest.raises(LossTopoError, match=match):
        as_tensors(source)
