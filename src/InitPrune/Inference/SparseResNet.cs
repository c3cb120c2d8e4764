using System.Runtime.CompilerServices;
using System.Text.Json;
using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Models;

namespace InitPrune.Inference;

/// <summary>
/// One residual block of a sparse ResNet: <c>act(shortcut(x) + conv2(act(conv1(x))))</c>, BatchNorm and the branch
/// scale already folded into the convolutions. The shortcut is the identity, option A (subsample by conv1's stride,
/// <see cref="ZeroChannelsBefore"/> zero channels before the input's and the rest after) or option B (the 1 × 1
/// <see cref="Projection"/>, BatchNorm folded).
/// </summary>
public sealed record SparseResidualBlock(SparseConv Conv1, SparseConv Conv2, SparseConv? Projection, int ZeroChannelsBefore)
{
    /// <summary><c>identity</c>, <c>a</c> or <c>b</c>.</summary>
    public string Shortcut => Projection is not null ? "b" : Conv1.Stride != 1 || Conv1.InChannels != Conv2.OutChannels ? "a" : "identity";

    public IEnumerable<SparseConv> Convs => Projection is null ? [Conv1, Conv2] : [Conv1, Conv2, Projection];
}

/// <summary>One block in the metadata of a <c>resnet</c> file (docs/inference.md).</summary>
public sealed record SparseResidualBlockInfo(string Shortcut, int ZeroChannelsBefore, SparseConvInfo Conv1, SparseConvInfo Conv2, SparseConvInfo? Projection);

/// <summary>The architecture a <c>resnet</c> file carries: stem convolution, residual blocks, global average pooling, one linear classifier.</summary>
public sealed record SparseResNetArchitecture(
    string Family,
    string Model,
    string Activation,
    long[] InputShape,
    int Outputs,
    double BranchScale,
    SparseConvInfo Stem,
    IReadOnlyList<SparseResidualBlockInfo> Blocks,
    SparseLayerInfo Classifier,
    string InitpruneVersion,
    IReadOnlyDictionary<string, string> Source);

/// <summary>
/// A pruned CIFAR ResNet (<see cref="ResNet"/>, <see cref="BasicBlock"/>) in compact form: stem convolution → act,
/// residual blocks, global average pooling, classifier. Every convolution runs as <see cref="SparseConvNet"/>'s do
/// (channel-major activations, im2col × CSR or the direct kernel), so no thread count changes a bit.
/// <see cref="BranchScale"/> (1/√B for a Stable ResNet) is already folded into every conv2 and is only recorded.
/// </summary>
public sealed class SparseResNet : ISparseNetwork
{
    public const string Family = "resnet";

    public SparseResNet(string model, string activation, long[] inputShape, double branchScale, SparseConv stem, IReadOnlyList<SparseResidualBlock> blocks,
        SparseLayer classifier, IReadOnlyDictionary<string, string>? source = null, string? version = null)
    {
        if (inputShape.Length != 3 || inputShape.Any(d => d < 1))
            throw new InitPruneException($"a sparse ResNet takes samples of shape [C,H,W], not [{string.Join(",", inputShape)}]");
        if (stem.InChannels != inputShape[0] || stem.PoolBefore)
            throw new InitPruneException($"the stem convolution '{stem.Name}' takes {stem.InChannels} channels{(stem.PoolBefore ? " after a pooling" : "")} but the input has {inputShape[0]}");
        var (h, w) = stem.Check(inputShape, (int)inputShape[1], (int)inputShape[2]);
        int channels = stem.OutChannels;
        // The stream's channels by their index in the dense network (KeptChannels of the convolutions writing it).
        var stream = stem.KeptChannels;
        int original = stem.OriginalOutChannels;
        var sources = new int[]?[blocks.Count];
        for (int l = 0; l < blocks.Count; l++)
        {
            var b = blocks[l];
            if (b.Convs.Any(c => c.PoolBefore))
                throw new InitPruneException($"block '{b.Conv1.Name}' pools inside: not a ResNet block this reader runs");
            if (b.Conv1.InChannels != channels || b.Conv2.InChannels != b.Conv1.OutChannels)
                throw new InitPruneException($"convolutions '{b.Conv1.Name}' and '{b.Conv2.Name}' take {b.Conv1.InChannels} and {b.Conv2.InChannels} channels but get {channels} and {b.Conv1.OutChannels}");
            var inner = b.Conv1.Check(inputShape, h, w);
            var output = b.Conv2.Check(inputShape, inner.H, inner.W);
            var shortcut = b.Projection is { } p ? p.Check(inputShape, h, w) : ((h - 1) / b.Conv1.Stride + 1, (w - 1) / b.Conv1.Stride + 1);
            if (shortcut != output)
                throw new InitPruneException($"block '{b.Conv1.Name}': the branch gives {output.H}×{output.W} but the shortcut {shortcut.Item1}×{shortcut.Item2}");
            if (b.Projection is { } q ? q.InChannels != channels || q.OutChannels != b.Conv2.OutChannels || !q.KeptChannels.SequenceEqual(b.Conv2.KeptChannels)
                : b.ZeroChannelsBefore < 0 || b.ZeroChannelsBefore + original > b.Conv2.OriginalOutChannels
                    || b.Shortcut == "identity" && !b.Conv2.KeptChannels.SequenceEqual(stream))
                throw new InitPruneException($"block '{b.Conv1.Name}': its shortcut cannot map {channels} channels onto conv2's {b.Conv2.OutChannels}");
            if (b.Projection is null)
            {
                var position = stream.Select((c, i) => (c, i)).ToDictionary(p => p.c + b.ZeroChannelsBefore, p => p.i);
                sources[l] = [.. b.Conv2.KeptChannels.Select(o => position.GetValueOrDefault(o, -1))];
            }
            (h, w, channels, stream, original) = (output.H, output.W, b.Conv2.OutChannels, b.Conv2.KeptChannels, b.Conv2.OriginalOutChannels);
        }
        shortcutSources = sources;
        if (classifier.InFeatures != channels)
            throw new InitPruneException($"the classifier takes {classifier.InFeatures} features but the last block gives {channels} channels");
        Activations.Create(activation).Dispose();
        Model = model;
        Activation = activation;
        InputShape = inputShape;
        BranchScale = branchScale;
        Stem = stem;
        Blocks = blocks;
        Classifier = classifier;
        Source = source ?? new Dictionary<string, string>();
        Version = version ?? EnvironmentProbe.Current().InitPruneVersion;
        stemRunner = new SparseConvNet.Runner(stem);
        runners = [.. blocks.Select(b => (new SparseConvNet.Runner(b.Conv1), new SparseConvNet.Runner(b.Conv2), b.Projection is { } p ? new SparseConvNet.Runner(p) : null))];
    }

