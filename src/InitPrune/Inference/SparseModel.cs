using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using System.Text.Json.Serialization;
using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Inference;

/// <summary>
/// One linear layer of a sparse model: <c>y = W x + b</c> with W <c>[OutFeatures, InFeatures]</c> held either as CSR
/// (<see cref="Csr"/>) or dense row-major (<see cref="Dense"/>). <see cref="KeptUnits"/> are the indices, in the
/// original network, of the output units this layer still has (all of them for the output layer).
/// </summary>
public sealed record SparseLayer(string Name, int InFeatures, int OutFeatures, CsrMatrix? Csr, float[]? Dense, float[]? Bias, int[] KeptUnits, int OriginalOutFeatures)
{
    public bool IsCsr => Csr is not null;
    public long StoredWeights => Csr?.Nnz ?? (long)InFeatures * OutFeatures;
    public long Nonzeros => Csr?.Nnz ?? Dense!.LongCount(v => v != 0);

    /// <summary>The row-major dense weight (a copy when stored as CSR).</summary>
    public float[] DenseWeight() => Csr?.ToDense() ?? Dense!;
}

/// <summary>The architecture a sparse model file carries in its metadata (<c>architecture</c>, JSON); docs/inference.md describes it.</summary>
public sealed record SparseArchitecture(
    string Family,
    string Model,
    string Activation,
    long[] InputShape,
    int Outputs,
    IReadOnlyList<SparseLayerInfo> Layers,
    string InitpruneVersion,
    IReadOnlyDictionary<string, string> Source);

/// <summary>One layer in the metadata: storage <c>csr</c> or <c>dense</c>; <c>kept_units</c> indexes the original layer's outputs.</summary>
public sealed record SparseLayerInfo(string Name, string Kind, int InFeatures, int OutFeatures, int OriginalOutFeatures, string Storage, long Nnz, bool Bias, bool Activation, int[] KeptUnits);

/// <summary>
/// A pruned MLP in compact form, runnable from its file alone: linear layers in order, the activation after each one
/// but the last. Inputs are flattened samples; <see cref="Forward"/> runs the sparse kernels.
/// </summary>
public sealed class SparseModel : ISparseNetwork
{
    public const string FormatName = SparseFile.FormatName;
    public const string FormatVersion = SparseFile.FormatVersion;

    internal static readonly JsonSerializerOptions MetadataJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public SparseModel(string model, string activation, long[] inputShape, IReadOnlyList<SparseLayer> layers, IReadOnlyDictionary<string, string>? source = null, string? version = null)
    {
        if (layers.Count == 0) throw new InitPruneException("a sparse model needs at least one layer");
        long inputSize = inputShape.Aggregate(1L, (a, b) => a * b);
        if (layers[0].InFeatures != inputSize)
            throw new InitPruneException($"the first layer takes {layers[0].InFeatures} inputs but the input shape [{string.Join(",", inputShape)}] has {inputSize}");
        for (int l = 1; l < layers.Count; l++)
        {
            if (layers[l].InFeatures != layers[l - 1].OutFeatures)
                throw new InitPruneException($"layer '{layers[l].Name}' takes {layers[l].InFeatures} inputs but '{layers[l - 1].Name}' gives {layers[l - 1].OutFeatures}");
        }
        Activations.Create(activation).Dispose();
        Model = model;
        Activation = activation;
        InputShape = inputShape;
        Layers = layers;
        Source = source ?? new Dictionary<string, string>();
        Version = version ?? EnvironmentProbe.Current().InitPruneVersion;
    }

    public string Model { get; }
    public string Activation { get; }
    public long[] InputShape { get; }
    public IReadOnlyList<SparseLayer> Layers { get; }
    public IReadOnlyDictionary<string, string> Source { get; }
    public string Version { get; }
    public int InputSize => Layers[0].InFeatures;
    public int Outputs => Layers[^1].OutFeatures;

