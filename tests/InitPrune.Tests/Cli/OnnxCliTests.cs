using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Tests.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;

namespace InitPrune.Tests.Cli;

/// <summary><c>initprune export-onnx</c> on what <c>prune</c> wrote, run by ONNX Runtime.</summary>
public sealed class OnnxCliTests : IDisposable
{
    readonly TempDir root = new();

    public void Dispose() => root.Dispose();

    [Fact]
    public void Export_with_format_onnx_names_the_onnx_command()
    {
        var r = CliRunner.Run("export", "--weights", root.File("w.safetensors"), "--format", "onnx", "--out", root.File("m.onnx"));
        Assert.Contains("initprune export-onnx", CliRunner.AssertOneLineError(r));
        Assert.False(File.Exists(root.File("m.onnx")));
    }

    [Fact]
    public void Export_onnx_writes_the_pruned_network_that_onnx_runtime_runs()
    {
        var dir = root.Sub("p");
        var pruned = CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "2", "--width", "32", "--method", "random",
            "--sparsity", "0.9", "--out", dir, "--json");
        Assert.True(pruned.ExitCode == 0, pruned.Stderr);
        string weights = Path.Combine(dir, "weights.safetensors"), mask = Path.Combine(dir, "mask.safetensors"), file = root.File("mlp.onnx");
        var r = CliRunner.Run("export-onnx", "--dataset", "ellipse", "--model", "mlp", "--depth", "2", "--width", "32",
            "--weights", weights, "--mask", mask, "--out", file, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(17, r.Json.GetProperty("opset").GetInt32());
        Assert.Equal([-1L, 2L], r.Json.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([-1L, 4L], r.Json.GetProperty("output_shape").EnumerateArray().Select(e => e.GetInt64()));

        // InitPrune's forward of weights ⊙ mask, built here from the two files, against ONNX Runtime on the exported file.
        using var model = ModelRegistry.Create(new ModelSpec("mlp", Depth: 2, Width: 32), [2], 4);
        using (var w = Safetensors.Load(weights)) Network.LoadStateDict(model, w, weights);
        using (var m = Safetensors.Load(mask))
            foreach (var p in Network.Prunable(model, includeBiases: true)) if (m.TryGetValue(p.Name, out var t)) p.SetMask(t);
        model.eval();
        var x = randn([9, 2], generator: new Generator(4));
        var expected = TestNets.Values(model.forward(x));
        using var session = new InferenceSession(file);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(TestNets.Values(x), [9, 2]))]);
        var actual = results.Single().AsEnumerable<float>().ToArray();
        float scale = expected.Max(Math.Abs);
        Assert.True(scale > 0);
        Assert.All(expected.Zip(actual), pair => Assert.True(Math.Abs(pair.First - pair.Second) <= 1e-5f * scale, $"{pair.First} vs {pair.Second}"));
        long pruned0 = Network.Prunable(model, includeBiases: true).Sum(p => p.Mask is null ? 0 : p.Count - (long)TestNets.Values(p.Mask).Count(v => v != 0));
        Assert.True(r.Json.GetProperty("zero_parameters").GetInt64() >= pruned0);
    }

    [Fact]
    public void A_missing_weights_file_is_one_line()
    {
        var line = CliRunner.AssertOneLineError(CliRunner.Run("export-onnx", "--dataset", "ellipse", "--model", "mlp", "--weights", root.File("none.safetensors"), "--out", root.File("x.onnx")));
        Assert.Contains("none.safetensors", line);
        Assert.False(File.Exists(root.File("x.onnx")));
    }
}
