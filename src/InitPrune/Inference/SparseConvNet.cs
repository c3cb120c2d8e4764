using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Inference;

/// <summary>
/// One convolution of a sparse conv net: <c>k × k</c> kernel, stride, padding (<c>zeros</c> or <c>circular</c>), the
/// weight as an <c>[OutChannels, InChannels·k·k]</c> matrix (PyTorch's <c>weight.reshape(out, -1)</c>) in CSR or dense,
/// BatchNorm already folded into weight and bias, the activation after it, and a 2 × 2 max-pooling before it when
/// <see cref="PoolBefore"/>. <see cref="KeptChannels"/> index the original layer's output channels.
/// </summary>
public sealed record SparseConv(string Name, int InChannels, int OutChannels, int KernelSize, int Stride, int Padding, string PaddingMode, bool PoolBefore,
    CsrMatrix? Csr, float[]? Dense, float[]? Bias, bool BatchNormFolded, int[] KeptChannels, int OriginalOutChannels)
{
    public int Columns => InChannels * KernelSize * KernelSize;
    public long StoredWeights => Csr?.Nnz ?? (long)OutChannels * Columns;
    public long Nonzeros => Csr?.Nnz ?? Dense!.LongCount(v => v != 0);

    /// <summary>The row-major <c>[OutChannels, Columns]</c> weight (a copy when stored as CSR).</summary>
    public float[] DenseWeight() => Csr?.ToDense() ?? Dense!;

    /// <summary>The output size of an input of <paramref name="h"/> × <paramref name="w"/> (after the pooling before it, if any).</summary>
    public (int H, int W) OutputSize(int h, int w)
    {
        if (PoolBefore) (h, w) = (h / 2, w / 2);
        return ((h + 2 * Padding - KernelSize) / Stride + 1, (w + 2 * Padding - KernelSize) / Stride + 1);
    }

    /// <summary>The convolution as the metadata describes it.</summary>
    public SparseConvInfo Info => new(Name, InChannels, OutChannels, OriginalOutChannels, KernelSize, Stride, Padding, PaddingMode,
        PoolBefore, Csr is null ? "dense" : "csr", StoredWeights, Bias is not null, BatchNormFolded, KeptChannels);

    /// <summary>Checks what a reader can run: kernel, stride, padding, mode; the output of <paramref name="h"/> × <paramref name="w"/> must not be empty.</summary>
    internal (int H, int W) Check(long[] inputShape, int h, int w)
    {
        if (PaddingMode is not ("zeros" or "circular") || KernelSize < 1 || Stride < 1 || Padding < 0)
            throw new InitPruneException($"convolution '{Name}' has kernel {KernelSize}, stride {Stride}, padding {Padding} ({PaddingMode}): not one this reader runs");
        var (ho, wo) = OutputSize(h, w);
        if (ho < 1 || wo < 1) throw new InitPruneException($"the input [{string.Join(",", inputShape)}] is too small for convolution '{Name}'");
        return (ho, wo);
    }

    /// <summary>
    /// Checks a sample shape <c>[C, H, W]</c> and the chain of <paramref name="convs"/> it runs through (each takes the
    /// channels the one before gives, each <see cref="Check"/>ed): the last one's channels and output size.
    /// </summary>
    internal static (int Channels, int H, int W) CheckChain(long[] inputShape, IReadOnlyList<SparseConv> convs)
    {
        if (inputShape.Length != 3 || inputShape.Any(d => d < 1))
            throw new InitPruneException($"a sparse conv net takes samples of shape [C,H,W], not [{string.Join(",", inputShape)}]");
        if (convs.Count == 0) throw new InitPruneException("a sparse conv net needs at least one convolution");
        long channels = inputShape[0];
        int h = (int)inputShape[1], w = (int)inputShape[2];
        foreach (var c in convs)
        {
            if (c.InChannels != channels)
                throw new InitPruneException($"convolution '{c.Name}' takes {c.InChannels} channels but gets {channels}");
            (h, w) = c.Check(inputShape, h, w);
            channels = c.OutChannels;
        }
        return ((int)channels, h, w);
    }

    /// <summary>
    /// Multiply-adds per sample of a chain of convolutions on <paramref name="inputShape"/>: the kept ones (every stored
    /// weight once per output position) and the dense chain's (original channel counts); with the last one's original
    /// channels and output size.
    /// </summary>
    internal static (long Sparse, long Dense, long Channels, int H, int W) ChainMultiplyAdds(long[] inputShape, IReadOnlyList<SparseConv> convs)
    {
        long sparse = 0, dense = 0, inChannels = inputShape[0];
        int h = (int)inputShape[1], w = (int)inputShape[2];
        foreach (var c in convs)
        {
            (h, w) = c.OutputSize(h, w);
            sparse += c.Nonzeros * h * w;
            dense += (long)c.OriginalOutChannels * inChannels * c.KernelSize * c.KernelSize * h * w;
            inChannels = c.OriginalOutChannels;
        }
        return (sparse, dense, inChannels, h, w);
    }

    /// <summary><c>&lt;name&gt;.crow_indices|col_indices|values</c> or <c>&lt;name&gt;.weight</c> <c>[out, in, k, k]</c>, and <c>&lt;name&gt;.bias</c>.</summary>
    internal void AddTo(TensorDict tensors) => SparseFile.AddWeight(tensors, Name, Csr, Dense, [OutChannels, InChannels, KernelSize, KernelSize], Bias);

    internal static SparseConv Read(TensorDict tensors, SparseConvInfo info, string path)
    {
        var (csr, dense) = SparseFile.ReadWeight(tensors, info.Name, info.Storage, info.OutChannels, info.InChannels * info.KernelSize * info.KernelSize, path);
        var bias = info.Bias ? SparseFile.ReadBias(tensors, info.Name, info.OutChannels, path) : null;
        return new SparseConv(info.Name, info.InChannels, info.OutChannels, info.KernelSize, info.Stride, info.Padding, info.PaddingMode, info.PoolBefore,
            csr, dense, bias, info.BatchNormFolded, info.KeptChannels, info.OriginalOutChannels);
    }
}

