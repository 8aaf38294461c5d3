"""Data sets as in-memory tensors: the embedded digits default, CIFAR-10 from a local folder, or yours.

Every loader returns `(X, y)`: float32 images shaped (N, C, H, W), normalised, and int64 labels. Splits
and subsets are fixed by seed so that a landscape is always computed on the same samples.
"""

from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch

from ..errors import LossTopoError

SPLITS = ("train", "test")
SPLIT_SEED = 0  # seed of the digits train/test split and of every `samples` subset
DIGITS_TEST_FRACTION = 0.2

# CIFAR-10 per-channel statistics of the training set (pixel / 255).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILES = ("test_batch",)


@dataclass(frozen=True)
class DatasetInfo:
    """What a data set looks like, so models can be built for it without loading it."""

    name: str
    input_shape: tuple[int, int, int]  # (C, H, W)
    num_classes: int
    needs_root: bool
    description: str
    loader: Callable[[str, str | None], tuple[torch.Tensor, torch.Tensor]]


# ----------------------------------------------------------------------------------------------- digits
@functools.lru_cache(maxsize=1)
def _digits_split() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """scikit-learn's 8x8 digits: stratified 80/20 split (seed 0), pixel/16 standardised by train stats."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype(np.float64) / 16.0).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=DIGITS_TEST_FRACTION, stratify=y, random_state=SPLIT_SEED)
    mean, std = float(x_tr.mean()), float(x_tr.std())
    out = {}
    for split, (xs, ys) in {"train": (x_tr, y_tr), "test": (x_te, y_te)}.items():
        xs = ((xs - mean) / std).astype(np.float32)
        xs.setflags(write=False)
        ys.setflags(write=False)
        out[split] = (xs, ys)
    return out


def _load_digits(split: str, root: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = _digits_split()[split]
    return torch.tensor(x), torch.tensor(y)


# --------------------------------------------------------------------------------------------- CIFAR-10
class _CifarUnpickler(pickle.Unpickler):
    """Unpickles only what CIFAR-10 batches contain (dicts, lists, bytes, numpy arrays): no code runs."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol-2 pickles spell bytes
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected object {module}.{name}")


def _cifar_folder(root: str | None) -> Path:
    if root is None:
        raise LossTopoError("CIFAR-10 needs a local copy",
                            f"pass --data-root pointing at the '{CIFAR10_FOLDER}' folder (or its parent)")
    p = Path(root).expanduser()
    if (p / CIFAR10_FOLDER).is_dir():
        p = p / CIFAR10_FOLDER
    if not p.is_dir():
        raise LossTopoError(f"CIFAR-10 folder {p} does not exist",
                            f"pass --data-root pointing at the '{CIFAR10_FOLDER}' folder (or its parent)")
    return p


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    fix = f"restore the standard '{CIFAR10_FOLDER}' layout (python version of CIFAR-10)"
    if not path.is_file():
        raise LossTopoError(f"CIFAR-10 batch file {path} is missing", fix)
    try:
        with open(path, "rb") as f:
            batch = _CifarUnpickler(f, encoding="bytes").load()
    except Exception as e:  # any unreadable content is the same user problem
        raise LossTopoError(f"CIFAR-10 batch file {path} is not a readable batch ({type(e).__name__})", fix) \
            from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise LossTopoError(f"CIFAR-10 batch file {path} lacks b'data' or b'labels'", fix)
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise LossTopoError(f"CIFAR-10 batch file {path} holds data {data.dtype}{list(data.shape)}, "
                            "expected uint8 N x 3072", fix)
    if labels.ndim != 1 or labels.shape[0] != data.shape[0] or not np.issubdtype(labels.dtype, np.integer) \
            or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise LossTopoError(f"CIFAR-10 batch file {path} has {labels.shape} labels for {data.shape[0]} images "
                            "(expected one label 0..9 per image)", fix)
    return data, labels.astype(np.int64)


