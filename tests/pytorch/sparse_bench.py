#!/usr/bin/env python3
"""Time PyTorch's torch.sparse_csr_tensor on InitPrune sparse model files (docs/inference.md), for `bench --inference --pytorch`.

Usage: sparse_bench.py [--batches=1,256] [--threads=1,N] [--repetitions=101] [--seconds=1.5] MODEL...
Each file is rebuilt from the file alone (every CSR layer as torch.sparse_csr_tensor, dense ones as tensors) and run
feature-major as in sparse_model.py: h = W @ h + b, activation after every layer but the last, under no_grad.
Median seconds of one forward pass per file, batch and thread count (one warm-up; at most --repetitions timings,
stopping after --seconds but never below 3). Prints one JSON list of {file, batch, threads, seconds, torch}.
"""
import json
import statistics
import struct
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F32": np.float32, "I64": np.int64}
ACTIVATIONS = {
    "relu": F.relu, "tanh": torch.tanh, "elu": F.elu, "leaky_relu": lambda x: F.leaky_relu(x, 0.01), "selu": F.selu,
    "gelu": F.gelu, "softplus": F.softplus, "sigmoid": torch.sigmoid, "linear": lambda x: x,
}


def load(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=DTYPES[info["dtype"]])
        tensors[name] = torch.from_numpy(raw.copy().reshape(info["shape"]))
    return header["__metadata__"], tensors


def build(path):
    meta, tensors = load(path)
    assert meta["format"] == "initprune-sparse" and meta["format_version"] == "1", meta
    arch = json.loads(meta["architecture"])
    layers = []
    for info in arch["layers"]:
        name, size = info["name"], (info["out_features"], info["in_features"])
        if info["storage"] == "csr":
            crow, col, values = (tensors[f"{name}.{k}"] for k in ("crow_indices", "col_indices", "values"))
            weight = torch.sparse_csr_tensor(crow, col, values, size=size)
        else:
            weight = tensors[f"{name}.weight"]
        bias = tensors[f"{name}.bias"][:, None] if info["bias"] else None
        layers.append((weight, bias, info["activation"]))
    return arch, layers


def forward(phi, layers, x):
    h = x.t()
    for weight, bias, activate in layers:
        h = torch.matmul(weight, h)
        if bias is not None:
            h = h + bias
        if activate:
            h = phi(h)
    return h.t()


def median_seconds(step, repetitions, seconds):
    step()
    times = []
    start = time.perf_counter()
    while len(times) < repetitions and (len(times) < 3 or time.perf_counter() - start < seconds):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv):
    options = {"batches": "1,256", "threads": f"1,{torch.get_num_threads()}", "repetitions": "101", "seconds": "1.5"}
    files = []
    for a in argv:
        if a.startswith("--"):
            key, _, value = a[2:].partition("=")
            options[key] = value
        else:
            files.append(a)
    batches = [int(b) for b in options["batches"].split(",")]
    threads = [int(t) for t in options["threads"].split(",")]
    repetitions, seconds = int(options["repetitions"]), float(options["seconds"])
    out = []
    with torch.no_grad():
        for path in files:
            arch, layers = build(path)
            phi = ACTIVATIONS[arch["activation"]]
            inputs = layers[0][0].shape[1]
            for batch in batches:
                x = torch.rand(batch, inputs)
                for t in threads:
                    torch.set_num_threads(t)
                    s = median_seconds(lambda: forward(phi, layers, x), repetitions, seconds)
                    out.append({"file": path, "batch": batch, "threads": t, "seconds": s, "torch": torch.__version__})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
