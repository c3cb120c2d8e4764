#!/usr/bin/env python3
"""PyTorch's side of InitPrune's file interop tests (Debian's python3-torch).

Usage: interop.py COMMAND ARGS...
  save-mlp DIR            torch.save(state_dict) of a 2-16-16-4 MLP named as InitPrune names it -> DIR/torch.pt, values -> DIR/values.json
  save-torch-prune DIR    the same MLP pruned with torch.nn.utils.prune.random_unstructured (50%) -> DIR/pruned.pt,
                          its effective weights (weight_orig * weight_mask) and masks -> DIR/values.json
  save-open-lth DIR       the same MLP as an open_lth PrunedModel state_dict (model.X + mask_X with . as ___, random 50% masks)
                          -> DIR/pruned.pt, values as save-torch-prune
  check-mlp FILE          FILE (InitPrune's .pt or .safetensors) loads into the MLP with strict=True
  check-torch-prune FILE PLAIN BATCH
                          FILE loads strictly into the MLP after prune.identity on every Linear; its outputs on BATCH's
                          inputs equal those of the plain MLP loaded (strictly) from PLAIN
  check-bn FILE BATCH     FILE loads strictly into a VGG-BN built from FILE's shapes; in eval mode its outputs on BATCH's
                          "inputs" equal BATCH's "outputs" (InitPrune's, eval mode) to 1e-5
  save-formats DIR        files InitPrune does not read: legacy.pt, script.pt, array.npy, arrays.npz
Prints one JSON line; exits non-zero on any mismatch.
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils import prune

sys.path.insert(0, str(Path(__file__).parent))
from crosscheck import load as load_safetensors  # noqa: E402


def read(path):
    path = str(path)
    return load_safetensors(path) if path.endswith(".safetensors") else torch.load(path)


def mlp():
    torch.manual_seed(7)
    model = nn.Module()
    model.layers = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
    return model


def values(state):
    return {k: v.detach().double().flatten().tolist() for k, v in state.items()}


def save_mlp(folder):
    folder = Path(folder)
    model = mlp()
    torch.save(model.state_dict(), folder / "torch.pt")
    (folder / "values.json").write_text(json.dumps(values(model.state_dict())))
    print(json.dumps({"saved": sorted(model.state_dict())}))


def save_torch_prune(folder):
    folder = Path(folder)
    model = mlp()
    torch.manual_seed(11)
    for i in (0, 2, 4):
        prune.random_unstructured(model.layers[i], "weight", amount=0.5)
    state = model.state_dict()
    torch.save(state, folder / "pruned.pt")
    effective = {f"layers.{i}.weight": model.layers[i].weight for i in (0, 2, 4)}
    effective.update({f"layers.{i}.bias": model.layers[i].bias for i in (0, 2, 4)})
    masks = {f"layers.{i}.weight": model.layers[i].weight_mask for i in (0, 2, 4)}
    (folder / "values.json").write_text(json.dumps({"weights": values(effective), "masks": values(masks)}))
    print(json.dumps({"saved": sorted(state)}))


class PrunedModel(nn.Module):
    """open_lth's pruning/pruned_model.py naming: the model under `model`, a buffer `mask_` + name with '.' -> '___'."""

    def __init__(self, model, masks):
        super().__init__()
        self.model = model
        for name, m in masks.items():
            self.register_buffer("mask_" + name.replace(".", "___"), m)
        for name, p in self.model.named_parameters():
            if name in masks:
                p.data *= masks[name]


def save_open_lth(folder):
    folder = Path(folder)
    model = mlp()
    gen = torch.Generator().manual_seed(12)
    masks = {f"layers.{i}.weight": (torch.rand(model.layers[i].weight.shape, generator=gen) < 0.5).float() for i in (0, 2, 4)}
    pruned = PrunedModel(model, masks)
    state = pruned.state_dict()
    torch.save(state, folder / "pruned.pt")
    effective = {name: p for name, p in model.named_parameters()}
    (folder / "values.json").write_text(json.dumps({"weights": values(effective), "masks": values(masks)}))
    print(json.dumps({"saved": sorted(state)}))


def check_mlp(path):
    model = mlp()
    model.load_state_dict(read(path), strict=True)
    print(json.dumps({"strict": True, "file": str(path)}))


def check_torch_prune(path, plain, batch):
    pruned = mlp()
    for i in (0, 2, 4):
        prune.identity(pruned.layers[i], "weight")
    pruned.load_state_dict(read(path), strict=True)
    reference = mlp()
    reference.load_state_dict(read(plain), strict=True)
    x = read(batch)["inputs"].float().flatten(1)
    with torch.no_grad():
        a, b = pruned.layers(x), reference.layers(x)
    if not torch.equal(a, b):
        raise SystemExit(f"outputs differ by {(a - b).abs().max().item()}")
    print(json.dumps({"strict": True, "equal_outputs": True, "pruned": sum(int((m.weight_mask == 0).sum()) for m in pruned.layers if hasattr(m, "weight_mask"))}))


class ConvModule(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Vgg(nn.Module):
    def __init__(self, state):
        super().__init__()
        convs = {int(k.split(".")[1]): v for k, v in state.items() if k.startswith("layers.") and k.endswith(".conv.weight")}
        modules = [ConvModule(convs[i].shape[1], convs[i].shape[0]) if i in convs else nn.MaxPool2d(2, 2) for i in range(max(convs) + 1)]
        self.layers = nn.Sequential(*modules)
        self.fc = nn.Linear(state["fc.weight"].shape[1], state["fc.weight"].shape[0])

    def forward(self, x):
        return self.fc(self.layers(x).mean([2, 3]))


def check_bn(path, batch):
    state = read(path)
    model = Vgg(state)
    model.load_state_dict(state, strict=True)
    model.eval()
    data = read(batch)
    with torch.no_grad():
        out = model(data["inputs"].float())
    diff = (out - data["outputs"].float()).abs().max().item()
    if diff > 1e-5:
        raise SystemExit(f"eval outputs differ by {diff}")
    print(json.dumps({"strict": True, "max_diff": diff, "buffers": sorted(k for k in state if "running" in k or "num_batches" in k)[:3]}))


def save_formats(folder):
    folder = Path(folder)
    state = {"w": torch.ones(2, 2)}
    torch.save(state, folder / "legacy.pt", _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), str(folder / "script.pt"))
    np.save(folder / "array.npy", np.ones(3))
    np.savez(folder / "arrays.npz", a=np.ones(3))
    print(json.dumps({"saved": True}))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"save-mlp": save_mlp, "save-torch-prune": save_torch_prune, "save-open-lth": save_open_lth,
     "check-mlp": check_mlp, "check-torch-prune": check_torch_prune,
     "check-bn": check_bn, "save-formats": save_formats}[command](*args)
