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

/// <summary>Boolean masks keyed by PyTorch-style parameter name (true = kept).</summary>
public sealed class Mask(Dictionary<string, Tensor> masks) : IDisposable
{
    public IReadOnlyDictionary<string, Tensor> Tensors => masks;

    public long Kept => masks.Values.Sum(m => m.count_nonzero().item<long>());
    public long Total => masks.Values.Sum(m => m.numel());
    public double Sparsity => Total == 0 ? 0 : 1.0 - (double)Kept / Total;

    /// <summary>The sparsity beyond which some tensor must be empty: every tensor keeps at least one entry up to 1 − (tensors)/total.</summary>
    public double MaxSparsityWithoutCollapse => Total == 0 ? 0 : 1.0 - (double)masks.Count / Total;

    /// <summary>Kept fraction of each output unit (row of a linear weight, output channel of a convolution), per tensor (seed 001 Fig. 1).</summary>
    public Dictionary<string, double[]> UnitKeptFractions() => masks.ToDictionary(kv => kv.Key, kv =>
    {
        using var perUnit = kv.Value.to(ScalarType.Float64).reshape(kv.Value.shape[0], -1).mean([1]);
        return perUnit.cpu().data<double>().ToArray();
    });

    public List<LayerReport> Report() =>
        [.. masks.Select(kv => new LayerReport(kv.Key, kv.Value.count_nonzero().item<long>(), kv.Value.numel()))];

    /// <summary>Installs the masks on the model's layers (pruned weights become exactly zero).</summary>
    public void ApplyTo(nn.Module model)
    {
        var prunable = Network.Prunable(model, includeBiases: true).ToDictionary(p => p.Name);
        foreach (var (name, m) in masks)
        {
            if (!prunable.TryGetValue(name, out var p))
                throw new Engine.InitPruneException($"the mask names '{name}', which is not a prunable tensor of this model ({string.Join(", ", prunable.Keys)}): was it made for another model?");
            if (!m.shape.SequenceEqual(p.Value.shape))
                throw new Engine.InitPruneException($"the mask for '{name}' has shape [{string.Join(",", m.shape)}] but the model's tensor is [{string.Join(",", p.Value.shape)}]: was it made for another model?");
            p.SetMask(m);
        }
    }

    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => Safetensors.Save(path, masks, metadata);

    /// <summary>Reads a mask file (bool, uint8 or float 0/1 tensors, as PyTorch code writes them).</summary>
    public static Mask Load(string path)
    {
        var raw = Safetensors.Load(path);
        return new Mask(raw.ToDictionary(kv => kv.Key, kv => kv.Value.dtype == ScalarType.Bool ? kv.Value : kv.Value.ne(0)));
    }

    public void Dispose()
    {
        foreach (var m in masks.Values) m.Dispose();
    }
}
