#!/usr/bin/env python3
"""Rebuild an InitPrune sparse model file in PyTorch from the file alone, and compare its outputs with InitPrune's.

Usage: sparse_model.py MODEL INPUTS OUTPUTS
MODEL is a model.sparse.safetensors `initprune export` wrote (docs/inference.md); INPUTS holds `inputs` [n, ...]
and OUTPUTS holds `outputs` [n, classes], the logits InitPrune's sparse kernels computed. Every CSR layer becomes
torch.sparse_csr_tensor(crow_indices, col_indices, values, size); its layout must equal what to_sparse_csr() gives
for the same dense matrix. A conv net (family pooled-convnet) runs each convolution as that matrix times
F.unfold of the (zero- or circularly) padded input, 2x2 max-pooling where pool_before says, global average
pooling and the classifier. A Conv-n (family convnet-linear-head) runs its convolutions the same way, a 2x2
max-pooling after the last when pool_after, then flattens (C, H, W) into its linear layers. A ResNet (family resnet) runs its stem convolution, then per block
act(shortcut(x) + conv2(act(conv1(x)))) with the shortcut the identity, option A (x[:, :, ::s, ::s], dense
channel c on channel c + zero_channels_before, matched through the kept_channels of the stream and of conv2) or option B (the projection convolution), then global
average pooling and the classifier (BatchNorm and the branch scale are already in the weights). Prints one JSON line; exits 0 when the outputs agree within 1e-4 (relative to their scale).
"""
import json
import struct
import sys

import torch
import torch.nn.functional as F

from crosscheck import load

ACTIVATIONS = {
    "relu": F.relu, "tanh": torch.tanh, "elu": F.elu, "leaky_relu": lambda x: F.leaky_relu(x, 0.01), "selu": F.selu,
    "gelu": F.gelu, "softplus": F.softplus, "sigmoid": torch.sigmoid, "linear": lambda x: x,
}


def metadata(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))["__metadata__"]


def matrix(tensors, info, size, layout_errors):
    """A layer's weight as a [rows, columns] matrix: torch.sparse_csr_tensor for CSR storage, else dense."""
    name = info["name"]
    if info["storage"] == "csr":
        crow, col, values = (tensors[f"{name}.{k}"] for k in ("crow_indices", "col_indices", "values"))
        weight = torch.sparse_csr_tensor(crow, col, values, size=size)
        canonical = weight.to_dense().to_sparse_csr()
        if not (torch.equal(canonical.crow_indices(), crow) and torch.equal(canonical.col_indices(), col)
                and torch.equal(canonical.values(), values)):
            layout_errors.append(name)
        return weight
    weight = tensors[f"{name}.weight"]
    assert weight.numel() == size[0] * size[1], (name, weight.shape, size)
    return weight.reshape(size)


def build(path):
    meta = metadata(path)
    assert meta["format"] == "initprune-sparse" and meta["format_version"] == "1", meta
    arch = json.loads(meta["architecture"])
    tensors = load(path)
    layers, layout_errors = [], []
    if arch["family"] == "mlp":
        infos = arch["layers"]
    elif arch["family"] == "convnet-linear-head":
        infos = arch["convs"] + arch["layers"]
    elif arch["family"] == "resnet":
        infos = [arch["stem"]] + [c for b in arch["blocks"] for c in (b["conv1"], b["conv2"], b["projection"]) if c] + [arch["classifier"]]
    else:
        infos = arch["convs"] + [arch["classifier"]]
    for info in infos:
        if "kernel_size" in info:
            size = (info["out_channels"], info["in_channels"] * info["kernel_size"] ** 2)
        else:
            size = (info["out_features"], info["in_features"])
        weight = matrix(tensors, info, size, layout_errors)
        bias = tensors.get(f"{info['name']}.bias") if info["bias"] else None
        layers.append((weight, bias, info))
    return arch, layers, layout_errors


