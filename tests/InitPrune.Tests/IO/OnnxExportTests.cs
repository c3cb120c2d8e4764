using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.IO.Onnx;
using InitPrune.Models;
using InitPrune.Tests.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.IO;

/// <summary>
/// ONNX export checked against ONNX Runtime: every model family, randomly initialized and randomly pruned to 90%
/// (weights and biases; BatchNorm scales and shifts at 10%), with BatchNorm running statistics collected in train mode, is exported, run by
/// ONNX Runtime on a random batch and compared with InitPrune's eval-mode forward; the file is decoded with the
/// tests' own protobuf reader to check the header and that every pruned entry is stored as exactly zero.
/// </summary>
public sealed class OnnxExportTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("initprune-onnx-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>Test cases: model, sample shape, and a scale of the inputs (large to drive Softplus past its threshold).</summary>
    static readonly Dictionary<string, (ModelSpec Spec, long[] SampleShape, float InputScale)> Cases = new()
    {
        ["mlp on images (Flatten)"] = (new ModelSpec("mlp", Widths: [24, 16]), [1, 6, 6], 1),
        ["mlp without biases"] = (new ModelSpec("mlp", Widths: [16], Bias: false), [10], 1),
        ["mlp tanh"] = (new ModelSpec("mlp", Widths: [16, 16], Activation: "tanh"), [10], 3),
        ["mlp elu"] = (new ModelSpec("mlp", Widths: [16, 16], Activation: "elu"), [10], 3),
        ["mlp leaky_relu"] = (new ModelSpec("mlp", Widths: [16, 16], Activation: "leaky_relu"), [10], 3),
        ["mlp selu"] = (new ModelSpec("mlp", Widths: [16, 16], Activation: "selu"), [10], 3),
        ["mlp gelu"] = (new ModelSpec("mlp", Widths: [16, 16], Activation: "gelu"), [10], 3),
        ["mlp softplus (past the threshold too)"] = (new ModelSpec("mlp", Widths: [16, 16], Activation: "softplus"), [10], 40),
        ["mlp sigmoid"] = (new ModelSpec("mlp", Widths: [16, 16], Activation: "sigmoid"), [10], 3),
        ["mlp linear"] = (new ModelSpec("mlp", Widths: [16, 16], Activation: "linear"), [10], 1),
        ["vcnn zeros"] = (new ModelSpec("vcnn", Depth: 3, Width: 6), [2, 7, 7], 1),
        ["vcnn circular"] = (new ModelSpec("vcnn", Depth: 3, Width: 6, Padding: "circular"), [2, 7, 6], 1),
        ["conv4"] = (new ModelSpec("conv4", WidthMultiplier: 0.125), [3, 12, 12], 1),
        ["conv2 circular"] = (new ModelSpec("conv2", WidthMultiplier: 0.125, Padding: "circular"), [3, 9, 9], 1),
        ["vgg11-bn"] = (new ModelSpec("vgg11-bn", WidthMultiplier: 0.25), [3, 16, 16], 1),
        ["vgg11 circular"] = (new ModelSpec("vgg11", WidthMultiplier: 0.125, Padding: "circular"), [3, 16, 16], 1),
        ["resnet20 option B"] = (new ModelSpec("resnet20", WidthMultiplier: 0.5), [3, 8, 8], 1),
        ["resnet20 option A"] = (new ModelSpec("resnet20", WidthMultiplier: 0.5, Shortcut: ShortcutKind.A), [3, 8, 8], 1),
        ["resnet14 stable, elu, circular"] = (new ModelSpec("resnet14", WidthMultiplier: 0.5, Stable: true, Activation: "elu", Padding: "circular"), [3, 9, 9], 1),
    };

    public static TheoryData<string> Models => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Models))]
    public void Onnx_runtime_gives_the_outputs_of_the_masked_network(string label)
    {
        var (spec, sampleShape, inputScale) = Cases[label];
        const long outputs = 5;
        const int batch = 7;
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Create(spec, sampleShape, outputs);
        InitPrune.Init.Initializers.Apply(model, new InitSpec("normal", Math.Sqrt(2), 0.1), 3);
        var generator = new Generator(11);
        RandomizeBatchNorm(model, generator);
        // 90% of the weights and biases; 10% of the BatchNorm scales and shifts, which would otherwise leave a
        // constant network (all-zero scales make a BatchNorm output its shifts whatever the input).
        foreach (var p in Network.Prunable(model, includeBiases: true, includeBatchNorm: true))
            p.SetMask(rand(p.Value.shape, generator: generator).lt(p.IsBatchNorm ? 0.9 : 0.1));
        CollectRunningStatistics(model, sampleShape, generator);
        model.eval();

        var path = Path.Combine(dir, "model.onnx");
        var summary = OnnxExport.Write(model, sampleShape, path);

        var x = randn([batch, .. sampleShape], generator: generator).mul(inputScale);
        using var expected = model.forward(x);
        var reference = TestNets.Values(expected);
        var actual = RunOnnx(path, TestNets.Values(x), [batch, .. sampleShape]);
        Assert.Equal(new long[] { batch, outputs }, expected.shape);
        Assert.Equal(reference.Length, actual.Length);
        float scale = reference.Max(Math.Abs);
        float spread = reference.Take((int)outputs).Zip(reference.Skip((int)outputs), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(spread > 1e-3f * scale, $"{label}: the pruned network gives the same outputs for two inputs, which checks little");
        float error = reference.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(error <= 1e-5f * scale, $"{label}: ONNX Runtime differs from InitPrune by {error} (outputs up to {scale})");

        var stored = StoredInitializers(path);
        foreach (var p in Network.Prunable(model, includeBiases: true, includeBatchNorm: true))
        {
            var values = stored[p.Name];
            var mask = TestNets.Values(p.Mask!);
            var weights = TestNets.Values(p.Value);
            Assert.Equal(weights.Length, values.Length);
            for (int i = 0; i < values.Length; i++)
            {
                if (mask[i] == 0) Assert.Equal(0u, BitConverter.SingleToUInt32Bits(values[i]) & 0x7FFFFFFFu);
                else Assert.Equal(weights[i], values[i]);
            }
        }
        Assert.Equal(stored.Where(kv => !kv.Key.StartsWith("const_", StringComparison.Ordinal)).Sum(kv => (long)kv.Value.Length), summary.Parameters);
        long[] inputShape = [-1, .. sampleShape];
        Assert.Equal(inputShape, summary.InputShape);
        Assert.Equal(new long[] { -1, outputs }, summary.OutputShape);
    }

    [Fact]
    public void The_file_is_an_opset_17_model_with_a_symbolic_batch()
    {
        using var model = ModelRegistry.Create(new ModelSpec("vcnn", Depth: 1, Width: 3), [1, 4, 4], 2);
        var path = Path.Combine(dir, "v.onnx");
        var summary = OnnxExport.Write(model, [1, 4, 4], path);
        var m = EventFile.Decode(File.ReadAllBytes(path));
        Assert.Equal(8ul, m.Varint(1));
        Assert.Equal("InitPrune", m.String(2));
        var opset = Assert.Single(m.Messages(8));
        Assert.Equal(17ul, opset.Varint(2));
        Assert.True(!opset.Has(1) || opset.String(1) == "");
        var graph = m.Message(7);
        var input = Assert.Single(graph.Messages(11));
        Assert.Equal("input", input.String(1));
        var tensorType = input.Message(2).Message(1);
        Assert.Equal(1ul, tensorType.Varint(1));
        var dims = tensorType.Message(2).Messages(1).ToList();
        Assert.Equal("batch", dims[0].String(2));
        Assert.Equal(new ulong[] { 1, 4, 4 }, dims.Skip(1).Select(d => d.Varint(1)));
        Assert.Equal("output", Assert.Single(graph.Messages(12)).String(1));
        var ops = graph.Messages(1).Select(n => n.String(4)).ToList();
        Assert.Equal(["Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"], ops);
        Assert.Equal(summary.Bytes, new FileInfo(path).Length);
        Assert.Equal([path], Directory.GetFiles(dir));
    }

    [Fact]
    public void Unsupported_modules_are_refused_in_one_line_and_nothing_is_written()
    {
        var path = Path.Combine(dir, "refused.onnx");
        using var dropout = nn.Sequential(("0", new MaskedLinear(4, 3)), ("1", nn.Dropout()));
        var e = Assert.Throws<InitPruneException>(() => OnnxExport.Write(dropout, [4], path));
        Assert.StartsWith("ONNX export does not support '1' (Dropout)", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        using var gelu = nn.Sequential(("0", new MaskedLinear(4, 3)), ("1", nn.GELU(TorchSharp.Modules.GELU.Approximate.tanh)));
        e = Assert.Throws<InitPruneException>(() => OnnxExport.Write(gelu, [4], path));
        Assert.Equal("ONNX export (opset 17) does not support '1': GELU with the tanh approximation; use the exact GELU", e.Message);

        using var mlp = ModelRegistry.Create(new ModelSpec("mlp", Widths: [4]), [6], 2);
        e = Assert.Throws<InitPruneException>(() => OnnxExport.Write(mlp, [5], path));
        Assert.StartsWith("ONNX export: the model does not take samples [5]", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    static void RandomizeBatchNorm(nn.Module model, Generator generator)
    {
        using var _ = no_grad();
        foreach (var (_, module) in Network.MaskedModules(model))
        {
            if (module is not MaskedBatchNorm2d bn) continue;
            bn.weight!.copy_(rand(bn.weight.shape, generator: generator).add(0.5));
            bn.bias!.copy_(randn(bn.bias.shape, generator: generator).mul(0.1));
        }
    }

    /// <summary>Running statistics of a random batch (one train-mode pass with momentum 1), so that eval mode normalizes.</summary>
    static void CollectRunningStatistics(nn.Module<torch.Tensor, torch.Tensor> model, long[] sampleShape, Generator generator)
    {
        if (!Network.HasBatchNorm(model)) return;
        using var _ = no_grad();
        foreach (var (_, module) in Network.MaskedModules(model))
            if (module is MaskedBatchNorm2d bn) bn.momentum = 1.0;
        model.train();
        using var scope = NewDisposeScope();
        model.forward(randn([32, .. sampleShape], generator: generator));
    }

    static float[] RunOnnx(string path, float[] input, long[] shape)
    {
        using var session = new InferenceSession(path);
        var tensor = new DenseTensor<float>(input, [.. shape.Select(d => (int)d)]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", tensor)]);
        var output = Assert.Single(results);
        Assert.Equal("output", output.Name);
        return [.. output.AsEnumerable<float>()];
    }

    /// <summary>The float32 initializers by name, decoded from the file (TensorProto dims 1, data_type 2, name 8, raw_data 9).</summary>
    static Dictionary<string, float[]> StoredInitializers(string path)
    {
        var graph = EventFile.Decode(File.ReadAllBytes(path)).Message(7);
        var result = new Dictionary<string, float[]>();
        foreach (var t in graph.Messages(5))
        {
            if (t.Varint(2) != 1) continue;
            var raw = (byte[])t.All(9).Single();
            result[t.String(8)] = [.. Enumerable.Range(0, raw.Length / 4).Select(i => BitConverter.ToSingle(raw, 4 * i))];
        }
        return result;
    }
}