    public string Model { get; }
    public string Activation { get; }
    public long[] InputShape { get; }
    public double BranchScale { get; }
    public SparseConv Stem { get; }
    public IReadOnlyList<SparseResidualBlock> Blocks { get; }
    public SparseLayer Classifier { get; }
    public IReadOnlyDictionary<string, string> Source { get; }
    public string Version { get; }
    public int InputSize => (int)(InputShape[0] * InputShape[1] * InputShape[2]);
    public int Outputs => Classifier.OutFeatures;

    /// <summary>Every convolution in forward order: the stem, then per block conv1, conv2 and the projection.</summary>
    public IEnumerable<SparseConv> AllConvs => Blocks.SelectMany(b => b.Convs).Prepend(Stem);
    public long StoredParameters => AllConvs.Sum(c => c.StoredWeights + (c.Bias?.Length ?? 0)) + Classifier.StoredWeights + (Classifier.Bias?.Length ?? 0);
    public IReadOnlyList<string> LayerNames => [.. AllConvs.Select(c => c.Name), Classifier.Name];

    /// <summary>
    /// Multiply-adds per sample: the kept ones (every stored weight once per output position, the classifier's once)
    /// and the dense network's (original channel counts; option A's shortcut costs none).
    /// </summary>
    public (long Sparse, long Dense) MultiplyAdds()
    {
        long sparse = 0, dense = 0;
        var (h, w) = Stem.OutputSize((int)InputShape[1], (int)InputShape[2]);
        void Add(SparseConv c, long originalIn, int ho, int wo)
        {
            sparse += c.Nonzeros * ho * wo;
            dense += c.OriginalOutChannels * originalIn * c.KernelSize * c.KernelSize * ho * wo;
        }
        Add(Stem, InputShape[0], h, w);
        long stream = Stem.OriginalOutChannels;
        foreach (var b in Blocks)
        {
            var (ho, wo) = b.Conv1.OutputSize(h, w);
            Add(b.Conv1, stream, ho, wo);
            Add(b.Conv2, b.Conv1.OriginalOutChannels, ho, wo);
            if (b.Projection is { } p) Add(p, stream, ho, wo);
            (h, w, stream) = (ho, wo, b.Conv2.OriginalOutChannels);
        }
        return (sparse + Classifier.Nonzeros, dense + Classifier.OriginalOutFeatures * stream);
    }

    public SparseResNetArchitecture Architecture => new(Family, Model, Activation, InputShape, Outputs, BranchScale, Stem.Info,
        [.. Blocks.Select(b => new SparseResidualBlockInfo(b.Shortcut, b.ZeroChannelsBefore, b.Conv1.Info, b.Conv2.Info, b.Projection?.Info))],
        SparseConvNet.ClassifierInfo(Classifier), Version, Source);

    /// <summary>Writes the model: every convolution as in a <c>pooled-convnet</c> file, the classifier as in an MLP file.</summary>
    public void Save(string path)
    {
        using var tensors = new TensorDict();
        foreach (var c in AllConvs) c.AddTo(tensors);
        SparseFile.AddWeight(tensors, Classifier.Name, Classifier.Csr, Classifier.Dense, [Classifier.OutFeatures, Classifier.InFeatures], Classifier.Bias);
        SparseFile.Save(path, tensors, JsonSerializer.Serialize(Architecture, SparseModel.MetadataJson));
    }

