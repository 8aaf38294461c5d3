"""Your data and your loss as losstopo's common currency: batches and a loss closure.

- `as_batches(data, adapter)`: a list of `(inputs, targets)` batches on the device, read ONCE, so every
  point of a landscape sees exactly the same samples in the same order (also from a shuffling DataLoader).
  `data` is a DataLoader, a Dataset, an `(X, y)` pair of tensors (or numpy arrays) or any iterable of
  batches; `adapter(batch) -> (inputs, targets)` turns dicts or tuples with more fields into that pair.
- `make_objective(loss, closure)`: `closure(model, batch) -> scalar tensor`. `loss(outputs, targets)` is
  wrapped as `loss(call_model(model, inputs), targets)`; without a loss, cross-entropy for integer targets
  and mean squared error for float targets. A closure is used as is (losses that are not a function of
  outputs and targets, e.g. physics-informed ones).

`inputs` is passed to the model as `model(inputs)` for a tensor, `model(*inputs)` for a tuple or list
and `model(**inputs)` for a dict. The value over several batches is the batch-size-weighted mean of the
per-batch values (the size of a batch: its inputs' first dimension, else its targets'). The Hessian
code (subspace/hessian.py) takes the same batches and closure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import LossTopoError

log = logging.getLogger("losstopo")

Batch = tuple[Any, Any]
Closure = Callable[[nn.Module, Batch], torch.Tensor]
Adapter = Callable[[Any], Batch]
LossFn = Callable[[Any, Any], torch.Tensor]


def to_device(obj: Any, device: torch.device | str) -> Any:
    """`obj` with every tensor in it (nested tuples, lists, dicts) moved to `device`."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def call_model(model: nn.Module, inputs: Any) -> Any:
    """model(inputs), model(*inputs) for a tuple/list, model(**inputs) for a dict."""
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def batch_len(batch: Batch) -> int:
    """Samples in a batch: the first dimension of its (first) input tensor, else of its targets, else 1
    (as hessian.py weighs batches; a closure's batch may hold empty targets)."""
    for part in (batch[0], batch[1]):
        t = _first_tensor(part)
        if t is not None and t.dim() > 0 and t.shape[0] > 0:
            return int(t.shape[0])
    return 1


def _first_tensor(obj: Any) -> torch.Tensor | None:
    if isinstance(obj, torch.Tensor):
        return obj
    values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (tuple, list)) else ()
    for v in values:
        t = _first_tensor(v)
        if t is not None:
            return t
    return None


def _default_adapter(batch: Any) -> Batch:
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    what = f"a {len(batch)}-field {type(batch).__name__}" if isinstance(batch, (tuple, list)) \
        else f"a {type(batch).__name__}"
    raise LossTopoError(f"a batch of the data is {what}, not an (inputs, targets) pair",
                        "pass adapter=lambda batch: (inputs, targets) (CLI: return (inputs, targets) batches)")


def _split_pair(x: Any, y: Any, size: int | None) -> list[Batch]:
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if x.dim() == 0 or len(x) != len(y):
        raise LossTopoError(f"the data has {len(x) if x.dim() else 0} inputs but {len(y)} targets",
                            "pass (X, y) with one target per input")
    if not x.dtype.is_floating_point:
        x = x.float()
    if size is None:
        return [(x, y)]
    return list(zip(torch.split(x, size), torch.split(y, size)))


