"""Reference for InitPrune's optimizers and smoothed loss, computed by PyTorch itself.

optim_step.py IN.safetensors OUT.safetensors
IN holds p.i (parameters), g.k.i (gradient of parameter i at step k), lr.k (the step's rate) and, in its metadata,
the optimizer and its hyper-parameters; or logits, targets and metadata label_smoothing for the loss.
OUT holds p.i after the steps (torch.optim.X), or loss (F.cross_entropy(label_smoothing=)).
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F64": np.float64, "F32": np.float32, "I64": np.int64}
NAMES = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}


def load(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=DTYPES[info["dtype"]])
        out[name] = torch.from_numpy(raw.copy().reshape(info["shape"]))
    return out, meta


def save(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().contiguous().numpy()
        b = a.tobytes()
        header[name] = {"dtype": NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    Path(path).write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main(src, dst):
    t, meta = load(src)
    if "logits" in t:
        loss = F.cross_entropy(t["logits"], t["targets"], label_smoothing=float(meta["label_smoothing"]))
        save(dst, {"loss": loss.reshape(1)})
        return
    params = [torch.nn.Parameter(t[f"p.{i}"].clone()) for i in range(int(meta["parameters"]))]
    wd = float(meta["weight_decay"])
    kind = meta["optimizer"]
    if kind in ("adam", "adamw"):
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        opt = cls(params, lr=1.0, betas=(float(meta["beta1"]), float(meta["beta2"])), eps=float(meta["eps"]), weight_decay=wd)
    elif kind == "rmsprop":
        opt = torch.optim.RMSprop(params, lr=1.0, alpha=float(meta["alpha"]), eps=float(meta["eps"]), weight_decay=wd)
    else:
        raise SystemExit(f"unknown optimizer {kind}")
    for k in range(int(meta["steps"])):
        for g in opt.param_groups:
            g["lr"] = float(t[f"lr.{k}"].item())
        for i, p in enumerate(params):
            p.grad = t[f"g.{k}.{i}"].clone()
        opt.step()
    save(dst, {f"p.{i}": p for i, p in enumerate(params)})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