    internal static SparseResNet Read(TensorDict tensors, string text, string path)
    {
        var arch = SparseFile.ReadArchitecture<SparseResNetArchitecture>(text, path, a => !(a.Stem is null || a.Blocks is null || a.Classifier is null || a.InputShape is null || a.Blocks.Any(b => b.Conv1 is null || b.Conv2 is null)), "stem, blocks, classifier or input_shape");
        var blocks = arch.Blocks.Select(b =>
        {
            var block = new SparseResidualBlock(SparseConv.Read(tensors, b.Conv1, path), SparseConv.Read(tensors, b.Conv2, path),
                b.Projection is { } p ? SparseConv.Read(tensors, p, path) : null, b.ZeroChannelsBefore);
            return block.Shortcut == b.Shortcut ? block
                : throw new InitPruneException($"{path}: block '{b.Conv1.Name}' says shortcut '{b.Shortcut}' but its convolutions make it '{block.Shortcut}'");
        }).ToList();
        return new SparseResNet(arch.Model, arch.Activation, arch.InputShape, arch.BranchScale, SparseConv.Read(tensors, arch.Stem, path), blocks,
            SparseModel.ReadLayer(tensors, arch.Classifier, path), arch.Source, arch.InitpruneVersion);
    }

    readonly SparseConvNet.Runner stemRunner;

    /// <summary>Per block without projection: for each output channel of conv2, the input channel its shortcut adds (−1: none).</summary>
    readonly int[]?[] shortcutSources;
    readonly (SparseConvNet.Runner Conv1, SparseConvNet.Runner Conv2, SparseConvNet.Runner? Projection)[] runners;

    /// <summary>
    /// The logits (<c>[batch, outputs]</c>, row-major) of <paramref name="batch"/> samples <c>[batch, C, H, W]</c>
    /// (row-major, as PyTorch holds them); <paramref name="threads"/> caps the threads (0: all cores; no bit depends on it).
    /// </summary>
    public float[] Forward(float[] inputs, int batch, int threads = 0) => Forward(inputs, batch, threads, direct: true);

    /// <summary>As <see cref="Forward(float[], int, int)"/>; <paramref name="direct"/> false runs every convolution through im2col.</summary>
    internal float[] Forward(float[] inputs, int batch, int threads, bool direct)
    {
        if (inputs.Length != (long)batch * InputSize)
            throw new ArgumentException($"{inputs.Length} inputs for {batch} samples of {InputSize}", nameof(inputs));
        var (x, h, w) = stemRunner.Run(SparseConvNet.ChannelMajor(inputs, batch, InputShape), batch, (int)InputShape[1], (int)InputShape[2], Activation, threads, direct);
        for (int l = 0; l < Blocks.Count; l++)
        {
            var (b, r) = (Blocks[l], runners[l]);
            var (inner, hi, wi) = r.Conv1.Run(x, batch, h, w, Activation, threads, direct);
            var (y, ho, wo) = r.Conv2.Run(inner, batch, hi, wi, "linear", threads, direct);
            if (r.Projection is { } p) Add(y, p.Run(x, batch, h, w, "linear", threads, direct).Y);
            else AddSubsampled(y, x, batch, shortcutSources[l]!, h, w, b.Conv1.Stride, ho, wo);
            SparseModel.Activate(y, Activation);
            (x, h, w) = (y, ho, wo);
        }
        return SparseConvNet.Head(x, batch, h * w, Classifier, threads);
    }

    float[] ISparseNetwork.Forward(float[] inputs, int batch, int threads) => Forward(inputs, batch, threads);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Add(float[] y, float[] shortcut)
    {
        for (int i = 0; i < y.Length; i++) y[i] += shortcut[i];
    }

    /// <summary>
    /// Option A (and the identity): <paramref name="y"/> (<c>[out, N, Ho, Wo]</c>) += channel-major
    /// <paramref name="x"/> (<c>[channels, N, H, W]</c>) subsampled by <paramref name="stride"/>, output channel o
    /// receiving input channel <paramref name="sources"/>[o] (none when −1; in the dense network input channel c lands
    /// on <c>ZeroChannelsBefore</c> + c, BasicBlock.Shortcut).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void AddSubsampled(float[] y, float[] x, int batch, int[] sources, int h, int w, int stride, int ho, int wo)
    {
        for (int o = 0; o < sources.Length; o++)
            for (int n = 0; n < batch && sources[o] >= 0; n++)
            {
                long src = ((long)sources[o] * batch + n) * h * w, dst = ((long)o * batch + n) * ho * wo;
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++) y[dst + i * wo + j] += x[src + (long)i * stride * w + j * stride];
            }
    }
}