def as_batches(data: Any, adapter: Adapter | None = None, device: torch.device | str = "cpu",
               batch_size: int | None = None, samples: int | None = None) -> list[Batch]:
    """The data as a list of (inputs, targets) batches on `device` (see the module docstring).

    batch_size splits an (X, y) pair and batches a Dataset (default: one batch for a pair, 256 for a
    Dataset); DataLoaders and iterables keep their own batches. `samples` keeps the first N samples.
    """
    adapt = adapter or _default_adapter
    if isinstance(data, (tuple, list)) and len(data) == 2 and adapter is None and \
            all(isinstance(t, (torch.Tensor, np.ndarray)) for t in data):
        raw: Iterable[Any] = _split_pair(data[0], data[1], batch_size)
    elif isinstance(data, torch.utils.data.DataLoader):
        raw = data
    elif isinstance(data, torch.utils.data.Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")
                                                        and not isinstance(data, (tuple, list, dict, str))):
        raw = torch.utils.data.DataLoader(data, batch_size=batch_size or 256, shuffle=False)
    elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
        raw = data
    else:
        raise LossTopoError(f"cannot read batches from a {type(data).__name__}",
                            "pass a DataLoader, a Dataset, an (X, y) pair of tensors or an iterable of batches")
    out: list[Batch] = []
    count = 0
    try:
        for item in raw:
            inputs, targets = adapt(item)
            batch = (to_device(inputs, device), to_device(targets, device))
            n = batch_len(batch)
            if samples is not None and count + n > samples:
                batch = (_head(batch[0], samples - count), _head(batch[1], samples - count))
            out.append(batch)
            count += n
            if samples is not None and count >= samples:
                break
    except LossTopoError:
        raise
    except (TypeError, ValueError, RuntimeError, KeyError, IndexError) as e:
        raise LossTopoError(f"reading the data failed ({type(e).__name__}: {_short(e)})",
                            "make it yield (inputs, targets) batches, or pass an adapter") from None
    if not out:
        raise LossTopoError("the data is empty", "pass data with at least one batch")
    return out


