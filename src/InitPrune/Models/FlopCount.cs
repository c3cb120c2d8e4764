using System.Text.Json.Serialization;
using InitPrune.Engine;
using static TorchSharp.torch;

namespace InitPrune.Models;

/// <summary>
/// One weight layer's cost per sample. MACs are multiply-accumulates of the weight (linear: in × out; convolution:
/// k·k·c_in·c_out·H_out·W_out); the kept MACs count only the kept weights (kept × output positions), what a sparse
/// kernel executes. Bytes: the weight read dense (<see cref="DenseWeightBytes"/>) or as CSR over its rows
/// (<see cref="SparseWeightBytes"/>: each kept value and its 32-bit column index, and rows + 1 32-bit row pointers),
/// and the activations read and written (<see cref="ActivationBytes"/>, the same either way). Biases, BatchNorm,
/// activations, pooling and residual additions are not counted.
/// </summary>
public sealed record LayerFlops(
    string Name,
    string Kind,
    long[] InputShape,
    long[] OutputShape,
    long Weights,
    long Kept,
    long Positions,
    long Rows,
    int BytesPerValue)
{
    public long DenseMacs => Weights * Positions;
    public long KeptMacs => Kept * Positions;
    public long DenseWeightBytes => Weights * BytesPerValue;
    public long SparseWeightBytes => Kept * (BytesPerValue + 4L) + (Rows + 1) * 4L;
    public long ActivationBytes => (InputShape.Aggregate(1L, (a, b) => a * b) + OutputShape.Aggregate(1L, (a, b) => a * b)) * BytesPerValue;
}

/// <summary>
/// Per-layer and total cost of one forward pass of one sample (<see cref="LayerFlops"/>): dense and kept MACs, FLOPs
/// (2 × MACs; <see cref="EffectiveFlops"/> counts the kept weights only) and memory traffic (weights dense, or CSR
/// values and indices, plus activations).
/// </summary>
public sealed record FlopReport(IReadOnlyList<LayerFlops> Layers)
{
    public long DenseMacs => Layers.Sum(l => l.DenseMacs);
    public long KeptMacs => Layers.Sum(l => l.KeptMacs);
    public long DenseFlops => 2 * DenseMacs;
    public long EffectiveFlops => 2 * KeptMacs;

    /// <summary>Dense ÷ effective FLOPs; null when nothing is kept.</summary>
    public double? Reduction => KeptMacs == 0 ? null : (double)DenseMacs / KeptMacs;

    /// <summary>Bytes moved by the dense forward pass: every weight and the activations.</summary>
    public long DenseBytes => Layers.Sum(l => l.DenseWeightBytes + l.ActivationBytes);

    /// <summary>Bytes moved by a CSR forward pass: kept values, their indices, row pointers and the activations.</summary>
    public long SparseBytes => Layers.Sum(l => l.SparseWeightBytes + l.ActivationBytes);

    /// <summary>The same layers with the kept weight counts of <paramref name="kept"/> (by tensor name); a layer it does not name keeps every weight.</summary>
    public FlopReport WithKept(IReadOnlyDictionary<string, long> kept) =>
        new([.. Layers.Select(l => l with { Kept = kept.TryGetValue(l.Name, out var k) ? Math.Clamp(k, 0, l.Weights) : l.Weights })]);

    /// <summary>The report as fixed-width text lines: one per layer, then the totals.</summary>
    [JsonIgnore]
    public IEnumerable<string> Lines
    {
        get
        {
            var width = Math.Max(6, Layers.Select(l => l.Name.Length).DefaultIfEmpty(0).Max());
            yield return $"{"layer".PadRight(width)}  {"dense MACs",14}  {"kept MACs",14}  {"kept",7}  {"dense bytes",13}  {"CSR bytes",13}";
            foreach (var l in Layers)
                yield return $"{l.Name.PadRight(width)}  {l.DenseMacs,14:N0}  {l.KeptMacs,14:N0}  {Percent(l.KeptMacs, l.DenseMacs),7}  {l.DenseWeightBytes + l.ActivationBytes,13:N0}  {l.SparseWeightBytes + l.ActivationBytes,13:N0}";
            yield return $"{"total".PadRight(width)}  {DenseMacs,14:N0}  {KeptMacs,14:N0}  {Percent(KeptMacs, DenseMacs),7}  {DenseBytes,13:N0}  {SparseBytes,13:N0}";
            yield return $"FLOPs per sample (2 × MACs): dense {DenseFlops:N0}, effective {EffectiveFlops:N0}" +
                (Reduction is { } r ? $" ({r:G4}× fewer)" : " (nothing kept)") + "; bytes: weights (dense, or CSR values + indices) plus activations";
        }
    }

    static string Percent(long part, long whole) => whole == 0 ? "—" : $"{100.0 * part / whole:F1}%";
}

/// <summary>Counts the multiply-accumulates and memory traffic of a network built from <see cref="MaskedLayer"/>s.</summary>
public static class FlopCount
{
    /// <summary>
    /// Runs one sample of zeros of <paramref name="sampleShape"/> through <paramref name="model"/> (in evaluation
    /// mode, without gradients; the training mode is restored) to read every masked layer's input and output shapes,
    /// and counts each weight's kept entries from its mask (all of them without a mask). Layers the forward pass
    /// does not reach are left out.
    /// </summary>
    public static FlopReport Count(nn.Module<Tensor, Tensor> model, long[] sampleShape)
    {
        var layers = Network.Layers(model).ToList();
        if (layers.Count == 0) throw new InitPruneException("the model has no prunable layer to count");
        var shapes = new Dictionary<MaskedLayer, (long[] In, long[] Out)>();
        foreach (var (_, layer) in layers)
        {
            var l = layer;
            l.ForwardObserver = (i, o) => shapes.TryAdd(l, (i.shape, o.shape));
        }
        bool training = model.training;
        try
        {
            model.eval();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var first = layers[0].Layer.weight;
            var x = zeros([1, .. sampleShape], first.dtype, first.device);
            model.forward(x);
        }
        finally
        {
            foreach (var (_, layer) in layers) layer.ForwardObserver = null;
            if (training) model.train();
        }
        var result = new List<LayerFlops>();
        foreach (var (name, layer) in layers)
        {
            if (!shapes.TryGetValue(layer, out var s)) continue;
            long weights = layer.weight.numel();
            long rows = layer.weight.shape[0];
            long kept = layer.WeightMask is { } m ? m.count_nonzero().item<long>() : weights;
            long outputs = s.Out.Aggregate(1L, (a, b) => a * b);
            long positions = outputs / Math.Max(1, s.Out[0] * rows);
            var kind = layer is MaskedConv2d c ? $"conv{c.KernelSize}x{c.KernelSize}/{c.Stride}" : "linear";
            result.Add(new LayerFlops(name.Length == 0 ? "weight" : $"{name}.weight", kind, s.In[1..], s.Out[1..], weights, kept, positions, rows,
                (int)layer.weight.ElementSize));
        }
        return new FlopReport(result);
    }
}
