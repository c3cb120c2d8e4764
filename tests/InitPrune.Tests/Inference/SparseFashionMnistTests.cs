using InitPrune.Data;
using InitPrune.Experiments;
using InitPrune.Inference;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Inference;

/// <summary>
/// export → infer on real Fashion-MNIST: the sparse model predicts every test sample as the dense masked network
/// does, and PyTorch rebuilds it from the file alone.
/// </summary>
public class SparseFashionMnistTests
{
    const string Folder = "/usr/share/datasets/fashion-mnist";

    /// <summary>Prunes with SNIP, trains one epoch on 3000 samples, writes weights and mask; returns the dense masked network's test predictions.</summary>
    static (long[] Predictions, double Accuracy) PruneAndTrain(string dir, ModelSpec spec, double sigmaB, double sparsity)
    {
        if (!Directory.Exists(Folder))
            Assert.Fail($"{Folder} is missing: install the real Fashion-MNIST with 'sudo apt-get install dataset-fashion-mnist'");
        using var data = DatasetRegistry.Load("fashion-mnist", Folder);
        using var model = Setup.Model(data, spec, new InitSpec("normal", Math.Sqrt(2), sigmaB), seed: 0);
        var (x, y) = Setup.ScoringBatch(data.Train, 100, seed: 0);
        using (x)
        using (y)
        using (var pruned = Pruner.Prune(model, new PruneSpec("snip", sparsity), new ScoringContext(x, y, data.Train.Kind, Seed: 0)))
            pruned.Mask.Save(Path.Combine(dir, "mask.safetensors"));
        using (var subset = data.Train.Take(3000))
            new Trainer(new TrainConfig(Epochs: 1)).Train(model, new DatasetSplit(subset, data.Test, data.Source), seed: 0);
        Safetensors.Save(Path.Combine(dir, "final.safetensors"), Network.FullStateDict(model));
        using var _ = torch.no_grad();
        model.eval();
        using var logits = model.forward(data.Test.Inputs);
        using var predictions = logits.argmax(1);
        using var correct = predictions.eq(data.Test.Targets).sum();
        return (predictions.data<long>().ToArray(), correct.item<long>() / (double)data.Test.Count);
    }

    [Theory]
    [InlineData("lenet300", "relu", 0.0, 0.99)]
    [InlineData("mlp", "tanh", 0.1, 0.995)]
    public void Export_then_infer_reproduces_the_masked_networks_predictions(string name, string activation, double sigmaB, double sparsity)
    {
        using var dir = new TempDir();
        var spec = new ModelSpec(name, Depth: 3, Width: 128, Activation: activation);
        var (dense, accuracy) = PruneAndTrain(dir.Path, spec, sigmaB, sparsity);

        var exported = SparseExport.Export(new SparseExportRequest(dir.File("final.safetensors"), dir.File("mask.safetensors"), name, activation,
            dir.File("model.sparse.safetensors"), InputShape: [1, 28, 28]));
        Assert.True(exported.Bytes < exported.DenseBytes / 10, $"{exported.Bytes} bytes against {exported.DenseBytes} dense");
        Assert.True(exported.StoredParameters <= exported.KeptParameters && exported.KeptParameters < exported.DenseParameters / 10);
        Assert.True(exported.UnitsRemoved > 0, "SNIP at this sparsity leaves dead hidden units");
        if (activation == "tanh") Assert.True(exported.Layers.Sum(l => l.BiasesFolded) > 0, "tanh units with no incoming weight output tanh(b) ≠ 0, folded forward");
        Assert.True(exported.ParametersSavedByRemoval > 0);

        foreach (var kernel in new[] { "managed", "torch" })
        {
            var result = SparseInference.Infer(new InferRequest(exported.File, "fashion-mnist", Folder, kernel));
            Assert.Equal(10000, result.N);
            var differing = Enumerable.Range(0, dense.Length).Where(i => dense[i] != result.Predictions[i]).ToList();
            Assert.True(differing.Count == 0, $"{kernel}: {differing.Count} test samples predicted differently, first {string.Join(",", differing.Take(5))}");
            Assert.Equal(accuracy, result.Accuracy);
        }
    }

