#!/usr/bin/env python3
"""PyTorch reference of pruning at initialization, for `bench --scoring --pytorch` (docs/benchmarks.md) and its mask tests.

Usage: scoring_bench.py --serve                 one JSON command per stdin line, one JSON answer per stdout line
       scoring_bench.py FOLDER METHOD... [--exact] [--masks=DIR] [--threads=N] [--repetitions=R]
FOLDER holds what ScoringBenchmark writes: weights.safetensors (θ₀ by PyTorch name, BatchNorm buffers too),
batch.safetensors (inputs, labels) and spec.json (targets in InitPrune's order, sparsity, temperature, iterations).
The network is rebuilt from the names and shapes (VGG: layers.{i}.conv[.bn], max-pooling at the index gaps; ResNet:
conv, bn, blocks.{i} with a 1×1 stride-2 shortcut where the file has one) with Synaptic-Flow's masked layers
(W ⊙ mask in every forward). Methods as Synaptic-Flow's Pruners/pruners.py and prune.py: random N(0, 1) scores,
magnitude |θ|, SNIP |∂L/∂mask| = |θ ⊙ ∂L/∂θ|, GraSP θ ⊙ Hg (logits / T, Hg by double backward), SynFlow |θ ⊙ ∂R/∂θ|
of the all-ones input on |θ| with the masks applied, n rounds on the exponential schedule. BatchNorm as InitPrune
scores: batch statistics for SNIP and GraSP, running statistics for SynFlow.
Reference mode (timing): float32, global threshold t = kthvalue(scores, int(s·N)), entries ≤ t pruned.
--exact (mask tests): InitPrune's definitions (docs/methods.md): GraSP and SynFlow in float64, earlier-pruned
entries score −1, keep round((1 − s)N) by a stable descending sort (ties to the earlier entry).
A timed call is one score + mask + apply, in-process (time.perf_counter).
"""
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from crosscheck import load  # noqa: E402


class MaskedConv2d(nn.Conv2d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("weight_mask", torch.ones_like(self.weight), persistent=False)

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.weight_mask, self.bias)


class MaskedLinear(nn.Linear):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("weight_mask", torch.ones_like(self.weight), persistent=False)

    def forward(self, x):
        return F.linear(x, self.weight * self.weight_mask, self.bias)


class ConvModule(nn.Module):
    def __init__(self, state, prefix):
        super().__init__()
        w = state[prefix + "conv.weight"]
        self.conv = MaskedConv2d(w.shape[1], w.shape[0], 3, 1, 1, bias=prefix + "conv.bias" in state)
        if prefix + "bn.weight" in state:
            self.bn = nn.BatchNorm2d(w.shape[0])
        self.act = nn.ReLU()

    def forward(self, x):
        x = self.conv(x)
        return self.act(self.bn(x) if hasattr(self, "bn") else x)


class Vgg(nn.Module):
    def __init__(self, state):
        super().__init__()
        convs = sorted({int(k.split(".")[1]) for k in state if k.startswith("layers.") and ".conv." in k})
        self.layers = nn.Sequential(*[ConvModule(state, f"layers.{i}.") if i in convs else nn.MaxPool2d(2, 2) for i in range(convs[-1] + 1)])
        self.fc = linear(state)

    def forward(self, x):
        return self.fc(self.layers(x).mean([2, 3]))


class BasicBlock(nn.Module):
    def __init__(self, state, prefix):
        super().__init__()
        w1, w2 = state[prefix + "conv1.weight"], state[prefix + "conv2.weight"]
        down = prefix + "shortcut.0.weight" in state
        self.conv1 = MaskedConv2d(w1.shape[1], w1.shape[0], 3, 2 if down else 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w1.shape[0])
        self.conv2 = MaskedConv2d(w2.shape[1], w2.shape[0], 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(w2.shape[0])
        if down:
            self.shortcut = nn.Sequential(MaskedConv2d(w1.shape[1], w1.shape[0], 1, 2, 0, bias=False), nn.BatchNorm2d(w1.shape[0]))
        self.act = nn.ReLU()

    def forward(self, x):
        branch = self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))
        return self.act((self.shortcut(x) if hasattr(self, "shortcut") else x) + branch)


