using System.Globalization;
using System.Text.RegularExpressions;
using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Inference;

/// <summary>
/// Turns a pruned conv net of the <see cref="PooledConvNet"/> shape (vcnn; vgg with or without BatchNorm) into a
/// <see cref="SparseConvNet"/>: masks applied, BatchNorm folded into the convolution before it (eval statistics:
/// <c>W' = W·γ/√(var+ε)</c>, <c>b' = (b − μ)·γ/√(var+ε) + β</c>), and dead channels removed to a fixed point — a
/// channel no kept weight reads, or one with no kept incoming weight whose constant output φ(b) is 0. A constant channel
/// φ(b) ≠ 0 is folded into the next bias where that is exact: into the classifier (the average of a constant is the
/// constant) and, with circular padding, into the next convolution; with zero padding it stays (at the borders the
/// padding would make a folded bias wrong).
/// </summary>
public static partial class SparseConvExport
{
    const double BatchNormEps = 1e-5;

    internal sealed class Conv(string name, float[] w, int outChannels, int inChannels, int k, float[]? bias, bool poolBefore)
    {
        public string Name = name;
        public float[] W = w;
        public int Out = outChannels;
        public int In = inChannels;
        public readonly int K = k;
        public float[]? Bias = bias;
        public readonly bool PoolBefore = poolBefore;
        public bool Folded;
        public List<int> Kept = [.. Enumerable.Range(0, outChannels)];
        public readonly int OriginalOut = outChannels;
        public readonly int OriginalIn = inChannels;
        public long KeptWeights;
        public int BiasesFolded;
        public int Removed;
        public int Cols => In * K * K;

        public bool RowEmpty(int o) => W.AsSpan(o * Cols, Cols).IndexOfAnyExcept(0f) < 0;

        public bool InputUnused(int c)
        {
            for (int o = 0; o < Out; o++)
                if (W.AsSpan(o * Cols + c * K * K, K * K).IndexOfAnyExcept(0f) >= 0) return false;
            return true;
        }

        public void RemoveOutputs(HashSet<int> dead)
        {
            var keep = Enumerable.Range(0, Out).Where(o => !dead.Contains(o)).ToArray();
            W = [.. keep.SelectMany(o => W.AsSpan(o * Cols, Cols).ToArray())];
            if (Bias is { } b) Bias = [.. keep.Select(o => b[o])];
            Kept = [.. keep.Select(o => Kept[o])];
            Out = keep.Length;
        }

        public void RemoveInputs(HashSet<int> dead)
        {
            var keep = Enumerable.Range(0, In).Where(c => !dead.Contains(c)).ToArray();
            int kk = K * K, cols = keep.Length * kk;
            var w = new float[Out * cols];
            for (int o = 0; o < Out; o++)
                for (int c = 0; c < keep.Length; c++) W.AsSpan(o * Cols + keep[c] * kk, kk).CopyTo(w.AsSpan(o * cols + c * kk, kk));
            W = w;
            In = keep.Length;
        }
    }

    [GeneratedRegex(@"^layers\.(\d+)\.(?:conv\.)?(weight|bias)$")]
    private static partial Regex ConvKey();

    [GeneratedRegex(@"^layers\.(\d+)\.bn\.(weight|bias|running_mean|running_var|num_batches_tracked)$")]
    private static partial Regex BatchNormKey();

    /// <summary>True for the models this export handles (vcnn and the VGGs), by canonical name.</summary>
    public static bool Handles(string canonical) => canonical == "vcnn" || canonical.StartsWith("vgg", StringComparison.Ordinal) || canonical.StartsWith("3xvgg", StringComparison.Ordinal);

