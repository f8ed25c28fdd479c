"""Structured pruning: rank each layer's outputs (neurons or channels) by the L1 norm of their weights, keep the
strongest, and copy the surviving weights into a physically smaller model."""

from __future__ import annotations

import torch

from qnnc.spec.model import kept_outputs


def choose_kept(model: torch.nn.Module, sparsity: dict[str, float]) -> dict[str, torch.Tensor]:
    """For each pruned layer, the sorted indices of the outputs (neurons or channels) to keep."""
    keep = {}
    for name, share in sparsity.items():
        weight = getattr(model, name).weight.detach()
        norms = weight.abs().reshape(weight.shape[0], -1).sum(dim=1)
        n = kept_outputs(weight.shape[0], share)
        keep[name] = torch.sort(torch.topk(norms, n).indices).values
    return keep


def _expand(index: torch.Tensor, repeat: int) -> torch.Tensor:
    """Channel indices -> feature indices after flattening channels of ``repeat`` positions."""
    if repeat == 1:
        return index
    return (index[:, None] * repeat + torch.arange(repeat)[None, :]).reshape(-1)


def transfer(old: torch.nn.Module, new: torch.nn.Module, keep: dict, groups: dict) -> None:
    """Copy ``old``'s parameters into the smaller ``new``, slicing pruned dimensions.
    Brevitas creates some quantizer scales lazily (after the first batch); those are copied
    as they are, and Brevitas' own loading hooks take them."""
    new_shapes = {k: v.shape for k, v in new.state_dict().items()}
    result = {}
    for key, value in old.state_dict().items():
        module = key.split(".")[0]
        sliced = value
        if module in groups and value.dim() > 0:
            out_group, in_group, repeat = groups[module]
            if out_group in keep and sliced.shape[0] == old.widths[out_group]:
                sliced = sliced.index_select(0, keep[out_group])
            if sliced.dim() > 1 and in_group in keep and sliced.shape[1] == old.widths[in_group] * repeat:
                sliced = sliced.index_select(1, _expand(keep[in_group], repeat))
        if key in new_shapes and sliced.shape != new_shapes[key]:
            raise RuntimeError(f"pruning cannot map {key}: {tuple(value.shape)} -> {tuple(new_shapes[key])}")
        result[key] = sliced.clone()
    new.load_state_dict(result)


def unstructured_masks(model: torch.nn.Module, sparsity: dict[str, float]) -> dict[str, torch.Tensor]:
    """Magnitude masks that zero the smallest weights of each layer (saves nothing in FINN)."""
    masks = {}
    for name, share in sparsity.items():
        weight = getattr(model, name).weight.detach()
        k = int(weight.numel() * share)
        threshold = weight.abs().reshape(-1).kthvalue(k).values if k else torch.tensor(-1.0)
        masks[name] = (weight.abs() > threshold).to(weight.dtype)
    return masks
