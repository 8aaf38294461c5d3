"""The one place that validates each user setting: one rule and one message per setting.

The Python API, the command line and the ParaView plugin all call these, so a setting that is refused
in one entry point is refused in every other with the same line (a LossTopoError: problem; fix). Each
function returns the value in its canonical type.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, Iterable, Sequence

from .errors import LossTopoError

# The choices of the settings that have choices: one list each, used by every entry point.
DIRECTION_KINDS = ("random", "filter", "hessian")  # subspace/directions.py explains each
NORMALIZATIONS = ("filter", "layer", "none")
REPRESENTATIONS = ("image", "knn")  # representation/: TTK's image triangulation or the kNN graph
OPTIMIZERS = ("sgd", "adam")  # models/train.py
KNN_METHODS = ("auto", "exact", "nndescent")  # representation/knn.py: k-d tree, pynndescent, or by size

MIN_RESOLUTION = 3  # a grid axis needs an interior point (the trained weights sit at the centre)
MAX_RESOLUTION = 100_001
SPAN_RANGE = (1e-6, 1e4)  # in units of the (normalised) directions
MAX_K = 256


def _integer(name: str, value: Any, flag: str) -> int:
    """An int from an int-like value (numpy integers, whole floats); bools and fractions refused."""
    if not isinstance(value, bool):
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    raise LossTopoError(f"{name} must be a whole number, not {value!r}", f"pass {flag} N")


def resolution(value: int | Sequence[int], dims: int) -> tuple[int, ...]:
    """Points per axis: one int for every axis or one per axis, each >= 3."""
    res = (value,) * dims if not isinstance(value, (tuple, list)) else tuple(value)
    if len(res) != dims:
        raise LossTopoError(f"resolution {list(res)} has {len(res)} entries for {dims} dimensions",
                            "give one number, or one per axis")
    out = tuple(_integer("resolution", r, "--resolution") for r in res)
    if any(not MIN_RESOLUTION <= r <= MAX_RESOLUTION for r in out):
        raise LossTopoError(f"resolution {list(out)} is outside {MIN_RESOLUTION}..{MAX_RESOLUTION} points per axis",
                            f"pass --resolution {MIN_RESOLUTION} or more (odd numbers put a point at the centre)")
    return out


def span(value: Any) -> float:
    """Half-width of the grid: a finite number in SPAN_RANGE."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise LossTopoError(f"span must be a number, not {value!r}", "pass e.g. --span 1.0") from None
    lo, hi = SPAN_RANGE
    if not (math.isfinite(v) and lo <= v <= hi):
        raise LossTopoError(f"span {value!r} is outside {lo:g}..{hi:g}",
                            "pass a positive --span such as 1.0 (the grid covers [-span, span])")
    return v


def dims(value: Any) -> int:
    """Number of directions: 1, 2 or 3."""
    v = _integer("dims", value, "--dims")
    if v not in (1, 2, 3):
        raise LossTopoError(f"dims must be 1, 2 or 3, not {value!r}", "pass --dims 1, 2 or 3")
    return v


def k(value: Any, n_points: int | None = None) -> int:
    """Neighbours per point of the kNN graph: 1..MAX_K and fewer than the number of points."""
    v = _integer("k", value, "--k")
    if not 1 <= v <= MAX_K:
        raise LossTopoError(f"k = {value!r} neighbours is outside 1..{MAX_K}", "pass --k 8 (the default)")
    if n_points is not None and v >= n_points:
        raise LossTopoError(f"k = {v} neighbours needs at least {v + 1} points, but there are {n_points}",
                            f"pass --k below {n_points}")
    return v


def positive(name: str, value: Any, flag: str) -> int:
    """A whole number >= 1 (batch sizes, chunk sizes, epochs, sample counts)."""
    v = _integer(name, value, flag)
    if v < 1:
        raise LossTopoError(f"{name} must be at least 1, not {value!r}", f"pass {flag} 1 or more")
    return v


def optional_positive(name: str, value: Any, flag: str) -> int | None:
    """None, or a whole number >= 1."""
    return None if value is None else positive(name, value, flag)


def samples(value: Any) -> int | None:
    """Evaluation samples: None (all) or >= 1."""
    return optional_positive("samples", value, "--samples")


def threads(value: Any) -> int | None:
    """torch threads: None (torch's default) or 1..4 x the CPU count."""
    if value is None:
        return None
    v = positive("threads", value, "--threads")
    most = 4 * (os.cpu_count() or 1)
    if v > most:
        raise LossTopoError(f"--threads {v} is more than 4 x the {os.cpu_count()} CPUs here",
                            f"pass --threads between 1 and {os.cpu_count()}")
    return v


