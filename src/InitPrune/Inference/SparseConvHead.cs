using System.Text.Json;
using System.Text.RegularExpressions;
using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Inference;

/// <summary>The architecture a <c>convnet-linear-head</c> file carries: convolutions in order, a 2 × 2 max-pooling after the last when <c>PoolAfter</c>, flatten (C, H, W), linear layers.</summary>
public sealed record SparseConvHeadArchitecture(
    string Family,
    string Model,
    string Activation,
    long[] InputShape,
    int Outputs,
    IReadOnlyList<SparseConvInfo> Convs,
    bool PoolAfter,
    IReadOnlyList<SparseLayerInfo> Layers,
    string InitpruneVersion,
    IReadOnlyDictionary<string, string> Source);

/// <summary>
/// A pruned Conv-2/4/6/8 (<see cref="ConvN"/>) in compact form: its convolutions run as in <see cref="SparseConvNet"/>
/// (channel-major activations, the pooling of a block before the next block's first convolution), the last block's
/// pooling, then the features flattened in PyTorch's order (C, H, W) into the linear layers, which run as a
/// <see cref="SparseModel"/> (activation after each but the last).
/// </summary>
public sealed class SparseConvHeadNet : ISparseNetwork
{
    public const string Family = "convnet-linear-head";

    readonly SparseConvNet.Runner[] runners;
    readonly SparseModel head;
    readonly int flatChannels;

    public SparseConvHeadNet(string model, string activation, long[] inputShape, IReadOnlyList<SparseConv> convs, bool poolAfter, IReadOnlyList<SparseLayer> layers,
        IReadOnlyDictionary<string, string>? source = null, string? version = null)
    {
        var (channels, h, w) = SparseConv.CheckChain(inputShape, convs);
        if (poolAfter) (h, w) = (h / 2, w / 2);
        if (h < 1 || w < 1) throw new InitPruneException($"the input [{string.Join(",", inputShape)}] is too small for the pooling after the last convolution");
        head = new SparseModel(model, activation, [channels, h, w], layers);
        Model = model;
        Activation = activation;
        InputShape = inputShape;
        Convs = convs;
        PoolAfter = poolAfter;
        Source = source ?? new Dictionary<string, string>();
        Version = version ?? EnvironmentProbe.Current().InitPruneVersion;
        flatChannels = channels;
        runners = [.. convs.Select(c => new SparseConvNet.Runner(c))];
    }

    public string Model { get; }
    public string Activation { get; }
    public long[] InputShape { get; }
    public IReadOnlyList<SparseConv> Convs { get; }
    public bool PoolAfter { get; }

    /// <summary>The linear layers (<c>classifier.0</c>, <c>.2</c>, <c>.4</c> for a ConvN).</summary>
    public IReadOnlyList<SparseLayer> Layers => head.Layers;

    public IReadOnlyDictionary<string, string> Source { get; }
    public string Version { get; }
    public int InputSize => (int)(InputShape[0] * InputShape[1] * InputShape[2]);
    public int Outputs => head.Outputs;
    public long StoredParameters => Convs.Sum(c => c.StoredWeights + (c.Bias?.Length ?? 0)) + head.StoredParameters;
    public IReadOnlyList<string> LayerNames => [.. Convs.Select(c => c.Name), .. head.LayerNames];

    public SparseConvHeadArchitecture Architecture => new(Family, Model, Activation, InputShape, Outputs,
        [.. Convs.Select(c => c.Info)], PoolAfter, head.Architecture.Layers, Version, Source);

    /// <summary>Writes the convolutions as in a <c>pooled-convnet</c> file and the linear layers as in an MLP file.</summary>
    public void Save(string path)
    {
        using var tensors = new TensorDict();
        foreach (var c in Convs) c.AddTo(tensors);
        foreach (var l in Layers) SparseFile.AddWeight(tensors, l.Name, l.Csr, l.Dense, [l.OutFeatures, l.InFeatures], l.Bias);
        SparseFile.Save(path, tensors, JsonSerializer.Serialize(Architecture, SparseModel.MetadataJson));
    }

    internal static SparseConvHeadNet Read(TensorDict tensors, string text, string path)
    {
        var arch = SparseFile.ReadArchitecture<SparseConvHeadArchitecture>(text, path, a => !(a.Convs is null || a.Layers is null || a.InputShape is null), "convs, layers or input_shape");
        var convs = arch.Convs.Select(info => SparseConv.Read(tensors, info, path)).ToList();
        var layers = arch.Layers.Select(info => SparseModel.ReadLayer(tensors, info, path)).ToList();
        return new SparseConvHeadNet(arch.Model, arch.Activation, arch.InputShape, convs, arch.PoolAfter, layers, arch.Source, arch.InitpruneVersion);
    }

