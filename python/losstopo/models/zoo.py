"""The models studied: an MLP and a small CNN for digits, ResNet-20/56/110 (with or without skip connections).

`build_model(name, **kwargs)` builds any registered model; checkpoints record the name and the kwargs, so
a model registered with `register_model` can be saved and loaded like the built-in ones.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import LossTopoError


class MLP(nn.Module):
    """Flatten, then Linear+ReLU layers of the given widths, then a linear classifier."""

    def __init__(self, input_dim: int = 64, hidden: Sequence[int] = (128, 128), num_classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = input_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SmallCNN(nn.Module):
    """Two 3x3 conv+ReLU blocks (the second halves the size), global average pool, linear classifier."""

    def __init__(self, in_channels: int = 1, width: int = 16, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


class _ShortcutA(nn.Module):
    """Option A of He et al. (2016): subsample by the stride and zero-pad the new channels (no parameters)."""

    def __init__(self, stride: int, extra_channels: int):
        super().__init__()
        self.stride = stride
        self.pad = extra_channels // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad, self.pad))


class BasicBlock(nn.Module):
    """Two 3x3 conv+BN layers; adds the input back (the skip connection) unless residual=False."""

    def __init__(self, in_planes: int, planes: int, stride: int, residual: bool, shortcut: str):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.residual = residual
        self.shortcut: nn.Module | None = None
        if residual:
            if stride == 1 and in_planes == planes:
                self.shortcut = nn.Identity()
            elif shortcut == "A":
                self.shortcut = _ShortcutA(stride, planes - in_planes)
            else:
                self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                              nn.BatchNorm2d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return F.relu(out)


class ResNet20(nn.Module):
    """ResNet-(6n+2) in the CIFAR layout: 3x3 stem, 3 stages x n BasicBlocks (16/32/64 channels), avg pool, fc.

    blocks_per_stage=n: 3 is ResNet-20, 9 ResNet-56, 18 ResNet-110 (the depths of Li et al. 2018, Fig. 5).

    residual=False removes every skip connection (the "plain" network of Li et al. 2018). Stages 2 and 3
    halve the size, so 32x32 CIFAR ends at 8x8 and 8x8 digits at 2x2 (never collapsed to nothing).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, residual: bool = True,
                 shortcut: str = "A", blocks_per_stage: int = 3, widths: Sequence[int] = (16, 32, 64)):
        super().__init__()
        if shortcut not in ("A", "B"):
            raise LossTopoError(f"unknown ResNet shortcut '{shortcut}'",
                                "use 'A' (zero-padding) or 'B' (1x1 convolution)")
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        stages = []
        in_planes = widths[0]
        for s, planes in enumerate(widths):
            blocks = []
            for b in range(blocks_per_stage):
                stride = 2 if (s > 0 and b == 0) else 1
                blocks.append(BasicBlock(in_planes, planes, stride, residual, shortcut))
                in_planes = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(widths[-1], num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.fc(out)


def mlp(input_dim: int = 64, hidden: Sequence[int] = (128, 128), num_classes: int = 10) -> nn.Module:
    return MLP(input_dim, tuple(hidden), num_classes)


def cnn(in_channels: int = 1, width: int = 16, num_classes: int = 10) -> nn.Module:
    return SmallCNN(in_channels, width, num_classes)


def resnet(depth: int = 20, in_channels: int = 1, num_classes: int = 10, residual: bool = True,
           shortcut: str = "A") -> nn.Module:
    """ResNet of `depth` = 6n+2 layers (20, 56, 110, ...)."""
    if not (isinstance(depth, int) and depth >= 8 and (depth - 2) % 6 == 0):
        raise LossTopoError(f"ResNet depth {depth!r} is not 6n+2", "use a depth such as 20, 56 or 110")
    return ResNet20(in_channels, num_classes, residual, shortcut, blocks_per_stage=(depth - 2) // 6)


def resnet20(in_channels: int = 1, num_classes: int = 10, residual: bool = True, shortcut: str = "A") -> nn.Module:
    return resnet(20, in_channels, num_classes, residual, shortcut)


def resnet56(in_channels: int = 1, num_classes: int = 10, residual: bool = True, shortcut: str = "A") -> nn.Module:
    return resnet(56, in_channels, num_classes, residual, shortcut)


def resnet110(in_channels: int = 1, num_classes: int = 10, residual: bool = True, shortcut: str = "A") -> nn.Module:
    return resnet(110, in_channels, num_classes, residual, shortcut)


MODELS: dict[str, Callable[..., nn.Module]] = {"mlp": mlp, "cnn": cnn, "resnet": resnet, "resnet20": resnet20,
                                               "resnet56": resnet56, "resnet110": resnet110}


def register_model(name: str, builder: Callable[..., nn.Module]) -> None:
    """Add your own model: `builder(**kwargs)` must rebuild the same architecture from JSON-able kwargs."""
    MODELS[name] = builder


def build_model(name: str, **kwargs: Any) -> nn.Module:
    """Build registered model `name`; unknown names or arguments give a one-line LossTopoError."""
    if name not in MODELS:
        raise LossTopoError(f"unknown model '{name}'", f"choose one of: {', '.join(MODELS)}")
    try:
        return MODELS[name](**kwargs)
    except TypeError as e:
        raise LossTopoError(f"model '{name}' does not accept {sorted(kwargs)} ({e})",
                            "check the model's arguments") from None


def model_kwargs_for_data(name: str, input_shape: Sequence[int], num_classes: int) -> dict[str, Any]:
    """The kwargs that fit model `name` to inputs shaped (C, H, W) and `num_classes` classes."""
    c, h, w = input_shape
    if name == "mlp":
        return {"input_dim": c * h * w, "num_classes": num_classes}
    if name in ("cnn", "resnet", "resnet20", "resnet56", "resnet110"):
        return {"in_channels": c, "num_classes": num_classes}
    return {}


def model_flops(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Forward FLOPs for ONE input shaped `input_shape` (no batch dim), by torch.utils.flop_counter.

    Counts matmuls and convolutions (2 per multiply-add); BatchNorm, ReLU and additions are not counted.
    """
    from torch.utils.flop_counter import FlopCounterMode

    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None else torch.float32
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(torch.zeros((1, *input_shape), dtype=dtype))
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())
