"""A model with initial weights, at the widths the hardware will have (after pruning): enough
for FINN's resource and throughput estimates, which do not depend on the weights' values."""

from __future__ import annotations

from pathlib import Path

from qnnc.backends.export import import_generated
from qnnc.spec import model as m


def write_untrained(root: Path, spec: m.Spec) -> dict:
    import torch

    module = import_generated(root)
    kept = {layer.name: layer.kept for layer in spec.network.layers if isinstance(layer, m.WeightLayer)}
    torch.manual_seed(spec.train.seed)
    net = module.Net(widths=kept)
    x = torch.randint(0, 2, (8, *spec.network.input.shape)).float()
    net.train()
    net(x)  # Brevitas initialises its activation scales on a first training batch
    net.eval()
    torch.save({"widths": net.widths, "model": net.state_dict()}, Path(root) / "model.pt")
    return {"widths": net.widths}