    /// <summary>
    /// The logits (<c>[batch, outputs]</c>, row-major) of <paramref name="batch"/> samples <c>[batch, C, H, W]</c>
    /// (row-major); <paramref name="threads"/> caps the threads (0: all cores; no bit depends on it).
    /// </summary>
    public float[] Forward(float[] inputs, int batch, int threads = 0)
    {
        if (inputs.Length != (long)batch * InputSize)
            throw new ArgumentException($"{inputs.Length} inputs for {batch} samples of {InputSize}", nameof(inputs));
        int h = (int)InputShape[1], w = (int)InputShape[2];
        var x = SparseConvNet.ChannelMajor(inputs, batch, InputShape);
        foreach (var r in runners) (x, h, w) = r.Run(x, batch, h, w, Activation, threads, direct: true);
        if (PoolAfter) (x, h, w) = SparseConvNet.MaxPool2(x, flatChannels * batch, h, w);
        // [C, N, H·W] → [N, C, H·W]: each sample's features in PyTorch's flatten order.
        var flat = batch == 1 ? x : SparseConvNet.SwapFirstTwo(x, flatChannels, batch, h * w);
        return head.Forward(flat, batch, threads: threads);
    }

    /// <summary>
    /// Multiply-adds per sample: the kept ones (every stored weight once per output position, each linear weight once)
    /// and the dense network's (original channel and unit counts).
    /// </summary>
    public (long Sparse, long Dense) MultiplyAdds()
    {
        var (sparse, dense, channels, h, w) = SparseConv.ChainMultiplyAdds(InputShape, Convs);
        if (PoolAfter) (h, w) = (h / 2, w / 2);
        long inputs = channels * h * w;
        foreach (var l in Layers)
        {
            sparse += l.Nonzeros;
            dense += (long)l.OriginalOutFeatures * inputs;
            inputs = l.OriginalOutFeatures;
        }
        return (sparse, dense);
    }
}

/// <summary>
/// Turns a pruned Conv-2/4/6/8 into a <see cref="SparseConvHeadNet"/>: masks applied; the linear head's hidden units
/// with no kept incoming or outgoing weight removed as in an MLP (<see cref="SparseExport"/>; a constant unit φ(b) is
/// folded into the next bias); dead convolution channels removed as in a VGG (<see cref="SparseConvExport"/>), the
/// last convolution's channel c read as <c>classifier.0</c>'s H·W columns c·H·W … (c+1)·H·W − 1 after the pooling and
/// the flatten: removed when none of them is kept, and folded into <c>classifier.0</c>'s bias when constant
/// (<c>b[r] += φ(b_c)·Σ_p W[r, c·H·W + p]</c>; the max-pooling of a constant is the constant). Channel and unit
/// removal repeat together to a fixed point (removing a channel's columns can empty a unit's row, and a unit's row
/// can hold a channel's last kept weights).
/// </summary>
public static partial class SparseConvHeadExport
{
    [GeneratedRegex(@"^(layers|classifier)\.(\d+)\.(weight|bias)$")]
    private static partial Regex Key();

    /// <summary>True for conv2, conv4, conv6, conv8 (canonical names).</summary>
    public static bool Handles(string canonical) => canonical is "conv2" or "conv4" or "conv6" or "conv8";