/// <summary>One convolution in the metadata of a <c>pooled-convnet</c> file (docs/inference.md).</summary>
public sealed record SparseConvInfo(string Name, int InChannels, int OutChannels, int OriginalOutChannels, int KernelSize, int Stride, int Padding, string PaddingMode,
    bool PoolBefore, string Storage, long Nnz, bool Bias, bool BatchNormFolded, int[] KeptChannels);

/// <summary>The architecture a <c>pooled-convnet</c> file carries: convolutions in order, global average pooling, one linear classifier.</summary>
public sealed record SparseConvArchitecture(
    string Family,
    string Model,
    string Activation,
    long[] InputShape,
    int Outputs,
    IReadOnlyList<SparseConvInfo> Convs,
    SparseLayerInfo Classifier,
    string InitpruneVersion,
    IReadOnlyDictionary<string, string> Source);

/// <summary>
/// A pruned conv net of the vanilla-CNN / VGG shape (<see cref="PooledConvNet"/>) in compact form: convolutions as
/// sparse × dense products over the im2col matrix of the input (only the rows some kept weight reads are built),
/// activations held channel-major (<c>[C, N, H, W]</c>), so a convolution is the linear kernel of
/// <see cref="SparseKernels"/> with the batch dimension <c>N·H·W</c>; then global average pooling and the classifier.
/// Every step has one fixed order of operations, so no thread count changes a bit.
/// </summary>
public sealed class SparseConvNet : ISparseNetwork
{
    public const string Family = "pooled-convnet";

