"""Checkpoints: a trained model plus everything needed to rebuild it and to know where it came from.

A checkpoint is a `torch.save`d dict holding only plain types and tensors, so it loads with
`torch.load(weights_only=True)` (no code runs). It records the model name and kwargs (rebuilt through
models.build_model), data set, seed, epochs, final losses and accuracies, the torch version and a format tag.
Every way a file can be wrong ends in a one-line LossTopoError. Loading checks the weights (verify.py):
the zip's CRCs, finite values, and one forward pass that reproduces the recorded loss.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import LossTopoError
from ..fileio import atomic_path
from .verify import check_zip, verify_checkpoint
from .zoo import MODELS, build_model

FORMAT = "losstopo-checkpoint"
FORMAT_VERSION = 2
# Version 1 spelled two metric keys differently; they are renamed on load (one spelling everywhere).
_V1_KEYS = {"train_acc": "train_accuracy", "test_acc": "test_accuracy"}


@dataclass
class LoadedCheckpoint:
    """A loaded checkpoint: the model (eval mode), its info dict, where it came from and its SHA-256."""

    model: nn.Module
    info: dict[str, Any]
    path: Path
    sha256: str

    @property
    def model_name(self) -> str:
        return self.info["model"]


def _plain(obj: Any) -> Any:
    """Info values as types that torch.load(weights_only=True) accepts (numpy scalars, tuples, Paths...)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, bool):
        return obj
    for t in (int, float, str):  # also subclasses such as torch's TorchVersion, stored as the plain type
        if isinstance(obj, t):
            return t(obj)
    if isinstance(obj, os.PathLike):
        return str(obj)
    if hasattr(obj, "item"):  # numpy / torch scalars
        return obj.item()
    raise TypeError(f"checkpoint info value of type {type(obj).__name__} is not storable")


def save_checkpoint(path: str | os.PathLike, model: nn.Module, info: dict[str, Any]) -> Path:
    """Write model + info to `path` atomically; info must hold 'model' (registered name) and 'model_kwargs'."""
    path = Path(path)
    if info.get("model") not in MODELS:
        raise LossTopoError(f"cannot save a checkpoint for unregistered model {info.get('model')!r}",
                            "register it with losstopo.models.register_model and set info['model']")
    if not path.parent.is_dir():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise LossTopoError(f"cannot create folder {path.parent} ({e.strerror})",
                                "choose a writable --out") from None
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "torch_version": str(torch.__version__),
        "info": _plain({"model_kwargs": {}, **info}),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    }
    try:
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)
    except OSError as e:
        raise LossTopoError(f"cannot write checkpoint {path} ({e.strerror})", "choose a writable --out") from None
    return path


def _read_payload(path: Path) -> tuple[dict[str, Any], str]:
    fix = "pass a .pt file written by `losstopo train` (or losstopo.checkpoint.save_checkpoint)"
    if not path.exists():
        raise LossTopoError(f"checkpoint {path} does not exist", "check the path (train one with `losstopo train`)")
    if not path.is_file():
        raise LossTopoError(f"checkpoint {path} is not a file", fix)
    data = path.read_bytes()
    if not data:
        raise LossTopoError(f"checkpoint {path} is empty", "it was not written completely; train it again")
    sha = hashlib.sha256(data).hexdigest()
    check_zip(data, f"checkpoint {path}")
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for bad bytes; all mean the same to the user
        if data[:2] == b"PK" and isinstance(e, pickle.UnpicklingError):
            raise LossTopoError(f"{path} is a PyTorch file but not a losstopo checkpoint (it holds Python objects "
                                "beyond tensors and plain data)", fix) from None
        if data[:2] == b"PK":
            raise LossTopoError(f"checkpoint {path} is truncated or corrupt ({type(e).__name__})",
                                "train it again or copy it again") from None
        raise LossTopoError(f"{path} is not a losstopo checkpoint (not a loadable PyTorch file)", fix) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise LossTopoError(f"{path} is a PyTorch file but not a losstopo checkpoint (no '{FORMAT}' tag)", fix)
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise LossTopoError(f"checkpoint {path} has format version {version!r}, this losstopo reads up to "
                            f"{FORMAT_VERSION}", "upgrade losstopo")
    if not isinstance(payload.get("info"), dict) or not isinstance(payload.get("state_dict"), dict):
        raise LossTopoError(f"checkpoint {path} lacks its info or weights", fix)
    return payload, sha


def load_checkpoint(path: str | os.PathLike, verify: bool = True, data_root: str | None = None) -> LoadedCheckpoint:
    """Rebuild the recorded model, load its weights, put it in eval mode. Needs nothing but the file (and the
    recorded data set, for the check).

    verify: check the weights (verify.verify_checkpoint: finite, and the recorded loss reproduced by one
    forward pass on the recorded evaluation data, read from data_root when given).
    """
    path = Path(path)
    payload, sha = _read_payload(path)
    info = dict(payload["info"])
    if payload.get("format_version") == 1:
        info = {_V1_KEYS.get(k, k): v for k, v in info.items()}
    name = info.get("model")
    if name not in MODELS:
        raise LossTopoError(f"checkpoint {path} is for unknown model {name!r}",
                            f"known models: {', '.join(MODELS)} (register your own with models.register_model)")
    kwargs = info.get("model_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise LossTopoError(f"checkpoint {path} has malformed model_kwargs", "train it again")
    model = build_model(name, **kwargs)
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except (RuntimeError, KeyError, TypeError, ValueError):
        raise LossTopoError(f"checkpoint {path}'s weights do not fit model {name}({_kwargs_text(kwargs)}): "
                            "a checkpoint for a different model", "train it again with this losstopo") from None
    model.eval()
    if verify:
        verify_checkpoint(model, info, f"checkpoint {path}", data_root=data_root)
    info.setdefault("torch_version", payload.get("torch_version"))
    return LoadedCheckpoint(model=model, info=info, path=path, sha256=sha)


def _kwargs_text(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