    internal static (SparseConvHeadNet, List<SparseExportLayer>, SparseExport.Counts) Build(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks,
        string canonical, string activation, long[]? inputShape, string padding, double denseAbove, Dictionary<string, string> source)
    {
        Activations.Create(activation).Dispose();
        padding = MaskedConv2d.CheckPadding(padding);
        int blocks = ModelRegistry.ConvBlocks(canonical);
        // In ConvN's Sequential block b is conv 5b, activation, conv 5b + 2, activation, max-pooling 5b + 4.
        var convNames = Enumerable.Range(0, 2 * blocks).Select(j => $"layers.{5 * (j / 2) + 2 * (j % 2)}").ToList();
        string[] headNames = ["classifier.0", "classifier.2", "classifier.4"];
        var expected = convNames.Concat(headNames).ToHashSet();
        foreach (var key in weights.Keys)
        {
            if (Key().Match(key) is not { Success: true } m || !expected.Contains($"{m.Groups[1].Value}.{m.Groups[2].Value}"))
                throw new InitPruneException($"the weights hold '{key}', which is not part of a {canonical} ({string.Join(", ", convNames.Select(n => n + ".weight"))}, classifier.0/2/4.weight): pass the --model they were trained as");
        }
        foreach (var name in expected)
        {
            if (!weights.ContainsKey(name + ".weight"))
                throw new InitPruneException($"the weights lack '{name}.weight' of a {canonical}: pass the --model they were trained as");
        }

        var convs = new List<SparseConvExport.Conv>();
        for (int j = 0; j < convNames.Count; j++)
        {
            var name = convNames[j];
            var w = weights[name + ".weight"];
            if (w.dim() != 4 || w.shape[2] != 3 || w.shape[3] != 3)
                throw new InitPruneException($"'{name}.weight' is [{string.Join(",", w.shape)}], not a 3×3 convolution kernel");
            int outC = (int)w.shape[0], inC = (int)w.shape[1];
            if (convs.Count > 0 && convs[^1].Out != inC)
                throw new InitPruneException($"'{name}.weight' takes {inC} channels but the layer before gives {convs[^1].Out}: the weights are not one {canonical}");
            var values = SparseExport.Masked(w, masks, name + ".weight");
            var bias = weights.TryGetValue(name + ".bias", out var b) ? SparseExport.Masked(b, masks, name + ".bias") : null;
            convs.Add(new SparseConvExport.Conv(name, values, outC, inC, 3, bias, j > 0 && j % 2 == 0) { KeptWeights = SparseExport.KeptCount(masks, name + ".weight", values) });
        }

        var shape = inputShape ?? throw new InitPruneException($"a conv net's file needs the shape of one sample: give --input-shape C,H,W (e.g. {convs[0].In},32,32 for CIFAR, 1,28,28 for Fashion-MNIST)");
        if (shape.Length != 3 || shape[0] != convs[0].In)
            throw new InitPruneException($"--input-shape [{string.Join(",", shape)}] does not fit: the first convolution takes {convs[0].In} channels, so give {convs[0].In},H,W");
        int area = (int)((shape[1] >> blocks) * (shape[2] >> blocks));
        long flat = (long)convs[^1].Out * area;

        var head = new List<SparseExport.Work>();
        foreach (var name in headNames)
        {
            var w = weights[name + ".weight"];
            long cols = head.Count == 0 ? flat : head[^1].Rows;
            if (w.dim() != 2 || w.shape[1] != cols)
                throw new InitPruneException(head.Count == 0
                    ? $"'{name}.weight' is [{string.Join(",", w.shape)}] but --input-shape {string.Join(",", shape)} gives {flat} features after the convolutions: pass the shape the model was trained on"
                    : $"'{name}.weight' is [{string.Join(",", w.shape)}] but the layer before gives {cols}: the weights are not one {canonical}");
            var values = SparseExport.Masked(w, masks, name + ".weight");
            var bias = weights.TryGetValue(name + ".bias", out var b) ? SparseExport.Masked(b, masks, name + ".bias") : null;
            head.Add(new SparseExport.Work(name, values, (int)w.shape[0], (int)w.shape[1], bias) { KeptWeights = SparseExport.KeptCount(masks, name + ".weight", values) });
        }

        var (dense, kept) = SparseExport.ParameterCounts(weights, masks);
        long before = convs.Sum(c => c.W.LongCount(v => v != 0) + (c.Bias?.Length ?? 0)) + head.Sum(l => l.W.LongCount(v => v != 0) + (l.Bias?.Length ?? 0));
        var removed = new int[head.Count];
        SparseConvExport.RemoveDeadChannels(convs, head[0], activation, padding, area, () =>
        {
            var units = SparseExport.RemoveDeadUnits(head, activation);
            for (int l = 0; l < units.Length; l++) removed[l] += units[l];
            return units.Any(u => u > 0);
        });

        var report = new List<SparseExportLayer>();
        var sparseConvs = convs.Select(c => SparseConvExport.ToSparse(c, 1, padding, denseAbove, report)).ToList();
        var layers = SparseExport.ToLayers(head, removed, denseAbove, report);
        source["model"] = canonical;
        var net = new SparseConvHeadNet(canonical, activation.ToLowerInvariant(), shape, sparseConvs, poolAfter: true, layers, source);
        return (net, report, new SparseExport.Counts(dense, kept, before, net.Convs.Sum(c => c.Nonzeros + (c.Bias?.Length ?? 0)) + layers.Sum(l => l.Nonzeros + (l.Bias?.Length ?? 0))));
    }
}