    public SparseConvNet(string model, string activation, long[] inputShape, IReadOnlyList<SparseConv> convs, SparseLayer classifier,
        IReadOnlyDictionary<string, string>? source = null, string? version = null)
    {
        var (channels, _, _) = SparseConv.CheckChain(inputShape, convs);
        if (classifier.InFeatures != channels)
            throw new InitPruneException($"the classifier takes {classifier.InFeatures} features but the last convolution gives {channels} channels");
        Activations.Create(activation).Dispose();
        Model = model;
        Activation = activation;
        InputShape = inputShape;
        Convs = convs;
        Classifier = classifier;
        Source = source ?? new Dictionary<string, string>();
        Version = version ?? EnvironmentProbe.Current().InitPruneVersion;
        runners = [.. convs.Select(c => new Runner(c))];
    }

    public string Model { get; }
    public string Activation { get; }
    public long[] InputShape { get; }
    public IReadOnlyList<SparseConv> Convs { get; }
    public SparseLayer Classifier { get; }
    public IReadOnlyDictionary<string, string> Source { get; }
    public string Version { get; }
    public int InputSize => (int)(InputShape[0] * InputShape[1] * InputShape[2]);
    public int Outputs => Classifier.OutFeatures;
    public long StoredParameters => Convs.Sum(c => c.StoredWeights + (c.Bias?.Length ?? 0)) + Classifier.StoredWeights + (Classifier.Bias?.Length ?? 0);
    public IReadOnlyList<string> LayerNames => [.. Convs.Select(c => c.Name), Classifier.Name];

    /// <summary>
    /// Multiply-adds per sample: the kept ones (every stored weight once per output position, the classifier's once)
    /// and the dense network's (original channel counts).
    /// </summary>
    public (long Sparse, long Dense) MultiplyAdds()
    {
        var (sparse, dense, channels, _, _) = SparseConv.ChainMultiplyAdds(InputShape, Convs);
        return (sparse + Classifier.Nonzeros, dense + Classifier.OriginalOutFeatures * channels);
    }

    public SparseConvArchitecture Architecture => new(Family, Model, Activation, InputShape, Outputs,
        [.. Convs.Select(c => c.Info)], ClassifierInfo(Classifier), Version, Source);

    /// <summary>The metadata of a conv net's linear classifier (no activation after it).</summary>
    internal static SparseLayerInfo ClassifierInfo(SparseLayer c) =>
        new(c.Name, "linear", c.InFeatures, c.OutFeatures, c.OriginalOutFeatures, c.IsCsr ? "csr" : "dense", c.StoredWeights, c.Bias is not null, false, c.KeptUnits);

    /// <summary>Writes the model: per convolution <c>&lt;name&gt;.crow_indices|col_indices|values</c> or <c>&lt;name&gt;.weight</c> <c>[out, in, k, k]</c>, and <c>&lt;name&gt;.bias</c>; the classifier as in an MLP file.</summary>
    public void Save(string path)
    {
        using var tensors = new TensorDict();
        foreach (var c in Convs) c.AddTo(tensors);
        SparseFile.AddWeight(tensors, Classifier.Name, Classifier.Csr, Classifier.Dense, [Classifier.OutFeatures, Classifier.InFeatures], Classifier.Bias);
        SparseFile.Save(path, tensors, JsonSerializer.Serialize(Architecture, SparseModel.MetadataJson));
    }

    internal static SparseConvNet Read(TensorDict tensors, string text, string path)
    {
        var arch = SparseFile.ReadArchitecture<SparseConvArchitecture>(text, path, a => !(a.Convs is null || a.Classifier is null || a.InputShape is null), "convs, classifier or input_shape");
        var convs = arch.Convs.Select(info => SparseConv.Read(tensors, info, path)).ToList();
        var classifier = SparseModel.ReadLayer(tensors, arch.Classifier, path);
        return new SparseConvNet(arch.Model, arch.Activation, arch.InputShape, convs, classifier, arch.Source, arch.InitpruneVersion);
    }

    readonly Runner[] runners;