    [Theory]
    [InlineData("vgg11-bn", "zeros", 0.95)]
    [InlineData("vcnn", "circular", 0.9)]
    public void Conv_nets_export_infer_and_rebuild_in_pytorch_with_the_masked_networks_predictions(string name, string padding, double sparsity)
    {
        using var dir = new TempDir();
        var spec = new ModelSpec(name, Depth: 3, Width: 16, Padding: padding, WidthMultiplier: name == "vcnn" ? 1 : 0.125);
        var (dense, accuracy) = PruneAndTrain(dir.Path, spec, 0.0, sparsity);

        var export = CliRunner.Run("export", "--weights", dir.File("final.safetensors"), "--mask", dir.File("mask.safetensors"), "--model", name,
            "--padding", padding, "--input-shape", "1,28,28", "--out", dir.File("m.sparse.safetensors"), "--json");
        Assert.True(export.ExitCode == 0, export.Stderr);
        Assert.True(export.Json.GetProperty("bytes").GetInt64() < export.Json.GetProperty("dense_bytes").GetInt64());
        foreach (var layer in export.Json.GetProperty("layers").EnumerateArray())
        {
            long stored = layer.GetProperty("stored_weights").GetInt64(), kept = layer.GetProperty("kept_weights").GetInt64();
            if (layer.GetProperty("storage").GetString() == "csr") Assert.True(stored <= kept, $"{layer}: CSR stores only kept weights");
            else Assert.Equal((long)layer.GetProperty("in_features").GetInt32() * layer.GetProperty("out_features").GetInt32(), stored);
        }

        var infer = CliRunner.Run("infer", "--model", dir.File("m.sparse.safetensors"), "--dataset", "fashion-mnist", "--data-dir", Folder, "--json", "--out", dir.Sub("infer"));
        Assert.True(infer.ExitCode == 0, infer.Stderr);
        Assert.Equal(accuracy, infer.Json.GetProperty("accuracy").GetDouble());
        using (var predictions = Safetensors.Load(Path.Combine(dir.Path, "infer", "predictions.safetensors")))
        {
            var got = predictions["predictions"].data<long>().ToArray();
            var differing = Enumerable.Range(0, dense.Length).Where(i => dense[i] != got[i]).ToList();
            Assert.True(differing.Count == 0, $"{differing.Count} test samples predicted differently, first {string.Join(",", differing.Take(5))}");
        }
        Assert.Contains("--kernel managed", CliRunner.AssertOneLineError(CliRunner.Run("infer", "--model", dir.File("m.sparse.safetensors"), "--dataset", "fashion-mnist",
            "--data-dir", Folder, "--kernel", "torch")));

        AssertPytorchRebuilds(dir, 200);
    }

    [Fact]
    public void Pytorch_rebuilds_the_sparse_file_and_cli_export_and_infer_agree()
    {
        using var dir = new TempDir();
        var (dense, accuracy) = PruneAndTrain(dir.Path, new ModelSpec("lenet300"), 0.0, 0.95);

        var export = CliRunner.Run("export", "--weights", dir.File("final.safetensors"), "--mask", dir.File("mask.safetensors"), "--model", "lenet-300-100",
            "--out", dir.File("m.sparse.safetensors"), "--json");
        Assert.True(export.ExitCode == 0, export.Stderr);
        Assert.Equal(new FileInfo(dir.File("m.sparse.safetensors")).Length, export.Json.GetProperty("bytes").GetInt64());
        var human = CliRunner.Run("export", "--weights", dir.File("final.safetensors"), "--mask", dir.File("mask.safetensors"), "--model", "lenet300",
            "--out", dir.File("m2.sparse.safetensors"));
        Assert.Contains("bytes against", human.Stdout);
        Assert.Contains("hidden units or channels removed", human.Stdout);

        var infer = CliRunner.Run("infer", "--model", dir.File("m.sparse.safetensors"), "--dataset", "fashion-mnist", "--data-dir", Folder, "--json", "--out", dir.Sub("infer"));
        Assert.True(infer.ExitCode == 0, infer.Stderr);
        Assert.Equal(accuracy, infer.Json.GetProperty("accuracy").GetDouble());
        using (var predictions = Safetensors.Load(Path.Combine(dir.Path, "infer", "predictions.safetensors")))
            Assert.Equal(dense, predictions["predictions"].data<long>().ToArray());

        AssertPytorchRebuilds(dir, 500);
    }