def conv(weight, bias, info, x):
    """x [n, c, h, w] → [n, out, h', w']: the weight matrix times the im2col (F.unfold) matrix of the padded input."""
    k, p, s = info["kernel_size"], info["padding"], info["stride"]
    if info["pool_before"]:
        x = F.max_pool2d(x, 2, 2)
    n, _, h, w = x.shape
    x = F.pad(x, (p, p, p, p), mode="circular" if info["padding_mode"] == "circular" else "constant")
    cols = F.unfold(x, k, stride=s)  # [n, c·k·k, L]
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = torch.matmul(weight, cols.transpose(0, 1).reshape(cols.shape[1], -1))  # [out, n·L]
    if bias is not None:
        out = out + bias[:, None]
    return out.reshape(-1, n, ho, wo).transpose(0, 1)


def resnet(arch, layers, x, phi):
    """Stem, residual blocks, global average pooling: [n, C, H, W] → [n, channels]."""
    by_name = {info["name"]: (weight, bias, info) for weight, bias, info in layers}
    x = phi(conv(*by_name[arch["stem"]["name"]], x))
    stream = arch["stem"]["kept_channels"]  # the stream's channels by their index in the dense network
    for block in arch["blocks"]:
        y = conv(*by_name[block["conv2"]["name"]], phi(conv(*by_name[block["conv1"]["name"]], x)))
        if block["shortcut"] == "b":
            shortcut = conv(*by_name[block["projection"]["name"]], x)
        else:
            s = block["conv1"]["stride"]
            # Dense channel c lands on c + zero_channels_before; channels removed on either side take nothing.
            position = {c + block["zero_channels_before"]: i for i, c in enumerate(stream)}
            sub = x[:, :, ::s, ::s]
            shortcut = torch.stack([sub[:, position[o]] if o in position else torch.zeros_like(sub[:, 0])
                                    for o in block["conv2"]["kept_channels"]], 1)
        x = phi(shortcut + y)
        stream = block["conv2"]["kept_channels"]
    return x.mean((2, 3))


def forward(arch, layers, x):
    phi = ACTIVATIONS[arch["activation"]]
    if arch["family"] == "resnet":
        x = resnet(arch, layers, x.reshape(-1, *arch["input_shape"]), phi)
        layers = layers[-1:]
    elif arch["family"] == "convnet-linear-head":
        x = x.reshape(-1, *arch["input_shape"])
        for weight, bias, info in layers[:len(arch["convs"])]:
            x = phi(conv(weight, bias, info, x))
        if arch["pool_after"]:
            x = F.max_pool2d(x, 2, 2)
        layers = layers[len(arch["convs"]):]
    elif arch["family"] != "mlp":
        x = x.reshape(-1, *arch["input_shape"])
        for weight, bias, info in layers[:-1]:
            x = phi(conv(weight, bias, info, x))
        layers = layers[-1:]
        x = x.mean((2, 3))
    h = x.flatten(1).t()  # features × batch: W @ h is sparse × dense
    for weight, bias, info in layers:
        h = torch.matmul(weight, h)
        if bias is not None:
            h = h + bias[:, None]
        if info["activation"]:
            h = phi(h)
    return h.t()


def main(model, inputs, outputs):
    arch, layers, layout_errors = build(model)
    x = load(inputs)["inputs"].float()
    expected = load(outputs)["outputs"]
    got = forward(arch, layers, x)
    scale = max(1.0, float(expected.abs().max()))
    diff = float((got - expected).abs().max()) / scale
    same_argmax = int((got.argmax(1) == expected.argmax(1)).sum())
    print(json.dumps({"max_relative_diff": diff, "same_argmax": same_argmax, "n": x.shape[0], "layout_errors": layout_errors,
                      "csr_layers": sum(1 for _, _, l in layers if l["storage"] == "csr"), "torch": torch.__version__}))
    return 0 if diff <= 1e-4 and not layout_errors and same_argmax == x.shape[0] else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
