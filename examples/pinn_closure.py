"""A physics-informed loss (not a function of outputs and targets): a closure(model, batch) -> scalar.

Solves u'(x) = cos(x) on [-3, 3] with u(0) = 0 (solution sin x) by a small network, then the landscape of
the residual loss around the trained weights. The batch holds the collocation points; the closure
differentiates the model's outputs by its inputs, so losstopo runs it with autograd on.

    python examples/pinn_closure.py [OUT_DIR]
"""

import sys
from pathlib import Path

import torch
from torch import nn

import losstopo


def build_model() -> nn.Module:
    return nn.Sequential(nn.Linear(1, 24), nn.Tanh(), nn.Linear(24, 24), nn.Tanh(), nn.Linear(24, 1))


def make_data() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """One batch of collocation points (no targets: the physics is the target)."""
    x = torch.linspace(-3, 3, 128)[:, None]
    return [(x, torch.zeros(0))]


def residual(model: nn.Module, batch) -> torch.Tensor:
    """mean (u' - cos x)^2 + u(0)^2."""
    x = batch[0].clone().requires_grad_(True)
    u = model(x)
    du = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
    return ((du - torch.cos(x)) ** 2).mean() + model(torch.zeros(1, 1)).pow(2).sum()


def main(out: Path) -> None:
    torch.set_num_threads(1)  # models this small run fastest on one thread (a busy 2-core machine: much faster)
    torch.manual_seed(0)
    model, data = build_model(), make_data()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(200):
        opt.zero_grad()
        residual(model, data[0]).backward()
        opt.step()
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "weights.pt")
    ls = losstopo.landscape(model, data, closure=residual, resolution=21, span=0.5, out=out / "landscape",
                            overwrite=True, progress=False)
    topo = ls.topology()
    print(f"loss: {ls.meta['loss']} ({ls.meta['loss_kind']}); at the trained weights {ls.loss[len(ls.loss) // 2]:.2e}")
    print("topology:", {k: topo.metrics[k] for k in ("minima", "saddles", "average_persistence")})


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/pinn_closure"))
