#!/usr/bin/env python3
"""Recompute an InitPrune ln-structured mask with torch.nn.utils.prune.ln_structured, and compare.

Usage: structured.py FOLDER N AMOUNT NAME...
FOLDER holds weights.safetensors and mask.safetensors. Each NAME (a weight) is pruned as
prune.ln_structured(module, 'weight', amount=AMOUNT, n=N, dim=0); every other mask tensor must keep everything.
Prints one JSON line; exits 0 when every mask tensor equals torch's entry for entry.
"""
import json
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.utils.prune as prune

from crosscheck import load


def main(folder, n, amount, names):
    folder = Path(folder)
    weights = load(folder / "weights.safetensors")
    mask = load(folder / "mask.safetensors")
    differing, kept = {}, {}
    for name, ours in mask.items():
        if name in names:
            module = nn.Module()
            module.weight = nn.Parameter(weights[name].clone())
            prune.ln_structured(module, "weight", amount=amount, n=n, dim=0)
            theirs = module.weight_mask.bool()
        else:
            theirs = torch.ones_like(ours, dtype=torch.bool)
        differing[name] = int((theirs != ours.bool()).sum())
        kept[name] = int(theirs.flatten(1).any(1).sum()) if theirs.dim() > 1 else int(theirs.sum())
    missing = [x for x in names if x not in mask]
    print(json.dumps({"differing": differing, "kept_slices": kept, "missing": missing, "torch": torch.__version__}))
    return 0 if not missing and sum(differing.values()) == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]))