    /// <summary>Weights and biases stored (CSR values, dense entries, biases).</summary>
    public long StoredParameters => Layers.Sum(l => l.StoredWeights + (l.Bias?.Length ?? 0));

    public SparseArchitecture Architecture => new("mlp", Model, Activation, InputShape, Outputs,
        [.. Layers.Select((l, i) => new SparseLayerInfo(l.Name, "linear", l.InFeatures, l.OutFeatures, l.OriginalOutFeatures, l.IsCsr ? "csr" : "dense",
            l.Csr?.Nnz ?? (long)l.InFeatures * l.OutFeatures, l.Bias is not null, i < Layers.Count - 1, l.KeptUnits))],
        Version, Source);

    public IReadOnlyList<string> LayerNames => [.. Layers.Select(l => l.Name)];

    /// <summary>Writes the model as safetensors (tensors <c>&lt;layer&gt;.crow_indices|col_indices|values</c> or <c>&lt;layer&gt;.weight</c>, <c>&lt;layer&gt;.bias</c>; architecture in the metadata).</summary>
    public void Save(string path)
    {
        using var tensors = new TensorDict();
        foreach (var l in Layers) SparseFile.AddWeight(tensors, l.Name, l.Csr, l.Dense, [l.OutFeatures, l.InFeatures], l.Bias);
        SparseFile.Save(path, tensors, JsonSerializer.Serialize(Architecture, MetadataJson));
    }

    /// <summary>Reads an MLP file <see cref="Save"/> wrote; anything else is a one-line error (<see cref="SparseFile.Load"/> reads every family).</summary>
    public static SparseModel Load(string path) => SparseFile.Load(path) as SparseModel
        ?? throw new InitPruneException($"{path} holds a sparse conv net, not an MLP");

    internal static SparseModel Read(TensorDict tensors, string text, string path)
    {
        var arch = SparseFile.ReadArchitecture<SparseArchitecture>(text, path, a => !(a.Layers is null || a.InputShape is null), "layers or input_shape");
        var layers = arch.Layers.Select(info => ReadLayer(tensors, info, path)).ToList();
        return new SparseModel(arch.Model, arch.Activation, arch.InputShape, layers, arch.Source, arch.InitpruneVersion);
    }

    internal static SparseLayer ReadLayer(TensorDict tensors, SparseLayerInfo info, string path)
    {
        var (csr, dense) = SparseFile.ReadWeight(tensors, info.Name, info.Storage, info.OutFeatures, info.InFeatures, path);
        float[]? bias = info.Bias ? SparseFile.ReadBias(tensors, info.Name, info.OutFeatures, path) : null;
        return new SparseLayer(info.Name, info.InFeatures, info.OutFeatures, csr, dense, bias, info.KeptUnits, info.OriginalOutFeatures);
    }

