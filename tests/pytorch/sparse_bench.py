#!/usr/bin/env python3
"""Time PyTorch's torch.sparse_csr_tensor on InitPrune sparse model files (docs/inference.md), for `bench --inference --pytorch`.

Usage: sparse_bench.py [--batches=1,256] [--threads=1,N] [--repetitions=101] [--seconds=1.5] MODEL...
Each file is rebuilt from the file alone (every CSR layer as torch.sparse_csr_tensor, dense ones as tensors) and run
feature-major by sparse_model.py's build and forward: h = W @ h + b, activation after every layer but the last, under no_grad.
Median seconds of one forward pass per file, batch and thread count (one warm-up; at most --repetitions timings,
stopping after --seconds but never below 3). Prints one JSON list of {file, batch, threads, seconds, torch}.
"""
import json
import math
import statistics
import sys
import time

import torch

from sparse_model import build, forward


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
            arch, layers, _ = build(path)
            inputs = math.prod(arch["input_shape"])
            for batch in batches:
                x = torch.rand(batch, inputs)
                for t in threads:
                    torch.set_num_threads(t)
                    s = median_seconds(lambda: forward(arch, layers, x), repetitions, seconds)
                    out.append({"file": path, "batch": batch, "threads": t, "seconds": s, "torch": torch.__version__})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