class ResNet(nn.Module):
    def __init__(self, state):
        super().__init__()
        w = state["conv.weight"]
        self.conv = MaskedConv2d(w.shape[1], w.shape[0], 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(w.shape[0])
        self.act = nn.ReLU()
        count = len({k.split(".")[1] for k in state if k.startswith("blocks.")})
        self.blocks = nn.Sequential(*[BasicBlock(state, f"blocks.{i}.") for i in range(count)])
        self.fc = linear(state)

    def forward(self, x):
        return self.fc(self.blocks(self.act(self.bn(self.conv(x)))).mean([2, 3]))


def linear(state):
    w = state["fc.weight"]
    return MaskedLinear(w.shape[1], w.shape[0], bias="fc.bias" in state)


class Bench:
    """One network loaded from FOLDER; every timed call starts from θ₀ with all masks one."""

    def __init__(self, folder):
        folder = Path(folder)
        self.spec = json.loads((folder / "spec.json").read_text())
        self.state = load(folder / "weights.safetensors")
        batch = load(folder / "batch.safetensors")
        self.x, self.y = batch["inputs"], batch["labels"].long()
        self.model = (ResNet if "conv.weight" in self.state else Vgg)(self.state)
        modules = dict(self.model.named_modules())
        self.targets = [(name, modules[name.rsplit(".", 1)[0]]) for name in self.spec["targets"]]

    def reset(self, dtype):
        self.model.to(dtype)
        self.model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in self.state.items()}, strict=True)
        for _, m in self.targets:
            m.weight_mask.fill_(1)
        self.model.zero_grad(set_to_none=True)

    def params(self):
        return [m.weight for _, m in self.targets]

    def loss(self, temperature=1.0):
        out = self.model(self.x.to(self.params()[0].dtype))
        return F.cross_entropy(out / temperature if temperature != 1.0 else out, self.y)

    def scores(self, method, exact):
        ps = self.params()
        if method == "random":
            return [torch.randn_like(p) for p in ps]
        if method == "magnitude":
            return [p.detach().abs() for p in ps]
        if method == "snip":
            self.model.train()
            masks = [m.weight_mask for _, m in self.targets]
            for m in masks:
                m.requires_grad_(True)
            self.loss().backward()
            out = [m.grad.detach().abs() for m in masks]
            for m in masks:
                m.requires_grad_(False)
                m.grad = None
            return out
        if method == "grasp":
            self.model.train()
            t = self.spec["temperature"]
            g = [d.detach() for d in torch.autograd.grad(self.loss(t), ps)]
            grads = torch.autograd.grad(self.loss(t), ps, create_graph=True)
            hg = torch.autograd.grad(sum((a * b).sum() for a, b in zip(grads, g)), ps)
            return [(h * p).detach() for h, p in zip(hg, ps)]
        raise ValueError(f"unknown method {method}")

    def synflow(self, exact):
        """n rounds: apply the masks, score |θ ⊙ ∂R/∂θ| on |θ|, keep the top (1 − s)^{k/n}; signs restored after."""
        self.model.eval()
        n, s = self.spec["synflow_iterations"], self.spec["sparsity"]
        with torch.no_grad():
            signs = {k: torch.sign(v) for k, v in self.model.state_dict().items() if v.is_floating_point()}
            for k, v in self.model.state_dict().items():
                if k in signs:
                    v.abs_()
        ones = torch.ones([1] + list(self.x.shape[1:]), dtype=self.params()[0].dtype)
        for k in range(1, n + 1):
            with torch.no_grad():
                for _, m in self.targets:
                    m.weight.mul_(m.weight_mask)
            self.model.zero_grad(set_to_none=True)
            self.model(ones).sum().backward()
            with torch.no_grad():
                scores = [(m.weight * m.weight.grad).abs() for _, m in self.targets]
                if exact and k > 1:
                    for sc, (_, m) in zip(scores, self.targets):
                        sc.masked_fill_(m.weight_mask == 0, -1)
            self.mask(scores, s if k == n else 1 - (1 - s) ** (k / n), exact)
        with torch.no_grad():
            for k, v in self.model.state_dict().items():
                if k in signs:
                    v.mul_(signs[k])

    def mask(self, scores, sparsity, exact):
        flat = torch.cat([sc.flatten() for sc in scores])
        with torch.no_grad():
            if exact:
                keep = torch.zeros(flat.numel(), dtype=torch.bool)
                keep[torch.sort(flat.double(), descending=True, stable=True).indices[:int(math.floor((1 - sparsity) * flat.numel() + 0.5))]] = True
                offset = 0
                for sc, (_, m) in zip(scores, self.targets):
                    m.weight_mask.copy_(keep[offset:offset + sc.numel()].view_as(sc))
                    offset += sc.numel()
                return
            k = int(sparsity * flat.numel())
            if k < 1:
                return
            threshold = torch.kthvalue(flat, k).values
            for sc, (_, m) in zip(scores, self.targets):
                m.weight_mask.copy_(torch.where(sc <= threshold, 0.0, 1.0))

    def prune(self, method, exact):
        """Seconds to score, mask and apply the mask (one call), starting from θ₀."""
        wide = exact and method in ("grasp", "synflow")
        self.reset(torch.float64 if wide else torch.float32)
        start = time.perf_counter()
        if method == "synflow":
            self.synflow(exact)
        else:
            self.mask(self.scores(method, exact), self.spec["sparsity"], exact)
        with torch.no_grad():
            for _, m in self.targets:
                m.weight.mul_(m.weight_mask)
        return time.perf_counter() - start

    def pass_seconds(self, exact):
        """One SynFlow pass: forward of the all-ones input (batch 1) in eval mode, backward of its sum."""
        self.reset(torch.float64 if exact else torch.float32)
        self.model.eval()
        ones = torch.ones([1] + list(self.x.shape[1:]), dtype=self.params()[0].dtype)
        start = time.perf_counter()
        self.model(ones).sum().backward()
        return time.perf_counter() - start

    def kept(self):
        return int(sum(int(m.weight_mask.sum()) for _, m in self.targets))

    def save_masks(self, path):
        from optim_step import save  # the mask tests' files only; the CLI ships without optim_step.py
        save(path, {name: m.weight_mask.float() for name, m in self.targets})


