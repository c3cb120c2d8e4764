#!/usr/bin/env python3
"""Recompute an InitPrune mask with PyTorch from the files `initprune prune` wrote, and compare.

Usage: crosscheck.py FOLDER ACTIVATION
FOLDER holds weights.safetensors, batch.safetensors, mask.safetensors and summary.json of an MLP pruned with
--method magnitude|snip --scope global. The PyTorch side follows docs/methods.md: scores |W| or |W * dL/dW|
(batch-mean cross-entropy), keep k = floor((1 - s) N + 1/2) entries, ties to the earlier entry (stable sort).
Prints one JSON line; exits 0 when every differing entry has a score within 1e-5 (relative) of the threshold.
"""
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F64": np.float64, "F32": np.float32, "I64": np.int64, "I32": np.int32, "U8": np.uint8, "BOOL": np.bool_}
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU}


def load(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=DTYPES[info["dtype"]])
        out[name] = torch.from_numpy(raw.copy().reshape(info["shape"]))
    return out


def build(weights, activation):
    count = len([k for k in weights if k.endswith(".weight")])
    modules = []
    for i in range(count):
        w = weights[f"layers.{2 * i}.weight"]
        modules.append(nn.Linear(w.shape[1], w.shape[0], bias=f"layers.{2 * i}.bias" in weights))
        if i < count - 1:
            modules.append(ACTIVATIONS[activation]())
    model = nn.Module()
    model.layers = nn.Sequential(*modules)
    model.load_state_dict(weights, strict=True)
    return model


def main(folder, activation):
    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text())
    weights = load(folder / "weights.safetensors")
    batch = load(folder / "batch.safetensors")
    mask = load(folder / "mask.safetensors")
    model = build(weights, activation)
    names = [k for k in weights if k.endswith(".weight")]
    names.sort(key=lambda k: int(k.split(".")[1]))
    params = dict(model.named_parameters())
    if summary["method"] == "snip":
        x = batch["inputs"].flatten(1)
        loss = F.cross_entropy(model.layers(x), batch["labels"])
        loss.backward()
        scores = [(params[n] * params[n].grad).abs().detach() for n in names]
    elif summary["method"] == "magnitude":
        scores = [params[n].abs().detach() for n in names]
    else:
        raise SystemExit(f"crosscheck covers magnitude and snip, not {summary['method']}")
    flat = torch.cat([s.flatten().double() for s in scores])
    k = int(math.floor((1 - summary["sparsity"]) * flat.numel() + 0.5))
    order = torch.sort(flat, descending=True, stable=True).indices
    keep = torch.zeros(flat.numel(), dtype=torch.bool)
    keep[order[:k]] = True
    ours = torch.cat([mask[n].flatten().bool() for n in names])
    differ = (keep != ours).nonzero().flatten()
    threshold = flat[order[k - 1]].item() if k > 0 else 0.0
    near = [i for i in differ.tolist() if abs(flat[i].item() - threshold) <= 1e-5 * max(abs(threshold), 1e-30)]
    result = {"method": summary["method"], "kept": int(keep.sum()), "initprune_kept": int(ours.sum()),
              "differing": int(differ.numel()), "differing_near_threshold": len(near), "torch": torch.__version__}
    print(json.dumps(result))
    return 0 if len(near) == differ.numel() and int(keep.sum()) == int(ours.sum()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
