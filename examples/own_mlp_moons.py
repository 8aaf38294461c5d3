"""Your own classifier and data: a two-moons MLP with BatchNorm, its landscape and topology in one call each.

    python examples/own_mlp_moons.py [OUT_DIR]      # trains (2 s), writes OUT_DIR/weights.pt and OUT_DIR/landscape

The same model and data from the command line (build_model and make_data are what --model/--data name):

    losstopo landscape --model examples/own_mlp_moons.py:build_model --weights OUT_DIR/weights.pt \\
        --data examples/own_mlp_moons.py:make_data --resolution 21 --out OUT_DIR/cli-landscape
"""

import sys
from pathlib import Path

import torch
from sklearn.datasets import make_moons
from torch import nn

import losstopo


def build_model() -> nn.Module:
    """Any nn.Module: here 2 -> 32 -> 32 -> 2 with BatchNorm and Dropout (evaluated in eval mode)."""
    return nn.Sequential(nn.Linear(2, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.1),
                         nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))


def make_data(n: int = 512, seed: int = 0) -> torch.utils.data.DataLoader:
    """Any data: a DataLoader of (inputs, integer labels) batches."""
    X, y = make_moons(n_samples=n, noise=0.15, random_state=seed)
    ds = torch.utils.data.TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(y))
    return torch.utils.data.DataLoader(ds, batch_size=128, shuffle=True,  # seeded: the same order every call
                                       generator=torch.Generator().manual_seed(seed))


def train(model: nn.Module, data, epochs: int = 25) -> nn.Module:
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(epochs):
        for x, y in data:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    return model.eval()


def main(out: Path) -> None:
    torch.set_num_threads(1)  # models this small run fastest on one thread (a busy 2-core machine: much faster)
    torch.manual_seed(0)
    data = make_data()
    model = train(build_model(), data)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "weights.pt")
    ls = losstopo.landscape(model, data, resolution=21, span=1.0, out=out / "landscape", overwrite=True,
                            progress=False)
    topo = ls.topology()
    print(f"loss: {ls.meta['loss']}; min {ls.loss.min():.4f} at the centre {ls.loss[len(ls.loss) // 2]:.4f}, "
          f"accuracy there {ls.accuracy[len(ls.loss) // 2]:.3f}")
    print("topology:", {k: topo.metrics[k] for k in ("minima", "saddles", "average_persistence")})


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/own_mlp_moons"))