    /// <summary>
    /// A convolution ready to run: the weight columns (im2col rows) it reads and, for CSR, its weight on those alone;
    /// per kept weight its input channel, kernel row and kernel column (decoded once, for the direct kernel).
    /// </summary>
    internal sealed class Runner(SparseConv conv)
    {
        readonly (int[] Rows, CsrMatrix? Csr) used = conv.Csr is { } csr ? SparseModel.OnUsedColumns(csr) : ([.. Enumerable.Range(0, conv.Columns)], null);
        readonly (int[] Channel, int[] Dy, int[] Dx)? taps = conv.Csr is { } csr ? Taps(csr, conv.KernelSize) : null;

        static (int[], int[], int[]) Taps(CsrMatrix csr, int k) =>
            (Array.ConvertAll(csr.Columns32, c => c / (k * k)), Array.ConvertAll(csr.Columns32, c => c / k % k), Array.ConvertAll(csr.Columns32, c => c % k));

        /// <summary>
        /// The convolution (and the pooling before it) of channel-major <paramref name="x"/> (<c>[C, N, H, W]</c>),
        /// then <paramref name="activation"/> (<c>linear</c>: none): the output <c>[out, N, Ho, Wo]</c> and its size.
        /// </summary>
        public (float[] Y, int H, int W) Run(float[] x, int batch, int h, int w, string activation, int threads, bool direct)
        {
            var (ho, wo) = conv.OutputSize(h, w);
            if (conv.PoolBefore) (x, h, w) = MaxPool2(x, conv.InChannels * batch, h, w);
            var y = GC.AllocateUninitializedArray<float>(checked(conv.OutChannels * batch * ho * wo));
            bool relu = activation == "relu";
            Convolve(x, batch, h, w, conv, used.Rows, used.Csr, taps, ho, wo, y, relu, threads, direct);
            if (!relu) SparseModel.Activate(y, activation);
            return (y, ho, wo);
        }
    }

    /// <summary>
    /// The logits (<c>[batch, outputs]</c>, row-major) of <paramref name="batch"/> samples <c>[batch, C, H, W]</c>
    /// (row-major, as PyTorch holds them); <paramref name="threads"/> caps the threads (0: all cores; no bit depends on it).
    /// </summary>
    public float[] Forward(float[] inputs, int batch, int threads = 0) => Forward(inputs, batch, threads, direct: true);

    /// <summary>As <see cref="Forward(float[], int, int)"/>; <paramref name="direct"/> false runs every convolution through im2col (tests compare the two).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal float[] Forward(float[] inputs, int batch, int threads, bool direct)
    {
        if (inputs.Length != (long)batch * InputSize)
            throw new ArgumentException($"{inputs.Length} inputs for {batch} samples of {InputSize}", nameof(inputs));
        int h = (int)InputShape[1], w = (int)InputShape[2];
        var x = ChannelMajor(inputs, batch, InputShape);
        foreach (var r in runners) (x, h, w) = r.Run(x, batch, h, w, Activation, threads, direct);
        return Head(x, batch, h * w, Classifier, threads);
    }

    /// <summary>Samples <c>[N, C, H, W]</c> as channel-major <c>[C, N, H, W]</c> (the same array at batch 1).</summary>
    internal static float[] ChannelMajor(float[] inputs, int batch, long[] inputShape) =>
        batch == 1 ? inputs : SwapFirstTwo(inputs, batch, (int)inputShape[0], (int)(inputShape[1] * inputShape[2]));

    /// <summary>Global average pooling of channel-major <paramref name="x"/> (planes of <paramref name="area"/>), then the classifier: logits <c>[N, outputs]</c>.</summary>
    internal static float[] Head(float[] x, int batch, int area, SparseLayer classifier, int threads)
    {
        var pooled = new float[x.Length / area];
        for (int i = 0; i < pooled.Length; i++)
        {
            float s = 0f;
            var plane = x.AsSpan(i * area, area);
            for (int p = 0; p < area; p++) s += plane[p];
            pooled[i] = s / area;
        }
        var logits = new float[(long)classifier.OutFeatures * batch];
        if (classifier.Csr is { } fc) SparseKernels.Multiply(fc, classifier.Bias, pooled, batch, logits, threads: threads);
        else SparseKernels.Multiply(classifier.Dense!, classifier.OutFeatures, classifier.InFeatures, classifier.Bias, pooled, batch, logits, threads: threads);
        return batch == 1 ? logits : SwapFirstTwo(logits, classifier.OutFeatures, batch, 1);
    }

