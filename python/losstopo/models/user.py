"""Your model, weights, data and loss from your own files: what `--model FILE.py:FUNCTION` and friends load.

- `load_function("path/file.py:name", flag)`: the function `name` of that file (run as a module, its folder
  on sys.path while it runs, so its own imports work);
- `build_user_model(spec, weights)`: call it, check it is an nn.Module, load the weights file into it;
- `load_weights(model, path)`: a plain state_dict, a dict holding one ("state_dict", "model_state_dict",
  "model"), a losstopo checkpoint, or a whole saved module (torch.save(model)); names and shapes checked
  first, the first mismatching key named;
- `load_user_data(spec)`: call it (it returns a DataLoader, Dataset, (X, y) or an iterable of batches).

Every way this can go wrong is one line (LossTopoError). The user's files are their own code: loading a
whole saved module unpickles it (torch.load(weights_only=False)), which runs code, as importing the file does.
"""

from __future__ import annotations

import importlib.util
import io
import os
import pickle
import sys
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from .. import settings
from ..errors import LossTopoError


def _short(e: BaseException) -> str:
    return " ".join(str(e).split())[:200]


def load_function(spec: str, flag: str) -> Callable[..., Any]:
    """The function named by FILE.py:FUNCTION (one-line errors: no file, import failure, no such function)."""
    path, name = settings.function_spec(spec, flag)
    full = Path(path).resolve()
    module_name = f"losstopo_user_{abs(hash(str(full)))}"
    module = sys.modules.get(module_name)
    if module is None:
        loader_spec = importlib.util.spec_from_file_location(module_name, full)
        if loader_spec is None or loader_spec.loader is None:
            raise LossTopoError(f"{flag}: {path} is not a Python file", "pass a .py file")
        module = importlib.util.module_from_spec(loader_spec)
        sys.path.insert(0, str(full.parent))
        try:
            sys.modules[module_name] = module
            loader_spec.loader.exec_module(module)
        except Exception as e:  # noqa: BLE001 - the user's file: any error is theirs, one line
            sys.modules.pop(module_name, None)
            raise LossTopoError(f"{flag}: running {path} failed ({type(e).__name__}: {_short(e)})",
                                "fix the error in your file (python FILE.py shows the traceback)") from None
        finally:
            sys.path.remove(str(full.parent))
    fn = getattr(module, name, None)
    if fn is None:
        have = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                      and getattr(v, "__module__", None) == module_name)
        raise LossTopoError(f"{flag}: {path} has no function {name!r}",
                            f"define it, or use one of {', '.join(have)}" if have else "define it in that file")
    if not callable(fn):
        raise LossTopoError(f"{flag}: {path}:{name} is a {type(fn).__name__}, not a function", "pass a function")
    return fn


def _call(fn: Callable[..., Any], spec: str, flag: str) -> Any:
    try:
        return fn()
    except LossTopoError:
        raise
    except Exception as e:  # noqa: BLE001 - the user's function failed: one line naming it
        raise LossTopoError(f"{flag} {spec}: calling it failed ({type(e).__name__}: {_short(e)})",
                            "it must run without arguments (python -c shows the traceback)") from None


def build_user_model(spec: str, weights: str | os.PathLike | None = None) -> nn.Module:
    """The nn.Module that FILE.py:FUNCTION() returns, with the weights file loaded into it, in eval mode."""
    model = _call(load_function(spec, "--model"), spec, "--model")
    if not isinstance(model, nn.Module):
        raise LossTopoError(f"--model {spec} returned a {type(model).__name__}, not a torch.nn.Module",
                            "return the model (an nn.Module) from that function")
    if weights is not None:
        load_weights(model, weights)
    return model.eval()


def load_user_data(spec: str) -> Any:
    """What FILE.py:FUNCTION() returns: a DataLoader, Dataset, (X, y) pair or iterable of batches."""
    data = _call(load_function(spec, "--data"), spec, "--data")
    if data is None or isinstance(data, (str, bytes, int, float, dict, nn.Module)) or not (
            hasattr(data, "__iter__") or hasattr(data, "__getitem__")):
        raise LossTopoError(f"--data {spec} returned a {type(data).__name__}, not data",
                            "return a DataLoader, a Dataset, an (X, y) pair of tensors or a list of batches")
    return data


def _read_state(path: Path) -> dict[str, Any]:
    """The state_dict a weights file holds, whatever the common form it was saved in."""
    data = path.read_bytes()
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # a whole module: the user's own code, trusted like their .py file
        if data[:2] != b"PK" and data[:1] != b"\x80":  # neither torch's zip nor its legacy pickle format
            raise LossTopoError(f"--weights {path} is not a PyTorch file",
                                "save the weights with torch.save(model.state_dict(), FILE)") from None
        try:
            obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=False)
        except Exception as e:  # noqa: BLE001
            raise LossTopoError(f"--weights {path} cannot be loaded ({type(e).__name__}: {_short(e)})",
                                "save the weights with torch.save(model.state_dict(), FILE)") from None
    except Exception as e:  # noqa: BLE001 - torch raises many types for bad bytes
        raise LossTopoError(f"--weights {path} is not a PyTorch file ({type(e).__name__})",
                            "save the weights with torch.save(model.state_dict(), FILE)") from None
    if isinstance(obj, nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        if obj.get("format") == "losstopo-checkpoint" and isinstance(obj.get("state_dict"), dict):
            return obj["state_dict"]
        for key in ("state_dict", "model_state_dict", "model"):
            inner = obj.get(key)
            if isinstance(inner, nn.Module):
                return inner.state_dict()
            if isinstance(inner, dict) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                return inner
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
    raise LossTopoError(f"--weights {path} holds a {type(obj).__name__} without a state_dict",
                        "save the weights with torch.save(model.state_dict(), FILE)")


def load_weights(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load a weights file into `model` strictly; a one-line error naming the first key that does not fit."""
    p = Path(settings.existing_file(path, "weights file", "--weights"))
    state = _read_state(p)
    state = {k[len("module."):] if k.startswith("module.") and k not in model.state_dict() else k: v
             for k, v in state.items()}  # saved from DataParallel
    want = model.state_dict()
    for k, v in want.items():
        if k not in state:
            raise LossTopoError(f"--weights {p} does not fit the model: missing key {k!r}",
                                "pass the weights saved from this model (model.state_dict())")
        if tuple(state[k].shape) != tuple(v.shape):
            raise LossTopoError(f"--weights {p} does not fit the model: {k!r} has shape {list(state[k].shape)}, "
                                f"the model's {list(v.shape)}", "pass the weights saved from this model")
    extra = [k for k in state if k not in want]
    if extra:
        raise LossTopoError(f"--weights {p} does not fit the model: unexpected key {extra[0]!r}",
                            "pass the weights saved from this model (model.state_dict())")
    model.load_state_dict(state, strict=True)
    return model