def _head(obj: Any, n: int) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj[:n] if obj.dim() else obj
    if isinstance(obj, dict):
        return {k: _head(v, n) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return type(obj)(_head(v, n) for v in obj)
    return obj


def _short(e: BaseException) -> str:
    return " ".join(str(e).split())[:160]


def as_tensor_pair(batches: Sequence[Batch]) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(X, y) when every batch is a tensor of inputs and 1-D integer class targets, else None."""
    if not all(isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and y.dim() == 1 and x.dim() >= 1
               and not y.dtype.is_floating_point and y.dtype != torch.bool and x.dtype.is_floating_point
               and len(x) == len(y) for x, y in batches):
        return None
    if len({tuple(x.shape[1:]) for x, _ in batches}) != 1:
        return None
    return torch.cat([x for x, _ in batches]), torch.cat([y for _, y in batches])


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of samples whose largest output is the target class (a metric: (outputs, targets) -> scalar)."""
    return (outputs.argmax(-1) == targets).double().mean()


def _mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    if outputs.shape != targets.shape:
        if outputs.numel() != targets.numel():
            raise LossTopoError(f"the model's outputs {list(outputs.shape)} and the targets {list(targets.shape)} "
                                "do not fit the default mean squared error", "pass loss=your_loss(outputs, targets)")
        targets = targets.reshape(outputs.shape)  # (N,) targets for (N, 1) outputs: no silent broadcasting
    return F.mse_loss(outputs, targets.to(outputs.dtype))


def default_loss(targets: Any) -> tuple[LossFn, str]:
    """Cross-entropy for integer targets, mean squared error for float targets (with its name)."""
    t = _first_tensor(targets)
    if t is None:
        raise LossTopoError(f"no default loss for targets of type {type(targets).__name__}",
                            "pass loss=your_loss(outputs, targets) or a closure(model, batch)")
    if t.dtype.is_floating_point:
        return _mse, "mse (default for float targets)"
    if t.dtype == torch.bool or t.dtype.is_complex:
        raise LossTopoError(f"no default loss for {t.dtype} targets", "pass loss=your_loss(outputs, targets)")
    return F.cross_entropy, "cross_entropy (default for integer targets)"


@dataclass
class Objective:
    """The loss closure, its name, and the metrics evaluated next to it at every point."""

    loss: Closure
    name: str
    metrics: dict[str, Closure] = field(default_factory=dict)
    kind: str = "loss"  # "loss": loss(outputs, targets); "closure": closure(model, batch)
    is_cross_entropy: bool = False
    outputs_loss: LossFn | None = None  # kind "loss": the (outputs, targets) functions, one forward for all
    outputs_metrics: list[LossFn] = field(default_factory=list)

    def values(self, model: nn.Module, batch: Batch) -> list[float]:
        """[loss, metric...] of one batch, each a Python float (one forward for loss-kind objectives)."""
        if self.kind == "loss":
            outputs = call_model(model, batch[0])
            vals = [self.outputs_loss(outputs, batch[1])] + [m(outputs, batch[1]) for m in self.outputs_metrics]
        else:
            vals = [self.loss(model, batch)] + [m(model, batch) for m in self.metrics.values()]
        return [_scalar(v, n) for v, n in zip(vals, ["loss", *self.metrics])]


def _scalar(v: Any, name: str) -> float:
    if isinstance(v, torch.Tensor):
        if v.numel() != 1:
            raise LossTopoError(f"the {name} returned a tensor of shape {list(v.shape)}, not a scalar",
                                "reduce it to one number per batch (e.g. .mean())")
        return float(v.detach().item())
    try:
        return float(v)
    except (TypeError, ValueError):
        raise LossTopoError(f"the {name} returned a {type(v).__name__}, not a number",
                            "return a scalar tensor or a float") from None


def make_objective(loss: LossFn | None = None, closure: Closure | None = None,
                   metrics: dict[str, Callable] | None = None, sample: Batch | None = None) -> Objective:
    """The Objective of `loss(outputs, targets)` or `closure(model, batch)` (one of them, or neither).

    Without either, the default loss is chosen from the targets of `sample` (a batch): cross-entropy
    for integer targets (then accuracy is added as a metric), MSE for float targets. `metrics` maps
    names to callables of the same kind as the loss. The choice is logged on the "losstopo" logger.
    """
    if loss is not None and closure is not None:
        raise LossTopoError("both loss and closure were given",
                            "pass loss=f(outputs, targets) or closure=f(model, batch)")
    metrics = dict(metrics or {})
    for name, m in [("loss", loss), ("closure", closure), *metrics.items()]:
        if m is not None and not callable(m):
            raise LossTopoError(f"{name} is a {type(m).__name__}, not a function", f"pass a callable as {name}")
    if closure is not None:
        obj = Objective(loss=closure, name=getattr(closure, "__name__", "closure"), metrics=metrics, kind="closure")
        log.info("losstopo: loss = %s (closure(model, batch))", obj.name)
        return obj
    if loss is None:
        if sample is None:
            raise LossTopoError("no loss and no data to choose the default loss from", "pass loss=...")
        loss, name = default_loss(sample[1])
        if loss is F.cross_entropy and "accuracy" not in metrics:
            metrics = {"accuracy": accuracy, **metrics}
    else:
        name = getattr(loss, "__name__", type(loss).__name__)
    fn = loss

    def loss_closure(model: nn.Module, batch: Batch) -> torch.Tensor:
        return fn(call_model(model, batch[0]), batch[1])

    obj = Objective(loss=loss_closure, name=name, metrics={k: _as_closure(m) for k, m in metrics.items()},
                    kind="loss", is_cross_entropy=loss is F.cross_entropy, outputs_loss=fn,
                    outputs_metrics=list(metrics.values()))
    log.info("losstopo: loss = %s", name)
    return obj


def _as_closure(metric: LossFn) -> Closure:
    def closure(model: nn.Module, batch: Batch) -> torch.Tensor:
        return metric(call_model(model, batch[0]), batch[1])

    return closure


def mean_over_batches(values: Sequence[Sequence[float]], sizes: Sequence[int]) -> np.ndarray:
    """The batch-size-weighted mean of per-batch [loss, metric...] rows (float64)."""
    v = np.asarray(values, np.float64)
    w = np.asarray(sizes, np.float64)
    return (v * w[:, None]).sum(0) / w.sum()