@functools.lru_cache(maxsize=2)
def _cifar_raw(folder: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    files = CIFAR10_TRAIN_FILES if split == "train" else CIFAR10_TEST_FILES
    parts = [_read_cifar_batch(Path(folder) / name) for name in files]
    data = np.concatenate([d for d, _ in parts])
    labels = np.concatenate([lab for _, lab in parts])
    data.setflags(write=False)
    labels.setflags(write=False)
    return data, labels


def _normalise_cifar(data: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(data.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)
    mean = torch.tensor(CIFAR10_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean) / std


def _load_cifar10(split: str, root: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    data, labels = _cifar_raw(str(_cifar_folder(root).resolve()), split)
    return _normalise_cifar(data), torch.from_numpy(labels.copy())


# ----------------------------------------------------------------------------------------------- public
DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo("digits", (1, 8, 8), 10, False,
                          "scikit-learn 8x8 digits (embedded, 1437 train / 360 test)", _load_digits),
    "cifar10": DatasetInfo("cifar10", (3, 32, 32), 10, True,
                           f"CIFAR-10 from a local '{CIFAR10_FOLDER}' folder (50000 train / 10000 test)",
                           _load_cifar10),
}


def dataset_info(name: str) -> DatasetInfo:
    """The DatasetInfo of `name`, or a LossTopoError listing the choices."""
    if name not in DATASETS:
        raise LossTopoError(f"unknown data set '{name}'", f"choose one of: {', '.join(DATASETS)}")
    return DATASETS[name]


def subset_indices(n: int, samples: int | None, seed: int = SPLIT_SEED) -> torch.Tensor | None:
    """Indices of the first `samples` of a fixed seeded permutation of range(n); None means all."""
    if samples is None:
        return None
    _check_samples(samples)
    if samples > n:
        raise LossTopoError(f"asked for {samples} samples but only {n} exist",
                            f"pass --samples {n} or fewer (or omit it to use all)")
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=g)[: int(samples)]


def _check_samples(samples: Any) -> None:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise LossTopoError(f"samples must be a positive integer, got {samples!r}", "pass --samples N with N >= 1")


def load_dataset(name: str, split: str, root: str | None = None,
                 samples: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(X, y) of split 'train' or 'test' of data set `name` ('digits' | 'cifar10').

    `samples` keeps the first N of a fixed seeded permutation, so the same N always gives the same samples
    (and a smaller N a prefix of them). Results are fresh tensors the caller may modify.
    """
    info = dataset_info(name)
    if split not in SPLITS:
        raise LossTopoError(f"unknown split '{split}'", f"choose one of: {', '.join(SPLITS)}")
    x, y = info.loader(split, root)
    idx = subset_indices(len(y), samples)
    if idx is not None:
        x, y = x[idx], y[idx]
    return x, y


def as_tensors(dataset_or_loader: Any, samples: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn a torch Dataset, a DataLoader, or an (X, y) pair into (X, y) tensors, keeping the first `samples`.

    Use this to run losstopo on your own data: any iterable of (input, label) items or batches works.
    Unlike `load_dataset`, `samples` takes the first N in the source's own order (a DataLoader decides it).
    """
    if samples is not None:
        _check_samples(samples)
    if isinstance(dataset_or_loader, (tuple, list)) and len(dataset_or_loader) == 2 \
            and all(isinstance(t, torch.Tensor) for t in dataset_or_loader):
        x, y = dataset_or_loader
        return _check_pair(x[:samples], y[:samples])
    if isinstance(dataset_or_loader, torch.utils.data.DataLoader):
        return _collect(dataset_or_loader, samples, batched=True)
    if hasattr(dataset_or_loader, "__getitem__") and hasattr(dataset_or_loader, "__len__"):
        n = len(dataset_or_loader)
        n = n if samples is None else min(n, samples)
        return _collect((dataset_or_loader[i] for i in range(n)), samples, batched=False)
    if hasattr(dataset_or_loader, "__iter__"):
        return _collect(dataset_or_loader, samples, batched=False)
    raise LossTopoError(f"cannot read samples from a {type(dataset_or_loader).__name__}",
                        "pass a torch Dataset, a DataLoader or an (X, y) pair of tensors")


def _collect(items: Iterable[Any], samples: int | None, batched: bool) -> tuple[torch.Tensor, torch.Tensor]:
    xs: list[torch.Tensor] = []
    ys: list[torch.Tensor] = []
    count = 0
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise LossTopoError(f"expected (input, label) items, got a {type(item).__name__}",
                                "make the dataset return (input, label) pairs")
        x, y = torch.as_tensor(item[0]), torch.as_tensor(item[1])
        if not batched:
            x, y = x.unsqueeze(0), y.reshape(1)
        xs.append(x)
        ys.append(y)
        count += len(y)
        if samples is not None and count >= samples:
            break
    if not xs:
        raise LossTopoError("the dataset is empty", "pass a dataset with at least one sample")
    try:
        x_all, y_all = torch.cat(xs), torch.cat(ys)
    except RuntimeError:
        raise LossTopoError("the dataset's inputs differ in shape", "make every input the same shape") from None
    return _check_pair(x_all[:samples], y_all[:samples])


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if len(x) != len(y):
        raise LossTopoError(f"{len(x)} inputs but {len(y)} labels", "give one label per input")
    if y.dtype.is_floating_point or y.dtype == torch.bool or y.ndim != 1:
        raise LossTopoError(f"labels must be a 1-D integer tensor, got {y.dtype}{list(y.shape)}",
                            "give integer class labels")
    if not x.dtype.is_floating_point:
        x = x.float()
    return x, y.long()