def seed(value: Any) -> int:
    """A seed: a whole number in 0..2**63-1."""
    v = _integer("seed", value, "--seed")
    if not 0 <= v < 2 ** 63:
        raise LossTopoError(f"seed {value!r} is outside 0..2**63-1", "pass a non-negative --seed")
    return v


def seeds(values: Iterable[Any]) -> tuple[int, ...]:
    """A non-empty list of distinct seeds."""
    out = tuple(seed(v) for v in values)
    if not out:
        raise LossTopoError("no seeds given", "pass --seeds with at least one seed")
    if len(set(out)) != len(out):
        raise LossTopoError(f"seeds repeat ({list(out)})", "pass each seed once")
    return out


def threshold(value: Any) -> float:
    """A persistence threshold: a finite number >= 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise LossTopoError(f"persistence threshold {value!r} is not a number", "pass e.g. --simplify 0.01") \
            from None
    if not (math.isfinite(v) and v >= 0):
        raise LossTopoError(f"persistence threshold {value!r} is negative or not finite",
                            "pass a threshold >= 0")
    return v


def optimizer(value: Any) -> str:
    """The training optimizer: sgd (momentum) or adam."""
    if value not in OPTIMIZERS:
        raise LossTopoError(f"unknown optimizer {value!r}", f"choose one of {', '.join(OPTIMIZERS)}")
    return str(value)


def warmup_epochs(value: Any, epochs: int) -> int:
    """Warm-up epochs: a whole number from 0 to epochs (a warm-up as long as the training has no cosine)."""
    v = _integer("warm-up epochs", value, "warmup_epochs")
    if not 0 <= v <= epochs:
        raise LossTopoError(f"warm-up of {value!r} epochs does not fit {epochs} epochs",
                            f"pass a warm-up from 0 to {epochs} epochs")
    return v


def bn_bias(value: Any) -> float | None:
    """None (torch's BatchNorm init, bias 0) or a finite initial BatchNorm bias."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise LossTopoError(f"BatchNorm bias {value!r} is not a finite number", "pass a number such as 1.0, or None")
    return float(value)


def knn_method(value: Any) -> str:
    """How the kNN graph is built: auto (exact in low dimensions), exact (k-d tree) or nndescent."""
    if value not in KNN_METHODS:
        raise LossTopoError(f"unknown kNN method {value!r}", f"pass --knn-method {' | '.join(KNN_METHODS)}")
    return str(value)


def choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """One of `choices` (exact spelling)."""
    if value not in choices:
        raise LossTopoError(f"unknown {name} {value!r}", f"choose one of {', '.join(choices)}")
    return str(value)


def function_spec(value: Any, flag: str) -> tuple[str, str]:
    """FILE.py:FUNCTION naming a function in the user's own Python file (which must exist)."""
    text = str(value)
    path, sep, name = text.rpartition(":")
    if not sep or not path or not name.isidentifier():
        raise LossTopoError(f"{flag} {text!r} is not FILE.py:FUNCTION", f"pass e.g. {flag} my_model.py:build_model")
    if not os.path.isfile(path):
        raise LossTopoError(f"{flag}: file {path} does not exist", "check the path of your Python file")
    return path, name


def existing_file(value: Any, what: str, flag: str) -> str:
    """The path of an existing file."""
    if not os.path.isfile(str(value)):
        raise LossTopoError(f"{what} {value} does not exist", f"check the path given to {flag}")
    return str(value)


def model_source(checkpoint: Any, model: Any, data: Any, extras: dict[str, Any]) -> str:
    """"checkpoint" or "user": a checkpoint, or --model with --data (extras: the flags of the user path)."""
    if checkpoint is not None and model is not None:
        raise LossTopoError("both a checkpoint and --model were given", "pass one of them")
    if model is None:
        given = [flag for flag, v in {"--data": data, **extras}.items() if v not in (None, False)]
        if checkpoint is None:
            raise LossTopoError("no model given",
                                "pass a checkpoint, or --model FILE.py:FUNCTION --data FILE.py:FUNCTION")
        if given:
            raise LossTopoError(f"{given[0]} needs --model", f"pass --model FILE.py:FUNCTION (or drop {given[0]})")
        return "checkpoint"
    if data is None:
        raise LossTopoError("--model needs --data", "pass --data FILE.py:FUNCTION returning your data")
    return "user"
