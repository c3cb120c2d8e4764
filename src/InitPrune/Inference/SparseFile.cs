using System.Text.Json;
using InitPrune.Engine;
using InitPrune.IO;
using static TorchSharp.torch;

namespace InitPrune.Inference;

/// <summary>A compact sparse network that runs from its file alone (<see cref="SparseModel"/>, <see cref="SparseConvNet"/>, <see cref="SparseConvHeadNet"/>, <see cref="SparseResNet"/>).</summary>
public interface ISparseNetwork
{
    string Model { get; }
    string Activation { get; }
    long[] InputShape { get; }
    int InputSize { get; }
    int Outputs { get; }
    long StoredParameters { get; }
    IReadOnlyList<string> LayerNames { get; }

    /// <summary>Logits <c>[batch, outputs]</c> of <c>[batch, …InputShape]</c> samples, row-major, with the managed kernels.</summary>
    float[] Forward(float[] inputs, int batch, int threads = 0);

    void Save(string path);
}

/// <summary>
/// The sparse model file: safetensors with <c>format=initprune-sparse</c>, <c>format_version</c> and the
/// architecture as JSON in the metadata; its <c>family</c> says which network it is (docs/inference.md).
/// </summary>
public static class SparseFile
{
    public const string FormatName = "initprune-sparse";
    public const string FormatVersion = "1";

    /// <summary>Reads any sparse model file; anything else is a one-line error.</summary>
    public static ISparseNetwork Load(string path)
    {
        Safetensors.RequireFile(path);
        var (tensors, metadata) = Safetensors.LoadWithMetadata(path);
        using (tensors)
        {
            if (!metadata.TryGetValue("format", out var format) || format != FormatName || !metadata.TryGetValue("architecture", out var text))
                throw new InitPruneException($"{path} is not a sparse model file (its metadata has no format={FormatName} and architecture): write one with 'initprune export --weights … --out model.sparse.safetensors'");
            if (metadata.GetValueOrDefault("format_version") != FormatVersion)
                throw new InitPruneException($"{path} is sparse model format version {metadata.GetValueOrDefault("format_version")}; this InitPrune reads version {FormatVersion}");
            string? family;
            try
            {
                using var doc = JsonDocument.Parse(text);
                family = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("family", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            }
            catch (JsonException e)
            {
                throw new InitPruneException($"{path}: its architecture metadata is not valid ({CheckpointFormat.OneLine(e.Message)})");
            }
            return family switch
            {
                "mlp" => SparseModel.Read(tensors, text, path),
                SparseConvNet.Family => SparseConvNet.Read(tensors, text, path),
                SparseResNet.Family => SparseResNet.Read(tensors, text, path),
                SparseConvHeadNet.Family => SparseConvHeadNet.Read(tensors, text, path),
                _ => throw new InitPruneException($"{path} holds a '{family}' model; this InitPrune runs the families mlp, {SparseConvNet.Family}, {SparseConvHeadNet.Family} and {SparseResNet.Family}"),
            };
        }
    }

    /// <summary>The architecture JSON of a file's metadata as <typeparamref name="T"/>; when it does not parse or <paramref name="complete"/> fails, a one-line error naming <paramref name="missing"/>.</summary>
    internal static T ReadArchitecture<T>(string text, string path, Func<T, bool> complete, string missing) where T : class
    {
        try
        {
            var arch = JsonSerializer.Deserialize<T>(text, SparseModel.MetadataJson) ?? throw new JsonException("null");
            return complete(arch) ? arch : throw new JsonException(missing + " missing");
        }
        catch (JsonException e)
        {
            throw new InitPruneException($"{path}: its architecture metadata is not valid ({CheckpointFormat.OneLine(e.Message)})");
        }
    }

    internal static void Save(string path, TensorDict tensors, string architecture) =>
        Safetensors.Save(path, tensors, new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion,
            ["producer"] = "initprune",
            ["architecture"] = architecture,
        });

    /// <summary>A weight as <c>name.crow_indices|col_indices|values</c> (CSR) or <c>name.weight</c> of <paramref name="shape"/>, and <c>name.bias</c>.</summary>
    internal static void AddWeight(TensorDict tensors, string name, CsrMatrix? csr, float[]? dense, long[] shape, float[]? bias)
    {
        if (csr is not null)
        {
            tensors.Add(name + ".crow_indices", tensor(csr.RowPointers));
            tensors.Add(name + ".col_indices", tensor(csr.ColumnIndices));
            tensors.Add(name + ".values", tensor(csr.Values));
        }
        else
        {
            tensors.Add(name + ".weight", tensor(dense!, shape));
        }
        if (bias is not null) tensors.Add(name + ".bias", tensor(bias));
    }

    static Tensor Get(TensorDict tensors, string name, string path) => tensors.TryGetValue(name, out var t) ? t.cpu()
        : throw new InitPruneException($"{path} lacks the tensor '{name}' its architecture names");

    internal static (CsrMatrix? Csr, float[]? Dense) ReadWeight(TensorDict tensors, string name, string storage, int rows, int columns, string path)
    {
        if (storage == "csr")
            return (new CsrMatrix(rows, columns, Get(tensors, name + ".crow_indices", path).data<long>().ToArray(),
                Get(tensors, name + ".col_indices", path).data<long>().ToArray(), Floats(Get(tensors, name + ".values", path))), null);
        if (storage != "dense") throw new InitPruneException($"{path}: layer '{name}' has storage '{storage}', not csr or dense");
        var dense = Floats(Get(tensors, name + ".weight", path));
        if (dense.Length != (long)rows * columns)
            throw new InitPruneException($"{path}: '{name}.weight' holds {dense.Length} values, not {rows}×{columns}");
        return (null, dense);
    }

    internal static float[] ReadBias(TensorDict tensors, string name, int length, string path)
    {
        var bias = Floats(Get(tensors, name + ".bias", path));
        return bias.Length == length ? bias : throw new InitPruneException($"{path}: '{name}.bias' holds {bias.Length} values for {length} outputs");
    }

    static float[] Floats(Tensor t) => t.dtype == ScalarType.Float32 ? t.data<float>().ToArray()
        : throw new InitPruneException($"a sparse model stores float32 values, not {t.dtype}");
}