    /// <summary>
    /// The logits (<c>[batch, outputs]</c>, row-major) of <paramref name="batch"/> flattened samples
    /// (<c>[batch, inputs]</c>, row-major); <paramref name="kernels"/> chooses per layer (default: managed everywhere);
    /// <paramref name="threads"/> caps the managed kernels' threads (0: all cores; the result does not depend on it).
    /// At batch 1 the sample is already feature-major: nothing is transposed or copied, one array per layer is allocated.
    /// </summary>
    public float[] Forward(float[] inputs, int batch, IReadOnlyList<KernelKind>? kernels = null, IReadOnlyList<TorchLinear>? torchLayers = null, bool vectorize = true, int threads = 0)
    {
        if (inputs.Length != (long)batch * InputSize)
            throw new ArgumentException($"{inputs.Length} inputs for {batch} samples of {InputSize}", nameof(inputs));
        if (kernels is not null && kernels.Any(k => k == KernelKind.Torch)) return ForwardExact(inputs, batch, kernels, torchLayers, vectorize, threads);
        // Intermediate activations live in pooled buffers (the kernels use only their first rows · batch entries):
        // at high sparsity a fresh zeroed array per layer costs more than the layer's product.
        var pool = ArrayPool<float>.Shared;
        float[] x;
        int first = 0;
        // ReLU is fused into the kernels' stores (one pass less over every hidden activation); others run after each layer.
        bool rented = batch > 1, relu = Activation == "relu";
        if (batch == 1)
        {
            x = inputs;
        }
        else if (Layers[0].Csr is not null)
        {
            // Only the inputs the first layer reads are transposed; at high sparsity that is a small part of them.
            var (used, compact) = firstLayer ??= FirstLayerOnUsedInputs();
            var gathered = BatchLayout.Transpose(inputs, batch, InputSize, used, pool.Rent(used.Length * batch), vectorize);
            x = pool.Rent(Layers[0].OutFeatures * batch);
            SparseKernels.Multiply(compact, Layers[0].Bias, gathered, batch, x, vectorize, threads, relu && Layers.Count > 1);
            pool.Return(gathered);
            if (Layers.Count > 1 && !relu) Activate(x.AsSpan(0, Layers[0].OutFeatures * batch), Activation);
            first = 1;
        }
        else
        {
            x = Transpose(inputs, batch, InputSize, pool.Rent(inputs.Length), vectorize);
        }
        for (int l = first; l < Layers.Count; l++)
        {
            int n = Layers[l].OutFeatures * batch;
            bool last = l == Layers.Count - 1;
            var y = last && batch == 1 ? new float[n] : pool.Rent(n);
            RunLayer(l, x, batch, y, KernelKind.Managed, null, vectorize, threads, relu && !last);
            if (!last && !relu) Activate(y.AsSpan(0, n), Activation);
            if (rented) pool.Return(x);
            x = y;
            rented = !(last && batch == 1);
        }
        if (batch == 1) return x;
        var logits = Transpose(x, Outputs, batch, new float[Outputs * batch], vectorize);
        pool.Return(x);
        return logits;
    }

    /// <summary>As <see cref="Forward"/>, with a fresh array of the exact size per layer (libtorch's kernels read the whole array).</summary>
    float[] ForwardExact(float[] inputs, int batch, IReadOnlyList<KernelKind> kernels, IReadOnlyList<TorchLinear>? torchLayers, bool vectorize, int threads)
    {
        var x = batch == 1 ? inputs : Transpose(inputs, batch, InputSize, new float[inputs.Length]);
        for (int l = 0; l < Layers.Count; l++)
        {
            var y = new float[(long)Layers[l].OutFeatures * batch];
            RunLayer(l, x, batch, y, kernels[l], torchLayers, vectorize, threads);
            if (l < Layers.Count - 1) Activate(y);
            x = y;
        }
        return batch == 1 ? x : Transpose(x, Outputs, batch, new float[x.Length]);
    }

    float[] ISparseNetwork.Forward(float[] inputs, int batch, int threads) => Forward(inputs, batch, threads: threads);

    (int[] Used, CsrMatrix Csr)? firstLayer;

    (int[] Used, CsrMatrix Csr) FirstLayerOnUsedInputs() => OnUsedColumns(Layers[0].Csr!);

    /// <summary>The columns <paramref name="csr"/> reads, ascending, and the matrix on those columns alone (the same entries in the same order).</summary>
    internal static (int[] Used, CsrMatrix Csr) OnUsedColumns(CsrMatrix csr)
    {
        var used = csr.ColumnIndices.Distinct().Order().Select(c => (int)c).ToArray();
        var position = new long[csr.Columns];
        for (int u = 0; u < used.Length; u++) position[used[u]] = u;
        return (used, new CsrMatrix(csr.Rows, used.Length, csr.RowPointers, Array.ConvertAll(csr.ColumnIndices, c => position[c]), csr.Values));
    }