def serve():
    """Commands: {"load": FOLDER, "threads": N}, {"method": M, "exact": false} (one timed prune), {"pass": true}."""
    bench = None
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if "load" in cmd:
            torch.set_num_threads(int(cmd["threads"]))
            bench = Bench(cmd["load"])
            answer = {"loaded": cmd["load"], "threads": torch.get_num_threads(), "torch": torch.__version__}
        elif "pass" in cmd:
            answer = {"seconds": bench.pass_seconds(cmd.get("exact", False))}
        else:
            answer = {"method": cmd["method"], "seconds": bench.prune(cmd["method"], cmd.get("exact", False)), "kept": bench.kept()}
        print(json.dumps(answer), flush=True)
    return 0


def main(argv):
    if argv == ["--serve"]:
        return serve()
    options = {"threads": str(torch.get_num_threads()), "repetitions": "1"}
    positional = []
    for a in argv:
        if a.startswith("--"):
            key, _, value = a[2:].partition("=")
            options[key] = value or "1"
        else:
            positional.append(a)
    torch.set_num_threads(int(options["threads"]))
    bench = Bench(positional[0])
    exact = "exact" in options
    out = []
    for method in positional[1:]:
        times = [bench.prune(method, exact) for _ in range(int(options["repetitions"]))]
        out.append({"method": method, "seconds": statistics.median(times), "kept": bench.kept()})
        if "masks" in options:
            bench.save_masks(Path(options["masks"]) / f"{method}.safetensors")
    out.append({"method": "pass", "seconds": bench.pass_seconds(exact)})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
