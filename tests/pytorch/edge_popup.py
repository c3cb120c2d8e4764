#!/usr/bin/env python3
"""Recompute InitPrune's edge-popup steps with PyTorch from the files InitPrune exported, and compare.

Usage: edge_popup.py FOLDER...
Each FOLDER holds weights.safetensors (an MLP, PyTorch names layers.{2i}.weight/bias, ReLU between layers),
scores.safetensors (the initial scores, same names), batches.safetensors (inputs_b, labels_b for b = 0..),
config.json (kept_fraction, lr, momentum, weight_decay, scope, biases) and InitPrune's results after the steps:
result_scores.safetensors and result_mask.safetensors.

The definition (docs/methods.md, edge-popup): a group of tensors shares one ranking (layer-wise/separate: each
tensor; layer-wise/joint: a layer's weight and bias; global/separate: all weights, all biases; global/joint: all);
it keeps k = n - floor((1 - rho) n) entries with the largest |s|, ties to the earlier entry (stable sort). The
forward pass uses W * m and b * m; the mask's gradient goes straight through to |s|; only the scores take SGD
steps (momentum, weight decay) on the batch-mean cross-entropy.
Prints one JSON line per folder; exits 0 when in every folder the masks are identical and the scores agree within
float tolerance.
"""
import json
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from crosscheck import load


class StraightThroughTopK(torch.autograd.Function):
    @staticmethod
    def forward(ctx, magnitudes, rho):
        n = magnitudes.numel()
        k = n - math.floor((1 - rho) * n)
        order = torch.sort(magnitudes, descending=True, stable=True).indices
        mask = torch.zeros_like(magnitudes)
        mask[order[:k]] = 1
        return mask

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def groups_of(names, scope, biases):
    layer = lambda name: name.rsplit(".", 1)[0]
    if scope == "global":
        if biases == "joint":
            return [names]
        return [g for g in ([n for n in names if n.endswith(".weight")], [n for n in names if n.endswith(".bias")]) if g]
    if biases == "separate":
        return [[n] for n in names]
    out = []
    for n in names:
        if out and layer(out[-1][0]) == layer(n):
            out[-1].append(n)
        else:
            out.append([n])
    return out


def masks_of(scores, groups, rho):
    masks = {}
    for group in groups:
        flat = torch.cat([scores[n].abs().flatten() for n in group])
        keep = StraightThroughTopK.apply(flat, rho)
        offset = 0
        for n in group:
            size = scores[n].numel()
            masks[n] = keep[offset:offset + size].view(scores[n].shape)
            offset += size
    return masks


def forward(weights, masks, layers, x):
    for i, prefix in enumerate(layers):
        w = weights[prefix + ".weight"] * masks[prefix + ".weight"]
        b = weights[prefix + ".bias"] * masks[prefix + ".bias"] if prefix + ".bias" in weights else None
        x = F.linear(x, w, b)
        if i < len(layers) - 1:
            x = F.relu(x)
    return x


def main(folder):
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    weights = load(folder / "weights.safetensors")
    initial = load(folder / "scores.safetensors")
    batches = load(folder / "batches.safetensors")
    layers = sorted({n.rsplit(".", 1)[0] for n in weights}, key=lambda p: int(p.split(".")[1]))
    names = [f"{p}.{kind}" for p in layers for kind in ("weight", "bias") if f"{p}.{kind}" in weights]
    groups = groups_of(names, config["scope"], config["biases"])
    scores = {n: torch.nn.Parameter(initial[n].clone()) for n in names}
    optimizer = torch.optim.SGD([scores[n] for n in names], lr=config["lr"], momentum=config["momentum"], weight_decay=config["weight_decay"])
    steps = len([k for k in batches if k.startswith("inputs_")])
    for b in range(steps):
        optimizer.zero_grad()
        masks = masks_of(scores, groups, config["kept_fraction"])
        loss = F.cross_entropy(forward(weights, masks, layers, batches[f"inputs_{b}"]), batches[f"labels_{b}"])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        final = masks_of(scores, groups, config["kept_fraction"])
    ours_scores = load(folder / "result_scores.safetensors")
    ours_masks = load(folder / "result_mask.safetensors")
    differing = sum(int((final[n].bool() != ours_masks[n].bool()).sum()) for n in names)
    close = all(torch.allclose(scores[n].detach(), ours_scores[n], rtol=1e-5, atol=1e-6) for n in names)
    worst = max(float((scores[n].detach() - ours_scores[n]).abs().max()) for n in names)
    moved = max(float((scores[n].detach() - initial[n]).abs().max()) for n in names)
    print(json.dumps({"folder": folder.name, "steps": steps, "differing_mask_entries": differing, "scores_close": close, "largest_score_difference": worst, "largest_score_change": moved, "kept": int(sum(final[n].sum() for n in names))}))
    return 0 if differing == 0 and close and moved > 0 else 1


if __name__ == "__main__":
    sys.exit(max(main(folder) for folder in sys.argv[1:]))
