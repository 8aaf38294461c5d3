"""A regression model: float targets, so the default loss is the mean squared error (meta["loss"] says so).

    python examples/regression.py [OUT_DIR]
"""

import sys
from pathlib import Path

import torch
from torch import nn

import losstopo


def build_model() -> nn.Module:
    return nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))


def make_data(n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """An (X, y) pair of tensors: y = sin(2x) + noise, float targets of the outputs' shape."""
    g = torch.Generator().manual_seed(0)
    X = torch.rand(n, 1, generator=g) * 4 - 2
    return X, torch.sin(2 * X) + 0.05 * torch.randn(n, 1, generator=g)


def main(out: Path) -> None:
    torch.set_num_threads(1)  # models this small run fastest on one thread (a busy 2-core machine: much faster)
    torch.manual_seed(0)
    X, y = make_data()
    model = build_model()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()
        opt.step()
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "weights.pt")
    ls = losstopo.landscape(model.eval(), (X, y), resolution=21, span=0.5, out=out / "landscape",
                            overwrite=True, progress=False)
    topo = ls.topology()
    print(f"loss: {ls.meta['loss']}; at the trained weights {ls.loss[len(ls.loss) // 2]:.5f}, max {ls.loss.max():.3f}")
    print("topology:", {k: topo.metrics[k] for k in ("minima", "saddles", "average_persistence")})


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/regression"))