    float[] ISparseNetwork.Forward(float[] inputs, int batch, int threads) => Forward(inputs, batch, threads);

    /// <summary><c>[a, b, inner]</c> → <c>[b, a, inner]</c> (samples-major ↔ channel-major).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float[] SwapFirstTwo(float[] x, int a, int b, int inner)
    {
        var t = new float[x.Length];
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++)
                x.AsSpan((i * b + j) * inner, inner).CopyTo(t.AsSpan((j * a + i) * inner, inner));
        return t;
    }

    /// <summary>PyTorch's MaxPool2d(2, 2) on <paramref name="planes"/> planes of <c>h × w</c> (odd edges dropped).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static (float[] Y, int H, int W) MaxPool2(float[] x, int planes, int h, int w)
    {
        int ho = h / 2, wo = w / 2;
        var y = GC.AllocateUninitializedArray<float>(checked(planes * ho * wo));
        for (int p = 0; p < planes; p++)
        {
            long src = (long)p * h * w, dst = (long)p * ho * wo;
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                {
                    long a = src + 2L * i * w + 2 * j;
                    y[dst + i * wo + j] = MathF.Max(MathF.Max(x[a], x[a + 1]), MathF.Max(x[a + w], x[a + w + 1]));
                }
        }
        return (y, ho, wo);
    }

    /// <summary>im2col floats per chunk of output positions: 128 KB, so a chunk's im2col rows stay in the core's L2 while the kernel reads them.</summary>
    const int ChunkFloats = 1 << 17;

    [ThreadStatic] static float[]? colsScratch;
    [ThreadStatic] static float[]? outScratch;

    /// <summary>
    /// <paramref name="y"/> (<c>[out, N·Ho·Wo]</c>) = the convolution of channel-major <paramref name="x"/>: output
    /// positions in chunks, each the im2col of its positions (the <paramref name="rows"/> some weight reads) times the
    /// weight, written into its columns of y. Chunks run in parallel; each sum is the kernel's fixed order, so no
    /// thread count changes a bit.
    /// </summary>
    static void Convolve(float[] x, int batch, int h, int w, SparseConv conv, int[] rows, CsrMatrix? compact, (int[] Channel, int[] Dy, int[] Dx)? taps,
        int ho, int wo, float[] y, bool relu, int threads, bool direct)
    {
        int max = threads == 0 ? Environment.ProcessorCount : threads;
        if (direct && UseDirect(conv, rows.Length, wo) && taps is { } t)
        {
            var csr = conv.Csr!;
            int outs = conv.OutChannels, parts = Math.Min(outs, max * 4);
            if (max == 1 || csr.Nnz * batch * ho * wo < SparseKernels.ParallelWork) DirectRows(x, batch, h, w, conv, csr, t, ho, wo, y, relu, 0, outs);
            else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = max },
                c => DirectRows(x, batch, h, w, conv, csr, t, ho, wo, y, relu, (int)((long)outs * c / parts), (int)((long)outs * (c + 1) / parts)));
            return;
        }
        int positions = batch * ho * wo;
        int len = Math.Min(positions, Math.Max(256, ChunkFloats / Math.Max(1, rows.Length)));
        int chunks = (positions + len - 1) / len;
        void Chunk(int c)
        {
            int p0 = c * len, n = Math.Min(len, positions - p0);
            var cols = Scratch(ref colsScratch, (long)rows.Length * n);
            var part = Scratch(ref outScratch, (long)conv.OutChannels * n);
            Im2Col(x, batch, h, w, conv, rows, ho, wo, p0, n, cols);
            if (compact is not null) SparseKernels.Multiply(compact, conv.Bias, cols, n, part, threads: 1);
            else SparseKernels.Multiply(conv.Dense!, conv.OutChannels, conv.Columns, conv.Bias, cols, n, part, threads: 1);
            for (int o = 0; o < conv.OutChannels; o++)
            {
                var dst = y.AsSpan(o * positions + p0, n);
                if (relu) Relu(part.AsSpan(o * n, n), dst);
                else part.AsSpan(o * n, n).CopyTo(dst);
            }
        }
        if (max == 1 || chunks == 1) for (int c = 0; c < chunks; c++) Chunk(c);
        else Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = max }, Chunk);
    }

    /// <summary>
    /// The direct kernel runs CSR convolutions of stride 1 with zero padding and output rows of 8 or more on AVX2
    /// when im2col would cost at least half the product: im2col writes and reads one row per weight column read
    /// (<paramref name="usedColumns"/>), the product one row per kept weight. Measured on VGG16 (docs/benchmarks.md):
    /// direct is ahead at 99% sparsity (one kept weight per column), im2col at 90–95%. Both give the same bits.
    /// </summary>
    static bool UseDirect(SparseConv conv, int usedColumns, int wo) =>
        SparseKernels.Vectorized && conv.Csr is { } csr && conv.Stride == 1 && conv.PaddingMode == "zeros" && wo >= 8 && 2L * usedColumns >= csr.Nnz;

    /// <summary>
    /// Direct sparse convolution of output channels <paramref name="oBegin"/>..<paramref name="oEnd"/>: each output row
    /// (32 positions at a time, in four vector accumulators) sums, entry by entry in CSR order, the kept weight times
    /// the input row it meets, read straight from <paramref name="x"/> at the weight's offset (an implicit im2col;
    /// lanes outside the input are masked to 0 and rows outside it skipped). That is the im2col product's chain of
    /// fused multiply-adds with the same values, so the bits are the same, without writing the im2col matrix.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void DirectRows(float[] x, int batch, int h, int w, SparseConv conv, CsrMatrix csr, (int[] Channel, int[] Dy, int[] Dx) taps,
        int ho, int wo, float[] y, bool relu, int oBegin, int oEnd)
    {
        int pad = conv.Padding, positions = batch * ho * wo;
        long plane = (long)h * w, channelStride = batch * plane;
        var pointers = csr.Pointers32;
        var (channel, dys, dxs) = taps;
        var values = csr.Values;
        var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            // Sample by sample, so the input planes of one sample stay in cache while every output channel reads them.
            for (int n = 0; n < batch; n++)
            {
                for (int o = oBegin; o < oEnd; o++)
                {
                    int e0 = pointers[o], e1 = pointers[o + 1];
                    var bv = Vector256.Create(conv.Bias?[o] ?? 0f);
                    for (int i = 0; i < ho; i++)
                    {
                        float* yRow = yp + (long)o * positions + ((long)n * ho + i) * wo;
                        for (int j = 0; j < wo; j += 32)
                        {
                            int width = Math.Min(32, wo - j);
                            Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                            for (int e = e0; e < e1; e++)
                            {
                                int iy = i + dys[e] - pad;
                                if (iy < 0 || iy >= h) continue;
                                float* xRow = xp + channel[e] * channelStride + n * plane + (long)iy * w;
                                int start = j + dxs[e] - pad;
                                var wv = Vector256.Create(values[e]);
                                a0 = Fma.MultiplyAdd(wv, Load(xRow, start, w, width, lane), a0);
                                if (width > 8) a1 = Fma.MultiplyAdd(wv, Load(xRow, start + 8, w, width - 8, lane), a1);
                                if (width > 16) a2 = Fma.MultiplyAdd(wv, Load(xRow, start + 16, w, width - 16, lane), a2);
                                if (width > 24) a3 = Fma.MultiplyAdd(wv, Load(xRow, start + 24, w, width - 24, lane), a3);
                            }
                            Store(yRow + j, a0 + bv, width, relu, lane);
                            if (width > 8) Store(yRow + j + 8, a1 + bv, width - 8, relu, lane);
                            if (width > 16) Store(yRow + j + 16, a2 + bv, width - 16, relu, lane);
                            if (width > 24) Store(yRow + j + 24, a3 + bv, width - 24, relu, lane);
                        }
                    }
                }
            }
        }
    }

    /// <summary>Eight input values from column <paramref name="start"/> of a row of <paramref name="w"/>; lanes outside the row or beyond <paramref name="lanes"/> read as 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe Vector256<float> Load(float* row, int start, int w, int lanes, Vector256<int> lane)
    {
        if (start >= 0 && start + 8 <= w && lanes >= 8) return Avx.LoadVector256(row + start);
        var index = lane + Vector256.Create(start);
        var valid = Vector256.GreaterThanOrEqual(index, Vector256<int>.Zero) & Vector256.LessThan(index, Vector256.Create(w)) & Vector256.LessThan(lane, Vector256.Create(lanes));
        return Avx.MaskLoad(row + start, valid.AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Store(float* at, Vector256<float> value, int lanes, bool relu, Vector256<int> lane)
    {
        if (relu) value = Avx.Max(value, Vector256<float>.Zero);
        if (lanes >= 8) Avx.Store(at, value);
        else Avx.MaskStore(at, Vector256.LessThan(lane, Vector256.Create(lanes)).AsSingle(), value);
    }

    /// <summary><paramref name="dst"/> = max(<paramref name="src"/>, 0), in vectors where the CPU has them (ReLU fused into the copy out of the chunk).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Relu(ReadOnlySpan<float> src, Span<float> dst)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var srcV = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(src);
            var dstV = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(dst);
            for (int v = 0; v < srcV.Length; v++) dstV[v] = System.Numerics.Vector.Max(srcV[v], System.Numerics.Vector<float>.Zero);
            i = srcV.Length * System.Numerics.Vector<float>.Count;
        }
        for (; i < src.Length; i++) dst[i] = src[i] > 0 ? src[i] : 0f;
    }

    static float[] Scratch(ref float[]? buffer, long length) =>
        buffer is not null && buffer.Length >= length ? buffer : buffer = new float[Math.Max(length, 2 * (buffer?.Length ?? 0))];

    /// <summary>
    /// Columns <paramref name="p0"/>..+<paramref name="n"/> (output positions: sample, row, column) of the im2col
    /// matrix of channel-major <paramref name="x"/> (<c>[C, N, H, W]</c>), rows <paramref name="rows"/> (weight
    /// columns: channel, kernel row, kernel column), into <paramref name="cols"/> (<c>[rows, n]</c>): the input value
    /// each weight column meets at each position, 0 in zero padding, wrapped around in circular padding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Im2Col(float[] x, int batch, int h, int w, SparseConv conv, int[] rows, int ho, int wo, int p0, int n, float[] cols)
    {
        int k = conv.KernelSize, s = conv.Stride, pad = conv.Padding;
        bool circular = conv.PaddingMode == "circular";
        for (int r = 0; r < rows.Length; r++)
        {
            int column = rows[r], channel = column / (k * k), dy = column / k % k, dx = column % k;
            var dst = cols.AsSpan(r * n, n);
            int sample = p0 / (ho * wo), i = p0 / wo % ho, j = p0 % wo;
            for (int q = 0; q < n;)
            {
                int run = Math.Min(wo - j, n - q);
                int iy = i * s + dy - pad;
                if (circular) iy = ((iy % h) + h) % h;
                if (iy < 0 || iy >= h)
                {
                    dst.Slice(q, run).Clear();
                }
                else
                {
                    var line = x.AsSpan((int)(((long)channel * batch + sample) * h * w + (long)iy * w), w);
                    for (int t = 0; t < run; t++)
                    {
                        int ix = (j + t) * s + dx - pad;
                        if (circular) ix = ((ix % w) + w) % w;
                        dst[q + t] = ix >= 0 && ix < w ? line[ix] : 0f;
                    }
                }
                q += run;
                j = 0;
                if (++i == ho)
                {
                    i = 0;
                    sample++;
                }
            }
        }
    }
}