    /// <summary>Layer <paramref name="l"/>'s product into <paramref name="y"/>; <paramref name="relu"/> (managed kernels only) fuses ReLU into it.</summary>
    internal void RunLayer(int l, float[] x, int batch, float[] y, KernelKind kernel, IReadOnlyList<TorchLinear>? torchLayers, bool vectorize = true, int threads = 0, bool relu = false)
    {
        var layer = Layers[l];
        if (kernel == KernelKind.Torch)
            (torchLayers ?? throw new ArgumentException("torch kernels need the layers in libtorch", nameof(torchLayers)))[l].Multiply(x, batch, y);
        else if (layer.Csr is { } csr)
            SparseKernels.Multiply(csr, layer.Bias, x, batch, y, vectorize, threads, relu);
        else
            SparseKernels.Multiply(layer.Dense!, layer.OutFeatures, layer.InFeatures, layer.Bias, x, batch, y, vectorize, threads, relu);
    }

    /// <summary>The layers in libtorch, for <see cref="KernelKind.Torch"/>; the caller disposes them.</summary>
    public List<TorchLinear> ToTorch() => [.. Layers.Select(l => new TorchLinear(l))];

    /// <summary>
    /// Per layer, the faster kernel on <paramref name="inputs"/> (<paramref name="batch"/> flattened samples): each is
    /// timed on the layer's real input, best of three after a warm-up.
    /// </summary>
    public List<KernelKind> ChooseKernels(float[] inputs, int batch, IReadOnlyList<TorchLinear> torchLayers)
    {
        var choice = new List<KernelKind>();
        var x = Transpose(inputs, batch, InputSize, new float[inputs.Length]);
        for (int l = 0; l < Layers.Count; l++)
        {
            var y = new float[(long)Layers[l].OutFeatures * batch];
            double Time(KernelKind k)
            {
                RunLayer(l, x, batch, y, k, torchLayers);
                double best = double.MaxValue;
                for (int r = 0; r < 3; r++)
                {
                    var clock = Stopwatch.StartNew();
                    RunLayer(l, x, batch, y, k, torchLayers);
                    best = Math.Min(best, clock.Elapsed.TotalSeconds);
                }
                return best;
            }
            choice.Add(Time(KernelKind.Torch) < Time(KernelKind.Managed) ? KernelKind.Torch : KernelKind.Managed);
            RunLayer(l, x, batch, y, KernelKind.Managed, torchLayers);
            if (l < Layers.Count - 1) Activate(y);
            x = y;
        }
        return choice;
    }

    internal void Activate(float[] values) => Activate(values, Activation);

    /// <summary>
    /// <c>v &gt; 0 ? v : 0</c> in place (NaN and −0 become +0), eight values per compare and select: a branch on the
    /// sign mispredicts about every other value and cost more than the sparse layer's product.
    /// </summary>
    static void Relu(Span<float> values)
    {
        var vectors = MemoryMarshal.Cast<float, Vector256<float>>(values);
        for (int i = 0; i < vectors.Length; i++)
            vectors[i] = Vector256.ConditionalSelect(Vector256.GreaterThan(vectors[i], Vector256<float>.Zero), vectors[i], Vector256<float>.Zero);
        for (int i = vectors.Length * Vector256<float>.Count; i < values.Length; i++) values[i] = values[i] > 0 ? values[i] : 0f;
    }

    /// <summary>The activation, applied in place (ReLU here, others by libtorch: the dense network's own function).</summary>
    internal static void Activate(Span<float> values, string activation)
    {
        if (activation == "linear") return;
        if (activation == "relu")
        {
            Relu(values);
            return;
        }
        using var scope = NewDisposeScope();
        using var phi = Activations.Create(activation);
        phi.forward(torch.tensor(values.ToArray())).data<float>().CopyTo(values);
    }

    /// <summary>The transpose of a row-major <c>[rows, columns]</c> matrix into <paramref name="t"/>.</summary>
    static float[] Transpose(float[] a, int rows, int columns, float[] t, bool vectorize = true) => BatchLayout.Transpose(a, rows, columns, null, t, vectorize);
}