    internal static (SparseConvNet, List<SparseExportLayer>, SparseExport.Counts) Build(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks,
        string canonical, string activation, long[]? inputShape, string padding, double denseAbove, Dictionary<string, string> source)
    {
        Activations.Create(activation).Dispose();
        padding = MaskedConv2d.CheckPadding(padding);
        bool vgg = canonical != "vcnn", batchNorm = ModelRegistry.HasBatchNorm(canonical);
        foreach (var key in weights.Keys)
        {
            if (!(key is "fc.weight" or "fc.bias" || (ConvKey().Match(key) is { Success: true } m && m.Value.Contains(".conv.") == vgg) || (vgg && BatchNormKey().IsMatch(key))))
                throw new InitPruneException($"the weights hold '{key}', which is not part of a {canonical} (layers.N.{(vgg ? "conv." : "")}weight, {(vgg ? "layers.N.bn.*, " : "")}fc.weight): pass the --model they were trained as");
        }
        bool hasBn = weights.Keys.Any(k => BatchNormKey().IsMatch(k));
        if (hasBn != batchNorm)
            throw new InitPruneException(hasBn ? $"the weights hold BatchNorm layers but {canonical} has none: pass --model {canonical}-bn" : $"{canonical} has BatchNorm layers but the weights hold none: pass the --model without -bn");
        var indices = weights.Keys.Select(k => ConvKey().Match(k)).Where(m => m.Success && m.Groups[2].Value == "weight")
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Order().ToList();
        if (indices.Count == 0 || !weights.ContainsKey("fc.weight")) throw new InitPruneException($"the weights hold no convolution or no fc.weight: they are not a {canonical}'s");
        if (indices[0] != 0) throw new InitPruneException($"the first convolution is layers.{indices[0]}, not layers.0: the weights are not a {canonical}'s");

        var convs = new List<Conv>();
        for (int i = 0; i < indices.Count; i++)
        {
            // In a VGG's Sequential a max-pooling takes an index between two convolutions; in a vanilla CNN an activation does.
            int gap = i == 0 ? 1 : indices[i] - indices[i - 1];
            if (vgg ? gap is not (1 or 2) : gap != (i == 0 ? 1 : 2))
                throw new InitPruneException($"layers.{indices[i]} follows layers.{indices[i - 1]}: not the layer order of a {canonical}");
            var name = vgg ? $"layers.{indices[i]}.conv" : $"layers.{indices[i]}";
            var w = weights[name + ".weight"];
            if (w.dim() != 4 || w.shape[2] != w.shape[3])
                throw new InitPruneException($"'{name}.weight' is [{string.Join(",", w.shape)}], not a square convolution kernel");
            int outC = (int)w.shape[0], inC = (int)w.shape[1], k = (int)w.shape[2];
            if (convs.Count > 0 && convs[^1].Out != inC)
                throw new InitPruneException($"'{name}.weight' takes {inC} channels but the layer before gives {convs[^1].Out}: the weights are not one {canonical}");
            var values = SparseExport.Masked(w, masks, name + ".weight");
            var bias = weights.TryGetValue(name + ".bias", out var b) ? SparseExport.Masked(b, masks, name + ".bias") : null;
            var conv = new Conv(name, values, outC, inC, k, bias, vgg && gap == 2) { KeptWeights = SparseExport.KeptCount(masks, name + ".weight", values) };
            if (batchNorm) FoldBatchNorm(conv, weights, masks, $"layers.{indices[i]}.bn");
            convs.Add(conv);
        }
        var fcW = weights["fc.weight"];
        if (fcW.dim() != 2 || fcW.shape[1] != convs[^1].Out)
            throw new InitPruneException($"'fc.weight' is [{string.Join(",", fcW.shape)}] but the last convolution gives {convs[^1].Out} channels");
        var fc = new SparseExport.Work("fc", SparseExport.Masked(fcW, masks, "fc.weight"), (int)fcW.shape[0], (int)fcW.shape[1],
            weights.TryGetValue("fc.bias", out var fb) ? SparseExport.Masked(fb, masks, "fc.bias") : null);
        fc.KeptWeights = SparseExport.KeptCount(masks, "fc.weight", fc.W);

        var shape = inputShape ?? throw new InitPruneException($"a conv net's file needs the shape of one sample: give --input-shape C,H,W (e.g. {convs[0].In},32,32 for CIFAR, 1,28,28 for Fashion-MNIST)");
        if (shape.Length != 3 || shape[0] != convs[0].In)
            throw new InitPruneException($"--input-shape [{string.Join(",", shape)}] does not fit: the first convolution takes {convs[0].In} channels, so give {convs[0].In},H,W");

        var (dense, kept) = SparseExport.ParameterCounts(weights, masks);
        long before = convs.Sum(c => c.W.LongCount(v => v != 0) + (c.Bias?.Length ?? 0)) + fc.W.LongCount(v => v != 0) + (fc.Bias?.Length ?? 0);
        RemoveDeadChannels(convs, fc, activation, padding);

        var report = new List<SparseExportLayer>();
        var sparse = convs.Select(c => ToSparse(c, 1, padding, denseAbove, report)).ToList();
        var classifier = ToSparse(fc, denseAbove, report);
        source["model"] = canonical;
        return (new SparseConvNet(canonical, activation.ToLowerInvariant(), shape, sparse, classifier, source), report, new SparseExport.Counts(dense, kept, before));
    }

