using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>Per-tensor count of kept weights.</summary>
public sealed record LayerReport(string Name, long Kept, long Total)
{
    public double KeptFraction => Total == 0 ? 0 : (double)Kept / Total;
    public bool Collapsed => Kept == 0;
}

/// <summary>Boolean masks keyed by PyTorch-style parameter name (true = kept); the mask owns its tensors.</summary>
public sealed class Mask(TensorDict masks) : IDisposable
{
    /// <summary>The mask tensors, borrowed: valid until the mask is disposed.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors => masks;

    public long Kept => masks.Values.Sum(CountNonzero);
    public long Total => masks.Values.Sum(m => m.numel());
    public double Sparsity => Total == 0 ? 0 : 1.0 - (double)Kept / Total;

    /// <summary>The sparsity beyond which some tensor must be empty: every tensor keeps at least one entry up to 1 − (tensors)/total.</summary>
    public double MaxSparsityWithoutCollapse => Total == 0 ? 0 : 1.0 - (double)masks.Count / Total;

    /// <summary>Kept fraction of each output unit (row of a linear weight, output channel of a convolution), per tensor (seed 001 Fig. 1).</summary>
    public Dictionary<string, double[]> UnitKeptFractions() => masks.ToDictionary(kv => kv.Key, kv =>
    {
        using var scope = NewDisposeScope();
        var perUnit = kv.Value.to(ScalarType.Float64).reshape(kv.Value.shape[0], -1).mean([1]);
        return perUnit.cpu().data<double>().ToArray();
    });

    public List<LayerReport> Report() =>
        [.. masks.Select(kv => new LayerReport(kv.Key, CountNonzero(kv.Value), kv.Value.numel()))];

    /// <summary>Number of nonzero (kept) entries, without leaving the count tensor to the finalizer.</summary>
    internal static long CountNonzero(Tensor t)
    {
        using var n = t.count_nonzero();
        return n.item<long>();
    }

    /// <summary>The file the masks were read from, for messages (null when computed).</summary>
    public string? Source { get; init; }

    /// <summary>
    /// Installs the masks on the model's layers (pruned weights become exactly zero). Every mask must name a prunable
    /// tensor of the model (a weight or a bias, a BatchNorm's scale or shift) and have its shape; all are checked before any is installed.
    /// </summary>
    public void ApplyTo(nn.Module model)
    {
        var prunable = Network.Prunable(model, includeBiases: true, includeBatchNorm: true).ToDictionary(p => p.Name);
        var from = Source is null ? "the mask" : $"the mask file {Source}";
        foreach (var (name, m) in masks)
        {
            if (!prunable.TryGetValue(name, out var p))
                throw new InitPruneException($"{from} names '{name}', which is not a prunable tensor of this model ({string.Join(", ", prunable.Keys)}): was it made for another model?");
            if (!m.shape.SequenceEqual(p.Value.shape))
                throw new InitPruneException($"{from} has shape [{string.Join(",", m.shape)}] for '{name}' but the model's tensor is [{string.Join(",", p.Value.shape)}]: was it made for another model?");
        }
        foreach (var (name, m) in masks) prunable[name].SetMask(m);
    }

    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => Safetensors.Save(path, masks, metadata);

    /// <summary>Writes the masks as <paramref name="format"/> to <paramref name="folder"/>/<paramref name="stem"/> plus its extension; returns the file name.</summary>
    public string Save(string folder, string stem, SaveFormat format, IReadOnlyDictionary<string, string>? metadata = null) =>
        TensorFile.Save(folder, stem, masks, format, metadata);

    /// <summary>
    /// Reads a mask file (safetensors or PyTorch .pt): bool tensors, or numeric tensors holding only 0 and 1 (as PyTorch
    /// code writes them, e.g. open_lth's mask.pth). A state_dict that carries masks (torch.nn.utils.prune's
    /// <c>X.weight_mask</c> beside <c>X.weight_orig</c>, Synaptic-Flow's beside <c>X.weight</c>, open_lth PrunedModel's <c>mask_X___weight</c>) gives those masks, named
    /// <c>X.weight</c>. Anything else (other values, NaN, no tensors at all: a weights or scores file) is a one-line
    /// error naming the tensor.
    /// </summary>
    public static Mask Load(string path)
    {
        using var split = StateDictLayout.Read(path, "mask file");
        var raw = split.Masks.Count > 0 ? split.Masks : split.Weights;
        return FromTensors(raw, path);
    }

    /// <summary>The masks a weights file carries (torch.nn.utils.prune or Synaptic-Flow layout), or null when it carries none.</summary>
    public static Mask? Embedded(string path)
    {
        using var split = StateDictLayout.Read(path);
        return split.Masks.Count > 0 ? FromTensors(split.Masks, path) : null;
    }

    /// <summary>Checks and converts <paramref name="raw"/> (whose bool tensors are taken over) into a mask.</summary>
    static Mask FromTensors(TensorDict raw, string path)
    {
        if (raw.Count == 0)
            throw new InitPruneException($"{path} holds no tensors, so it is not a mask: pass the mask.safetensors that prune wrote");
        using var masks = new TensorDict();
        // Bool tensors move from the file's collection to the mask; numeric originals stay in raw and are freed with it.
        foreach (var name in raw.Keys.Order(StringComparer.Ordinal).ToList())
            masks.Add(name, raw[name].dtype == ScalarType.Bool ? raw.Take(name) : ToBool(raw[name], name, path));
        return new Mask(masks.TakeAll()) { Source = path };
    }

    /// <summary>The bool mask of a numeric 0/1 tensor; throws naming the first entry that is neither 0 nor 1.</summary>
    static Tensor ToBool(Tensor t, string name, string path)
    {
        using var scope = NewDisposeScope();
        var flat = t.flatten();
        var valid = flat.eq(0).logical_or(flat.eq(1));
        if (!valid.all().item<bool>())
        {
            long index = valid.logical_not().nonzero()[0, 0].item<long>();
            double value = flat[index].to(ScalarType.Float64).item<double>();
            throw new InitPruneException(
                $"{path}: mask tensor '{name}' holds {value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} at flat index {index}: " +
                "a mask holds only 0 and 1 (or bool), so this is not a mask (weights or scores?); pass the mask.safetensors that prune wrote");
        }
        return t.ne(0).MoveToOuterDisposeScope();
    }

    public void Dispose() => masks.Dispose();
}