    /// <summary>PyTorch rebuilds <c>m.sparse.safetensors</c> from the file alone and computes our logits on the first <paramref name="n"/> test images (tests/pytorch/sparse_model.py).</summary>
    static void AssertPytorchRebuilds(TempDir dir, int n)
    {
        var model = SparseFile.Load(dir.File("m.sparse.safetensors"));
        using var data = DatasetRegistry.Load("fashion-mnist", Folder);
        using var inputs = data.Test.Inputs[..n].contiguous();
        var logits = model.Forward(inputs.flatten().data<float>().ToArray(), n);
        Safetensors.Save(dir.File("inputs.safetensors"), new Dictionary<string, Tensor> { ["inputs"] = inputs });
        using (var outputs = torch.tensor(logits, [n, 10]))
            Safetensors.Save(dir.File("outputs.safetensors"), new Dictionary<string, Tensor> { ["outputs"] = outputs });
        var line = PyTorchScript.Run("sparse_model.py", dir.File("m.sparse.safetensors"), dir.File("inputs.safetensors"), dir.File("outputs.safetensors"));
        Assert.Contains("\"layout_errors\": []", line);
        Assert.DoesNotContain("\"csr_layers\": 0", line);
    }

    [Fact]
    public void Export_and_infer_refuse_bad_input_in_one_line()
    {
        using var dir = new TempDir();
        var model = TestNets.Mlp(4, [3], 2);
        using (model)
            Safetensors.Save(dir.File("w.safetensors"), Network.FullStateDict(model));
        var w = dir.File("w.safetensors");
        Assert.Contains("--table", CliRunner.AssertOneLineError(CliRunner.Run("export", "--weights", w, "--table", "jacobian")));
        Assert.Contains("--mask", CliRunner.AssertOneLineError(CliRunner.Run("export", "--mask", w, "--out", dir.File("x.csv"))));
        Assert.Contains("--weights", CliRunner.AssertOneLineError(CliRunner.Run("export", "--weights", w, "--run", "0123456789abcdef")));
        Assert.Contains("--run", CliRunner.AssertOneLineError(CliRunner.Run("export", dir.File("store.sqlite"), "--weights", w)));
        Assert.Contains("not part of a vgg11", CliRunner.AssertOneLineError(CliRunner.Run("export", "--weights", w, "--model", "vgg11")));
        Assert.Contains("resnet", CliRunner.AssertOneLineError(CliRunner.Run("export", "--weights", w, "--model", "resnet20")));
        Assert.Contains("input shape [3,32]", CliRunner.AssertOneLineError(CliRunner.Run("export", "--weights", w, "--input-shape", "3,32")));
        Assert.Contains("not a sparse model file", CliRunner.AssertOneLineError(CliRunner.Run("infer", "--model", w, "--dataset", "ellipse")));
        var ok = CliRunner.Run("export", "--weights", w, "--out", dir.File("m.sparse.safetensors"), "--json");
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Contains("--kernel", CliRunner.AssertOneLineError(CliRunner.Run("infer", "--model", dir.File("m.sparse.safetensors"), "--dataset", "ellipse", "--kernel", "gpu")));
        Assert.Contains("inputs", CliRunner.AssertOneLineError(CliRunner.Run("infer", "--model", dir.File("m.sparse.safetensors"), "--dataset", "fashion-mnist", "--data-dir", Folder)));
    }
}
