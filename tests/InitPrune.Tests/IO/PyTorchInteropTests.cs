using System.Text.Json;
using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using static TorchSharp.torch;

namespace InitPrune.Tests.IO;

/// <summary>
/// Files in both directions with Debian's PyTorch (tests/pytorch/interop.py): torch.save'd state_dicts and
/// torch.nn.utils.prune-pruned ones read here; InitPrune's .pt / safetensors outputs and torch-prune exports loaded
/// there with strict=True; formats InitPrune does not read named in one line.
/// </summary>
public class PyTorchInteropTests
{
    static readonly string[] Mlp = ["--dataset", "ellipse", "--model", "mlp", "--depth", "2", "--width", "16"];

    static string Torch(params string[] args) => PyTorchScript.Run("interop.py", args);

    static CliRunner.Result Ok(params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return r;
    }

    static Dictionary<string, float[]> Values(JsonElement e) =>
        e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray());

    static void AssertEqual(IReadOnlyDictionary<string, float[]> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        foreach (var (name, values) in expected)
            Assert.True(values.SequenceEqual(TestNets.Values(actual[name])), name);
    }

    [Fact]
    public void A_state_dict_torch_saved_starts_a_run_with_identical_weights()
    {
        using var temp = new TempDir();
        Torch("save-mlp", temp.Path);
        Ok(["prune", .. Mlp, "--init-from", temp.File("torch.pt"), "--method", "magnitude", "--sparsity", "0.5", "--out", temp.File("p")]);
        var expected = Values(JsonDocument.Parse(File.ReadAllText(temp.File("values.json"))).RootElement);
        using var weights = Safetensors.Load(Path.Combine(temp.File("p"), "weights.safetensors"));
        Assert.Equal(expected.Keys.Order(), weights.Keys.Order());
        AssertEqual(expected, weights);
    }

    [Fact]
    public void Save_format_pt_writes_files_torch_loads_strictly()
    {
        using var temp = new TempDir();
        var p = temp.File("p");
        var summary = Ok(["prune", .. Mlp, "--method", "snip", "--sparsity", "0.8", "--save-format", "pt", "--out", p, "--json"]).Json;
        Assert.Equal("mask.pt", summary.GetProperty("files").GetProperty("mask").GetString());
        Assert.False(File.Exists(Path.Combine(p, "weights.safetensors")));
        Torch("check-mlp", Path.Combine(p, "weights.pt"));
        Torch("check-mlp", Path.Combine(p, "weights.pruned.pt"));
        var t = temp.File("t");
        var train = Ok(["train", .. Mlp, "--init-from", Path.Combine(p, "weights.pruned.pt"), "--mask", Path.Combine(p, "mask.pt"), "--epochs", "1", "--save-format", "pt", "--out", t, "--json"]).Json;
        Assert.Equal(summary.GetProperty("actual_sparsity").GetDouble(), train.GetProperty("sparsity").GetDouble(), 12);
        Torch("check-mlp", Path.Combine(t, "final.pt"));
        using var mask = Mask.Load(Path.Combine(p, "mask.pt"));
        using var final = TensorFile.Load(Path.Combine(t, "final.pt"));
        foreach (var (name, m) in mask.Tensors)
        {
            using var pruned = final[name].masked_select(m.logical_not());
            Assert.True(pruned.eq(0).all().item<bool>(), name);
        }
    }

    [Fact]
    public void BatchNorm_running_statistics_are_exported_and_load_strictly()
    {
        using var temp = new TempDir();
        manual_seed(3);
        using var model = ModelRegistry.Create(new ModelSpec("vgg11-bn", WidthMultiplier: 0.125), [3, 16, 16], 10);
        InitPrune.Init.Initializers.Apply(model, new InitPrune.Init.InitSpec("normal", Math.Sqrt(2), 0.1), seed: 1);
        model.train();
        for (var i = 0; i < 3; i++)
        {
            using var batch = randn(8, 3, 16, 16) * 2 + 1;
            using var _ = model.forward(batch);
        }
        model.eval();
        using var x = randn(4, 3, 16, 16);
        using var y = model.forward(x);
        var state = Network.FullStateDict(model);
        Assert.Equal(3L, state["layers.0.bn.num_batches_tracked"].item<long>());
        TensorFile.SaveAs(temp.File("vgg.pt"), state, SaveFormat.Pt);
        TensorFile.SaveAs(temp.File("vgg.safetensors"), state, SaveFormat.Safetensors);
        Safetensors.Save(temp.File("batch.safetensors"), new Dictionary<string, Tensor> { ["inputs"] = x, ["outputs"] = y });
        Torch("check-bn", temp.File("vgg.pt"), temp.File("batch.safetensors"));
        Torch("check-bn", temp.File("vgg.safetensors"), temp.File("batch.safetensors"));
        TensorFile.SaveAs(temp.File("again.pt"), state, SaveFormat.Pt);
        Assert.Equal(File.ReadAllBytes(temp.File("vgg.pt")), File.ReadAllBytes(temp.File("again.pt"))); // entries stored, fixed dates

        using var back = ModelRegistry.Create(new ModelSpec("vgg11-bn", WidthMultiplier: 0.125), [3, 16, 16], 10);
        InitPrune.Init.Initializers.Apply(back, new InitPrune.Init.InitSpec("normal", Math.Sqrt(2), 0.1), seed: 2);
        using (var file = TensorFile.Load(temp.File("vgg.pt"))) Network.LoadStateDict(back, file, "vgg.pt");
        using var expected = Safetensors.Load(temp.File("vgg.safetensors"));
        Assert.Equal(expected.Keys.Order(), Network.FullStateDict(back).Keys.Order());
        foreach (var (name, t) in Network.FullStateDict(back))
            Assert.True(TestNets.Same(t, expected[name]), name);
        foreach (var (name, t) in state) Assert.True(TestNets.Same(t, expected[name]), name);
    }

    [Theory]
    [InlineData("save-torch-prune")]
    [InlineData("save-open-lth")]
    public void A_torch_prune_state_dict_is_read_as_weights_and_mask_and_trains(string layout)
    {
        using var temp = new TempDir();
        Torch(layout, temp.Path);
        var pruned = temp.File("pruned.pt");
        var json = JsonDocument.Parse(File.ReadAllText(temp.File("values.json"))).RootElement;
        var weights = Values(json.GetProperty("weights"));
        var masks = Values(json.GetProperty("masks"));

        using (var mask = Mask.Load(pruned))
        {
            Assert.Equal(masks.Keys.Order(), mask.Tensors.Keys.Order());
            AssertEqual(masks, mask.Tensors);
        }
        Ok(["prune", .. Mlp, "--init-from", pruned, "--method", "random", "--sparsity", "0.1", "--out", temp.File("p")]);
        using (var loaded = Safetensors.Load(Path.Combine(temp.File("p"), "weights.safetensors")))
            AssertEqual(weights, loaded);

        var total = masks.Values.Sum(m => m.Length);
        var kept = masks.Values.Sum(m => m.Count(v => v != 0));
        var t = temp.File("t");
        var train = Ok(["train", .. Mlp, "--init-from", pruned, "--epochs", "1", "--out", t, "--json"]).Json;
        Assert.Equal(1.0 - (double)kept / total, train.GetProperty("sparsity").GetDouble(), 9);
        Assert.True(train.GetProperty("completed").GetBoolean());
        using var final = Safetensors.Load(Path.Combine(t, "final.safetensors"));
        foreach (var (name, m) in masks)
        {
            var values = TestNets.Values(final[name]);
            Assert.All(Enumerable.Range(0, m.Length).Where(i => m[i] == 0), i => Assert.Equal(0f, values[i]));
            Assert.Contains(Enumerable.Range(0, m.Length), i => m[i] != 0 && values[i] != weights[name][i]);
        }
    }

    [Theory]
    [InlineData("pt")]
    [InlineData("safetensors")]
    public void Convert_to_torch_prune_loads_into_a_pruned_module_strictly_with_equal_outputs(string format)
    {
        using var temp = new TempDir();
        var p = temp.File("p");
        Ok(["prune", .. Mlp, "--method", "magnitude", "--sparsity", "0.7", "--out", p]);
        var output = temp.File("torch-prune." + format);
        var summary = Ok(["convert", Path.Combine(p, "weights.pruned.safetensors"), "--mask", Path.Combine(p, "mask.safetensors"),
            "--layout", "torch-prune", "--format", format, "--out", output, "--json"]).Json;
        Assert.Equal(3, summary.GetProperty("masked").GetInt32());
        Assert.Equal(9, summary.GetProperty("tensors").GetInt32());
        Torch("check-torch-prune", output, Path.Combine(p, "weights.pruned.safetensors"), Path.Combine(p, "batch.safetensors"));

        // And back: the torch-prune file converts to the plain weights and the mask it was made from.
        var plain = temp.File("plain.safetensors");
        Ok(["convert", output, "--out", plain]);
        using var a = Safetensors.Load(plain);
        using var b = Safetensors.Load(Path.Combine(p, "weights.pruned.safetensors"));
        Assert.Equal(b.Keys.Order(), a.Keys.Order());
        foreach (var (name, t) in b) Assert.True(TestNets.Same(t, a[name]), name);
        using var m1 = Mask.Load(output);
        using var m2 = Mask.Load(Path.Combine(p, "mask.safetensors"));
        foreach (var (name, t) in m2.Tensors) Assert.True(TestNets.Same(t, m1.Tensors[name]), name);
    }

    [Fact]
    public void A_file_in_a_format_InitPrune_does_not_read_is_named_in_one_line()
    {
        using var temp = new TempDir();
        Torch("save-formats", temp.Path);
        File.WriteAllText(temp.File("notes.txt"), "layers.0.weight 0.1 0.2\n");
        File.WriteAllBytes(temp.File("empty.pt"), []);
        File.WriteAllBytes(temp.File("model.h5"), [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
        File.WriteAllBytes(temp.File("model.onnx"), [0x08, 0x07, 0x12, 0x07, (byte)'p', (byte)'y', (byte)'t', (byte)'o', (byte)'r', (byte)'c', (byte)'h']);
        File.WriteAllBytes(temp.File("random.bin"), [.. Enumerable.Range(0, 64).Select(i => (byte)(i * 37 + 200))]);
        var cases = new (string File, string Says)[]
        {
            ("legacy.pt", "is a legacy (non-zip) PyTorch checkpoint"),
            ("script.pt", "is a TorchScript archive"),
            ("array.npy", "is a NumPy .npy array"),
            ("arrays.npz", "is a NumPy .npz archive"),
            ("notes.txt", "is a text file"),
            ("empty.pt", "is an empty file"),
            ("model.h5", "is an HDF5 (.h5) file"),
            ("model.onnx", "is an ONNX model"),
            ("random.bin", "is a file of unknown format"),
        };
        foreach (var (file, says) in cases)
        {
            var line = CliRunner.AssertOneLineError(CliRunner.Run(["train", .. Mlp, "--init-from", temp.File(file), "--epochs", "1", "--out", temp.File("out")]));
            Assert.Contains(says, line);
            Assert.Contains(CheckpointFormat.Readable, line);
            Assert.False(Directory.Exists(temp.File("out")), file);
        }
        Assert.Contains("is a NumPy .npy array", CliRunner.AssertOneLineError(CliRunner.Run(["train", .. Mlp, "--mask", temp.File("array.npy"), "--out", temp.File("out")])));
        Assert.Contains("is a legacy (non-zip) PyTorch checkpoint", CliRunner.AssertOneLineError(CliRunner.Run(["convert", temp.File("legacy.pt"), "--out", temp.File("x.pt")])));
        var e = Assert.Throws<InitPruneException>(() => TensorFile.Load(temp.File("script.pt")));
        Assert.Contains("TorchScript", e.Message);
    }
}
