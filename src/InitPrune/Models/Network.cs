using InitPrune.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// One prunable tensor of a network: a masked layer's weight (or bias), or a BatchNorm's scale (or shift), and its
/// PyTorch-style name. A borrowed view: <see cref="Value"/> and <see cref="Mask"/> belong to the module and must not
/// be disposed.
/// </summary>
public sealed record PrunableTensor(string Name, IMaskedModule Layer, bool IsBias)
{
    public Tensor Value => IsBias ? Layer.Bias! : Layer.Weight;
    public Tensor? Mask => IsBias ? Layer.BiasMask : Layer.WeightMask;
    public long Count => Value.numel();

    /// <summary>True for a BatchNorm's scale or shift (pruned only with prune_batchnorm).</summary>
    public bool IsBatchNorm => Layer is MaskedBatchNorm2d;
    public void SetMask(Tensor? mask) => Layer.SetMask(mask, IsBias);
}

/// <summary>Helpers over any module built from <see cref="MaskedLayer"/>s.</summary>
public static class Network
{
    /// <summary>
    /// Prunable tensors in forward order (borrowed views of the modules): every masked layer's weight, and its bias
    /// when <paramref name="includeBiases"/>; with <paramref name="includeBatchNorm"/> also every BatchNorm's scale γ
    /// (and shift β with <paramref name="includeBiases"/>), as Synaptic-Flow's <c>masked_parameters</c> with
    /// <c>batchnorm=True</c>.
    /// </summary>
    public static List<PrunableTensor> Prunable(nn.Module model, bool includeBiases = false, bool includeBatchNorm = false)
    {
        var list = new List<PrunableTensor>();
        foreach (var (name, module) in MaskedModules(model))
        {
            if (module is MaskedBatchNorm2d && !includeBatchNorm) continue;
            list.Add(new PrunableTensor(Join(name, "weight"), module, false));
            if (includeBiases && module.Bias is not null) list.Add(new PrunableTensor(Join(name, "bias"), module, true));
        }
        return list;
    }

    /// <summary>Every tensor that carries a mask now (weights, biases, BatchNorm scales and shifts), in forward order.</summary>
    public static List<PrunableTensor> Masked(nn.Module model) =>
        [.. Prunable(model, includeBiases: true, includeBatchNorm: true).Where(t => t.Mask is not null)];

    /// <summary>Every module that can carry masks (masked layers and BatchNorms) with its module name, in forward order.</summary>
    public static IEnumerable<(string Name, IMaskedModule Module)> MaskedModules(nn.Module model) =>
        Modules(model).Prepend(("", model)).Where(m => m.Item2 is IMaskedModule).Select(m => (m.Item1, (IMaskedModule)m.Item2));

    /// <summary>True when the model has a BatchNorm whose scale and shift can be pruned.</summary>
    public static bool HasBatchNorm(nn.Module model) => MaskedModules(model).Any(m => m.Module is MaskedBatchNorm2d);

    /// <summary>All masked layers with their module names, in forward (registration) order; a bare layer is named "".</summary>
    public static IEnumerable<(string Name, MaskedLayer Layer)> Layers(nn.Module model) =>
        Modules(model).Prepend(("", model)).Where(m => m.Item2 is MaskedLayer).Select(m => (m.Item1, (MaskedLayer)m.Item2));

    /// <summary>
    /// Every submodule depth-first in registration order, as PyTorch's named_modules lists them (TorchSharp's
    /// named_modules goes breadth-first, which would list a VGG's classifier before its convolutions).
    /// </summary>
    public static IEnumerable<(string Name, nn.Module Module)> Modules(nn.Module model, string prefix = "")
    {
        foreach (var (name, child) in model.named_children())
        {
            var full = Join(prefix, name);
            yield return (full, child);
            foreach (var inner in Modules(child, full)) yield return inner;
        }
    }

    /// <summary>
    /// Parameters by PyTorch-style name (what safetensors files hold), borrowed: they are the model's own tensors,
    /// never to be disposed. <see cref="CloneStateDict"/> gives an owned copy.
    /// </summary>
    public static Dictionary<string, Tensor> StateDict(nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);

    /// <summary>
    /// Parameters and buffers (BatchNorm running statistics) by PyTorch-style name, in PyTorch's state_dict order, borrowed:
    /// what <c>model.state_dict()</c> holds in PyTorch, so a file of them loads with <c>strict=True</c>.
    /// </summary>
    public static Dictionary<string, Tensor> FullStateDict(nn.Module model) => model.state_dict();

    /// <summary>Detached copies of the parameters by PyTorch-style name, owned by the caller (e.g. to rewind to them).</summary>
    public static TensorDict CloneStateDict(nn.Module model) =>
        TensorDict.CloneOf(model.named_parameters().Select(p => KeyValuePair.Create(p.name, (Tensor)p.parameter)));

    /// <summary>
    /// Copies tensors into the model's parameters by name; every parameter must be present with its shape. Buffers
    /// (BatchNorm running statistics) are copied when present and keep their values otherwise.
    /// </summary>
    public static void LoadStateDict(nn.Module model, IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            if (!tensors.TryGetValue(name, out var t))
                throw new InitPruneException($"{source} has no tensor '{name}': it must hold every parameter of the model ({string.Join(", ", model.named_parameters().Select(q => q.name))})");
            if (!t.shape.SequenceEqual(p.shape))
                throw new InitPruneException($"{source}: '{name}' has shape [{string.Join(",", t.shape)}] but the model expects [{string.Join(",", p.shape)}]");
            using var converted = t.to(p.dtype, p.device);
            p.copy_(converted);
        }
        foreach (var (name, b) in model.named_buffers())
        {
            if (!tensors.TryGetValue(name, out var t)) continue;
            if (!t.shape.SequenceEqual(b.shape))
                throw new InitPruneException($"{source}: '{name}' has shape [{string.Join(",", t.shape)}] but the model expects [{string.Join(",", b.shape)}]");
            using var converted = t.to(b.dtype, b.device);
            b.copy_(converted);
        }
    }

    static string Join(string prefix, string leaf) => prefix.Length == 0 ? leaf : $"{prefix}.{leaf}";
}