    /// <summary>The convolution as stored (CSR up to density <paramref name="denseAbove"/>, else dense; padding k/2), its report line added to <paramref name="report"/>.</summary>
    internal static SparseConv ToSparse(Conv c, int stride, string padding, double denseAbove, List<SparseExportLayer> report)
    {
        long nnz = c.W.LongCount(v => v != 0);
        double density = c.Out * (long)c.Cols == 0 ? 0 : (double)nnz / ((long)c.Out * c.Cols);
        bool csr = density <= denseAbove;
        report.Add(new SparseExportLayer(c.Name, csr ? "csr" : "dense", c.Cols, c.Out, c.OriginalIn * c.K * c.K, c.OriginalOut, c.KeptWeights,
            csr ? nnz : (long)c.Out * c.Cols, density, c.Removed, c.BiasesFolded));
        return new SparseConv(c.Name, c.In, c.Out, c.K, stride, c.K / 2, padding, c.PoolBefore, csr ? CsrMatrix.FromDense(c.W, c.Out, c.Cols) : null, csr ? null : c.W,
            c.Bias, c.Folded, [.. c.Kept], c.OriginalOut);
    }

    /// <summary>The classifier <c>fc</c> as stored, its report line added to <paramref name="report"/>.</summary>
    internal static SparseLayer ToSparse(SparseExport.Work fc, double denseAbove, List<SparseExportLayer> report)
    {
        long nnz = fc.W.LongCount(v => v != 0);
        double density = (double)nnz / Math.Max(1L, (long)fc.Rows * fc.Cols);
        bool csr = density <= denseAbove;
        report.Add(new SparseExportLayer("fc", csr ? "csr" : "dense", fc.Cols, fc.Rows, fc.OriginalCols, fc.OriginalRows, fc.KeptWeights,
            csr ? nnz : (long)fc.Rows * fc.Cols, density, 0, fc.Folded));
        return new SparseLayer("fc", fc.Cols, fc.Rows, csr ? CsrMatrix.FromDense(fc.W, fc.Rows, fc.Cols) : null, csr ? null : fc.W, fc.Bias, [.. fc.Kept], fc.OriginalRows);
    }

