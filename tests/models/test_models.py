"""Models: architecture checked against hand counts (parameters, FLOPs, shapes) and the skip-free variant."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from losstopo.errors import LossTopoError
from losstopo.models.zoo import (MODELS, BasicBlock, build_model, model_flops, model_kwargs_for_data,
                             register_model)


def _n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def _resnet20_flops_by_hand(c_in: int, size: int) -> int:
    """2 FLOPs per multiply-add of every 3x3 convolution of ResNet-20 plus the classifier (option A)."""
    def conv(ci: int, co: int, hw: int) -> int:
        return 2 * ci * co * 9 * hw * hw

    total = conv(c_in, 16, size) + 6 * conv(16, 16, size)
    total += conv(16, 32, size // 2) + 5 * conv(32, 32, size // 2)
    total += conv(32, 64, size // 4) + 5 * conv(64, 64, size // 4)
    return total + 2 * 64 * 10


def test_resnet20_cifar_matches_the_paper_size_and_a_hand_flop_count():
    m = build_model("resnet20", in_channels=3)
    assert _n_params(m) == 269_722  # He et al. 2016 "0.27M"; the widely reproduced exact count
    assert model_flops(m, (3, 32, 32)) == _resnet20_flops_by_hand(3, 32) == 81_102_080


def test_resnet20_digits_flops_and_shortcut_b_parameters():
    assert model_flops(build_model("resnet20", in_channels=1), (1, 8, 8)) == _resnet20_flops_by_hand(1, 8)
    # option B adds a 1x1 conv + BN at each of the two down-sampling blocks: 16*32 + 32*64 + 2*(32+64)
    b = build_model("resnet20", in_channels=3, shortcut="B")
    assert _n_params(b) == 269_722 + 16 * 32 + 32 * 64 + 2 * (32 + 64)


def test_mlp_size_and_flops():
    m = build_model("mlp")
    assert _n_params(m) == (64 * 128 + 128) + (128 * 128 + 128) + (128 * 10 + 10)
    assert model_flops(m, (1, 8, 8)) == 2 * (64 * 128 + 128 * 128 + 128 * 10)


@pytest.mark.parametrize("shape,final", [((1, 8, 8), 2), ((3, 32, 32), 8)])
def test_resnet20_stages_keep_spatial_size_at_least_two(shape, final):
    m = build_model("resnet20", **model_kwargs_for_data("resnet20", shape, 10)).eval()
    seen = {}
    m.layer3.register_forward_hook(lambda mod, i, o: seen.update(shape=tuple(o.shape)))
    out = m(torch.randn(2, *shape))
    assert out.shape == (2, 10)
    assert seen["shape"] == (2, 64, final, final)


@pytest.mark.parametrize("name", ["mlp", "cnn", "resnet20"])
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)])
def test_every_model_fits_both_data_sets(name, shape):
    m = build_model(name, **model_kwargs_for_data(name, shape, 10)).eval()
    assert m(torch.randn(3, *shape)).shape == (3, 10)


def _zero_second_convs(m: nn.Module) -> None:
    with torch.no_grad():
        for block in m.modules():
            if isinstance(block, BasicBlock):
                block.conv2.weight.zero_()


def test_no_residual_removes_every_skip_connection():
    """With each block's second conv zeroed (BN beta = 0), a block outputs relu(skip(x)).

    Without skips every block outputs a constant, so the network ignores its input; with skips it does not.
    """
    x = torch.randn(4, 1, 8, 8)
    plain = build_model("resnet20", residual=False).eval()
    resid = build_model("resnet20", residual=True).eval()
    assert _n_params(plain) == _n_params(resid)
    for m in (plain, resid):
        _zero_second_convs(m)
    out_plain, out_resid = plain(x), resid(x)
    assert torch.allclose(out_plain, out_plain[0].expand_as(out_plain))
    assert not torch.allclose(out_resid, out_resid[0].expand_as(out_resid), atol=1e-4)
    assert all(b.shortcut is None for b in plain.modules() if isinstance(b, BasicBlock))


def test_registry_errors_and_custom_models():
    assert {"mlp", "cnn", "resnet20"} <= set(MODELS)
    with pytest.raises(LossTopoError, match="unknown model 'vgg'.*mlp"):
        build_model("vgg")
    with pytest.raises(LossTopoError, match="does not accept"):
        build_model("mlp", depth=3)
    with pytest.raises(LossTopoError, match="shortcut"):
        build_model("resnet20", shortcut="C")
    register_model("tiny_linear_test", lambda n=3: nn.Linear(n, 2))
    try:
        assert build_model("tiny_linear_test", n=5).in_features == 5
    finally:
        MODELS.pop("tiny_linear_test")


def test_model_flops_restores_training_mode():
    m = build_model("cnn").train()
    assert model_flops(m, (1, 8, 8)) > 0
    assert m.training