    /// <summary>Folds eval-mode BatchNorm <paramref name="bn"/> (masked γ, β) into <paramref name="conv"/>'s weight and bias.</summary>
    internal static void FoldBatchNorm(Conv conv, IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks, string bn)
    {
        float[] Get(string part) => weights.TryGetValue($"{bn}.{part}", out var t) && t.numel() == conv.Out ? SparseExport.Masked(t, masks, $"{bn}.{part}")
            : throw new InitPruneException($"the weights lack '{bn}.{part}' of {conv.Out} values for '{conv.Name}'");
        var (gamma, beta, mean, variance) = (Get("weight"), Get("bias"), Get("running_mean"), Get("running_var"));
        var bias = new float[conv.Out];
        for (int o = 0; o < conv.Out; o++)
        {
            double scale = gamma[o] / Math.Sqrt(variance[o] + BatchNormEps);
            for (int j = 0; j < conv.Cols; j++) conv.W[o * conv.Cols + j] = (float)(conv.W[o * conv.Cols + j] * scale);
            bias[o] = (float)(((conv.Bias?[o] ?? 0f) - mean[o]) * scale + beta[o]);
        }
        conv.Bias = bias;
        conv.Folded = true;
    }

    /// <summary>
    /// Removes dead channels to a fixed point (see the class summary); the classifier's outputs are never removed. The
    /// last convolution's channel c is <paramref name="fc"/>'s columns c·<paramref name="area"/> … (c+1)·area − 1 (1
    /// after global average pooling; H·W of a flattened feature map); <paramref name="head"/>, when given, runs after
    /// each pass over the convolutions (a linear head's dead units) and says whether anything went.
    /// </summary>
    internal static void RemoveDeadChannels(List<Conv> convs, SparseExport.Work fc, string activation, string padding, int area = 1, Func<bool>? head = null)
    {
        using var phi = Activations.Create(activation);
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int l = 0; l < convs.Count; l++)
                changed |= RemoveDeadOutputs(convs[l], l + 1 < convs.Count ? convs[l + 1] : null, fc, phi, padding, area);
            if (head is not null) changed |= head();
        }
    }

    /// <summary>
    /// One pass over <paramref name="conv"/>'s output channels, which only <paramref name="next"/> (or, when null,
    /// the linear layer <paramref name="fc"/>, channel c as its columns c·<paramref name="area"/> … (c+1)·area − 1)
    /// reads: removes the dead ones and folds the constant ones where exact (see the class summary; average or max
    /// pooling of a constant is the constant). True when a channel went.
    /// </summary>
    internal static bool RemoveDeadOutputs(Conv conv, Conv? next, SparseExport.Work? fc, TorchSharp.torch.nn.Module<Tensor, Tensor> phi, string padding, int area = 1)
    {
        float[] constants;
        using (var scope = NewDisposeScope())
            constants = phi.forward(tensor(conv.Bias ?? new float[conv.Out])).data<float>().ToArray();
        var dead = new HashSet<int>();
        for (int c = 0; c < conv.Out; c++)
        {
            bool unread = next is null ? Enumerable.Range(c * area, area).All(fc!.ColumnEmpty) : next.InputUnused(c);
            if (!unread && !conv.RowEmpty(c)) continue;
            if (!unread && constants[c] != 0)
            {
                if (next is null)
                {
                    fc!.Bias ??= new float[fc.Rows];
                    for (int r = 0; r < fc.Rows; r++)
                    {
                        float s = 0f;
                        foreach (var v in fc.W.AsSpan(r * fc.Cols + c * area, area)) s += v;
                        fc.Bias[r] += s * constants[c];
                    }
                    fc.Folded++;
                }
                else if (padding == "circular")
                {
                    next.Bias ??= new float[next.Out];
                    int kk = next.K * next.K;
                    for (int o = 0; o < next.Out; o++)
                    {
                        float s = 0f;
                        foreach (var v in next.W.AsSpan(o * next.Cols + c * kk, kk)) s += v;
                        next.Bias[o] += s * constants[c];
                    }
                    next.BiasesFolded++;
                }
                else
                {
                    continue;
                }
            }
            dead.Add(c);
        }
        if (dead.Count == 0) return false;
        conv.RemoveOutputs(dead);
        if (next is null) fc!.RemoveColumns([.. dead.SelectMany(c => Enumerable.Range(c * area, area))]);
        else next.RemoveInputs(dead);
        conv.Removed += dead.Count;
        return true;
    }
}
