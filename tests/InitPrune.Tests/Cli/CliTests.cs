using System.Text.Json;
using InitPrune.IO;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Cli;

public sealed class CliTests : IDisposable
{
    readonly TempDir root = new();

    /// <summary>A fresh folder, deleted with the others when the test ends.</summary>
    string Temp() => root.Sub(Guid.NewGuid().ToString("N"));

    public void Dispose() => root.Dispose();

    [Theory]
    [InlineData("prune", "--method", "--sparsity", "--scope", "--score-batch-size", "--save-scores", "--init-from", "--sigma-w", "--json", "--out")]
    [InlineData("train", "--mask", "--epochs", "--lr", "--momentum", "--nesterov", "--weight-decay", "--schedule", "--milestones", "--tensorboard", "--json")]
    [InlineData("quickstart", "--data-dir", "--epochs", "--out", "--json", "--device")]
    [InlineData("plant", "--architecture", "--epsilon", "--delta", "--c", "--sigma-w", "--target", "--skip-edge-popup", "--edge-popup-epochs", "--seed", "--json", "--out")]
    [InlineData("bench", "--batches", "--repetitions", "--jacobian", "--masks", "--json", "--out")]
    [InlineData("report", "--scale", "--store", "--sweep", "--artifacts", "--out", "--latency", "--latency-batch", "--latency-threads", "--json")]
    [InlineData("jacobian", "--span", "--inputs", "--tolerance", "--max-iterations", "--method", "--sparsity", "--rescale", "--init-from", "--sigma-w", "--seed", "--json", "--out")]
    [InlineData("ticket", "--sparsity", "--epochs", "--anneal-epochs", "--scaled", "--scope", "--bias-ranking", "--batch-size", "--lr", "--momentum", "--weight-decay", "--model", "--dataset", "--init", "--seed", "--json", "--out")]
    public void HelpDocumentsEveryOption(string command, params string[] options)
    {
        var r = CliRunner.Run(command, "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var o in options) Assert.Contains(o, r.Stdout);
        // Every option line carries a description after its name.
        var optionLines = r.Stdout.Split('\n').Where(l => l.TrimStart().StartsWith("--")).ToList();
        Assert.NotEmpty(optionLines);
        Assert.All(optionLines, l => Assert.Matches(@"^\s+--\S+.*\s{2,}\S", l));
    }

    [Fact]
    public void PruneWritesArtefactsAndTheSameSeedGivesTheSameMaskBitForBit()
    {
        string a = Temp(), b = Temp(), c = Temp();
        string[] Args(string dir, string seed) => ["prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "3", "--width", "64", "--method", "snip", "--sparsity", "0.9", "--save-scores", "--seed", seed, "--out", dir, "--json"];
        var ra = CliRunner.Run(Args(a, "5"));
        Assert.True(ra.ExitCode == 0, ra.Stderr);
        var summary = ra.Json;
        Assert.Equal("snip", summary.GetProperty("method").GetString());
        long total = summary.GetProperty("total").GetInt64();
        Assert.Equal(2 * 64 + 64 * 64 * 2 + 64 * 4, total);
        Assert.Equal((long)Math.Round(0.1 * total, MidpointRounding.AwayFromZero), summary.GetProperty("kept").GetInt64());
        Assert.Equal(4, summary.GetProperty("layers").GetArrayLength());
        foreach (var f in new[] { "weights.safetensors", "batch.safetensors", "mask.safetensors", "scores.safetensors", "summary.json" })
            Assert.True(File.Exists(Path.Combine(a, f)), f);
        var batch = Safetensors.Load(Path.Combine(a, "batch.safetensors"));
        Assert.Equal([100L, 2L], batch["inputs"].shape);
        Assert.Equal([100L], batch["labels"].shape);

        Assert.Equal(0, CliRunner.Run(Args(b, "5")).ExitCode);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "mask.safetensors")), File.ReadAllBytes(Path.Combine(b, "mask.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "weights.safetensors")), File.ReadAllBytes(Path.Combine(b, "weights.safetensors")));
        Assert.Equal(0, CliRunner.Run(Args(c, "6")).ExitCode);
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a, "mask.safetensors")), File.ReadAllBytes(Path.Combine(c, "mask.safetensors")));
    }

    [Fact]
    public void InitFromGivenWeightsReproducesTheMask()
    {
        string a = Temp(), b = Temp();
        Assert.Equal(0, CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--method", "magnitude", "--sparsity", "0.7", "--seed", "1", "--out", a).ExitCode);
        // Another seed, but the same weights: magnitude pruning must give the same mask.
        var r = CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--method", "magnitude", "--sparsity", "0.7", "--seed", "2", "--init-from", Path.Combine(a, "weights.safetensors"), "--out", b);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "mask.safetensors")), File.ReadAllBytes(Path.Combine(b, "mask.safetensors")));
    }

    [Fact]
    public void TrainWithAMaskKeepsPrunedWeightsZeroAndWritesMetrics()
    {
        string p = Temp(), t = Temp();
        Assert.Equal(0, CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--method", "random", "--sparsity", "0.5", "--out", p).ExitCode);
        var r = CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--mask", Path.Combine(p, "mask.safetensors"), "--epochs", "2",
            "--nesterov", "--weight-decay", "1e-4", "--out", t, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(r.Json.GetProperty("completed").GetBoolean());
        Assert.Equal(2, r.Json.GetProperty("epochs").GetArrayLength());
        Assert.Equal(0.5, r.Json.GetProperty("sparsity").GetDouble(), 1e-3);
        var final = Safetensors.Load(Path.Combine(t, "final.safetensors"));
        foreach (var (name, mask) in InitPrune.Pruning.Mask.Load(Path.Combine(p, "mask.safetensors")).Tensors)
            Assert.Equal(0f, final[name].masked_select(mask.logical_not()).abs().sum().item<float>());
        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(t, "metrics.json"))).RootElement;
        Assert.True(metrics.GetProperty("final_test_accuracy").GetDouble() > 0.4);
    }

    [Fact]
    public void DivergenceIsOneLineAndKeepsCompletedEpochs()
    {
        var t = Temp();
        var r = CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--epochs", "3", "--lr", "0.01", "--schedule", "step", "--milestones", "0.3333", "--gamma", "1e30", "--out", t);
        var line = CliRunner.AssertOneLineError(r, exitCode: 3);
        Assert.Contains("epoch 2", line);
        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(t, "metrics.json"))).RootElement;
        Assert.False(metrics.GetProperty("completed").GetBoolean());
        Assert.Equal(1, metrics.GetProperty("epochs").GetArrayLength());
    }

    [Theory]
    [InlineData("unknown dataset", "prune", "--dataset", "imagenet-42")]
    [InlineData("[0, 1)", "prune", "--dataset", "ellipse", "--sparsity", "1.2")]
    [InlineData("[0, 1)", "prune", "--dataset", "ellipse", "--sparsity", "-0.5")]
    [InlineData("unknown pruning method", "prune", "--dataset", "ellipse", "--method", "grasp2")]
    [InlineData("unknown model", "prune", "--dataset", "ellipse", "--model", "densenet121")]
    [InlineData("6n+2", "prune", "--model", "resnet1001")]
    [InlineData("--lr", "train", "--dataset", "ellipse", "--lr", "-1")]
    [InlineData("--widths", "prune", "--dataset", "ellipse", "--model", "mlp", "--widths", "10,x")]
    [InlineData("unknown device", "prune", "--dataset", "ellipse", "--device", "tpu")]
    [InlineData("does-not-exist.safetensors", "prune", "--dataset", "ellipse", "--init-from", "/nonexistent/does-not-exist.safetensors")]
    public void BadInputIsOneLineWithoutStackTrace(string expected, params string[] args)
    {
        var line = CliRunner.AssertOneLineError(CliRunner.Run([.. WithMethod(args), "--out", Temp()]));
        Assert.Contains(expected, line);
    }

    /// <summary>A prune command line with a method and sparsity when the case does not give them (prune requires both).</summary>
    static string[] WithMethod(string[] args) =>
        args[0] != "prune" || args.Contains("--method") ? args
        : [.. args, "--method", "snip", .. args.Contains("--sparsity") ? Array.Empty<string>() : ["--sparsity", "0.5"]];

    /// <summary>
    /// Every bad argument is refused before any data is read: with no dataset reachable ($INITPRUNE_DATA an empty
    /// folder, the only one searched), each case prints its own argument error, never "fashion-mnist not found".
    /// </summary>
    [Theory]
    [InlineData("unknown dataset", "prune", "--dataset", "imagenet-42")]
    [InlineData("[0, 1)", "prune", "--sparsity", "1.2")]
    [InlineData("[0, 1)", "prune", "--sparsity", "-0.5")]
    [InlineData("unknown pruning method", "prune", "--method", "grasp2")]
    [InlineData("unknown model", "prune", "--model", "densenet121")]
    [InlineData("6n+2", "prune", "--model", "resnet1001")]
    [InlineData("Stable ResNet", "prune", "--model", "resnet20", "--method", "sbp-sr", "--sparsity", "0.5")]
    [InlineData("Stable ResNet", "prune", "--model", "resnet20", "--method", "grasp-sr", "--sparsity", "0.5")]
    [InlineData("--stable applies to ResNets only", "prune", "--stable")]
    [InlineData("unknown initialization", "prune", "--init", "kaiming2")]
    [InlineData("--sigma-w -1 is impossible: use a finite value ≥ 0", "prune", "--sigma-w", "-1")]
    [InlineData("--scope 'per-unit' is unknown: use one of global, layer-wise", "prune", "--scope", "per-unit")]
    [InlineData("--temperature does nothing for method 'snip'", "prune", "--temperature", "2")]
    [InlineData("method 'snip' needs --sparsity", "prune", "--method", "snip")]
    [InlineData("unknown rescaling", "prune", "--rescale", "eoc2")]
    [InlineData("needs an initialization drawn with one sigma_w > 0", "prune", "--rescale", "eoc-sigma-w", "--sigma-w", "0")]
    [InlineData("temperature", "prune", "--method", "grasp", "--temperature", "0")]
    [InlineData("alpha", "prune", "--method", "seed003-random", "--alpha", "2")]
    [InlineData("unknown padding", "prune", "--model", "vcnn", "--padding", "reflect")]
    [InlineData("--score-batch-size", "prune", "--score-batch-size", "0")]
    [InlineData("--widths", "prune", "--model", "mlp", "--widths", "10,x")]
    [InlineData("unknown device", "prune", "--device", "tpu")]
    [InlineData("does-not-exist.safetensors", "prune", "--init-from", "/nonexistent/does-not-exist.safetensors")]
    [InlineData("rounds", "prune", "--method", "imp", "--rounds", "0")]
    [InlineData("--lr", "train", "--lr", "-1")]
    [InlineData("6n+2", "train", "--model", "resnet1001")]
    [InlineData("unknown initialization", "train", "--init", "kaiming2")]
    [InlineData("does-not-exist.safetensors", "train", "--mask", "/nonexistent/does-not-exist.safetensors")]
    [InlineData("does-not-exist.safetensors", "train", "--fixed-multiplier", "/nonexistent/does-not-exist.safetensors")]
    [InlineData("unknown pruning method", "quickstart", "--methods", "grasp2")]
    [InlineData("[0, 1)", "quickstart", "--sparsities", "0,1.5")]
    [InlineData("Stable ResNet", "quickstart", "--methods", "sbp-sr")]
    public void BadArgumentsAreRefusedBeforeAnyDataIsRead(string expected, params string[] args)
    {
        var empty = Temp();
        var env = new Dictionary<string, string?> { ["INITPRUNE_DATA"] = empty, ["HOME"] = empty };
        var line = CliRunner.AssertOneLineError(CliRunner.RunIn(env, [.. WithMethod(args), "--out", Temp()]));
        Assert.Contains(expected, line);
        Assert.DoesNotContain("not found", line);
    }

    [Fact]
    public void MissingAndCorruptDatasetFilesAreOneLineErrors()
    {
        var empty = Temp();
        var env = new Dictionary<string, string?> { ["INITPRUNE_DATA"] = empty, ["HOME"] = empty };
        var missing = CliRunner.AssertOneLineError(CliRunner.RunIn(env, "prune", "--method", "snip", "--sparsity", "0.5", "--dataset", "mnist", "--data-dir", empty, "--out", Temp()));
        Assert.Contains("train-images-idx3-ubyte", missing);

        var bad = Temp();
        DataFiles.WriteMnistLike(bad, [1, 2, 3], [4, 5]);
        var images = Path.Combine(bad, "train-images-idx3-ubyte");
        var bytes = File.ReadAllBytes(images);
        bytes[3] = 0x04; // wrong magic number
        File.WriteAllBytes(images, bytes);
        var magic = CliRunner.AssertOneLineError(CliRunner.RunIn(env, "prune", "--method", "snip", "--sparsity", "0.5", "--dataset", "mnist", "--data-dir", bad, "--out", Temp()));
        Assert.Contains("magic", magic);
    }

    /// <summary>
    /// A chosen data folder (--data-dir, or $INITPRUNE_DATA) that lacks a file, does not exist or is a plain file is
    /// refused in one line naming it: never replaced by /usr/share/datasets (where Fashion-MNIST is installed here) or
    /// by the quickstart's synthetic fallback.
    /// </summary>
    [Theory]
    [InlineData("train", "lacks-a-file", false)]
    [InlineData("train", "absent", false)]
    [InlineData("train", "plain-file", false)]
    [InlineData("train", "lacks-a-file", true)]
    [InlineData("prune", "lacks-a-file", false)]
    [InlineData("prune", "plain-file", true)]
    [InlineData("quickstart", "lacks-a-file", false)]
    [InlineData("quickstart", "absent", true)]
    [InlineData("sweep", "lacks-a-file", false)]
    [InlineData("sweep", "absent", true)]
    public void A_chosen_data_folder_without_the_dataset_is_refused(string command, string what, bool viaEnvironment)
    {
        var chosen = Path.Combine(Temp(), "data");
        var expected = $"{chosen} lacks t10k-labels-idx1-ubyte(.gz)";
        if (what == "lacks-a-file")
        {
            DataFiles.WriteMnistLike(Directory.CreateDirectory(chosen).FullName, [1, 2], [3]);
            File.Delete(Path.Combine(chosen, "t10k-labels-idx1-ubyte"));
        }
        else if (what == "plain-file")
        {
            File.WriteAllText(chosen, "not a folder");
            expected = "it is a file, not a folder";
        }
        else
            expected = "the folder does not exist";
        var from = viaEnvironment ? "$INITPRUNE_DATA" : "--data-dir";
        var env = new Dictionary<string, string?> { ["INITPRUNE_DATA"] = viaEnvironment ? chosen : null, ["HOME"] = Temp() };
        var dataDir = viaEnvironment ? Array.Empty<string>() : ["--data-dir", chosen];
        var outDir = Path.Combine(Temp(), "out");
        string[] args = command switch
        {
            "train" => ["train", "--dataset", "fashion-mnist", "--model", "lenet300", "--epochs", "1", "--out", outDir],
            "prune" => ["prune", "--method", "snip", "--sparsity", "0.5", "--dataset", "fashion-mnist", "--model", "lenet300", "--out", outDir],
            "quickstart" => ["quickstart", "--epochs", "1", "--methods", "random", "--sparsities", "0.5", "--train-subset", "100", "--out", outDir],
            _ => ["sweep", WriteSpec("name: chosen\ndata: {name: fashion-mnist, train_subset: 100}\nmodel: {name: lenet300}\ntrain: {epochs: 1}\n"), "--out", outDir],
        };
        var line = CliRunner.AssertOneLineError(CliRunner.RunIn(env, [.. args, .. dataDir]));
        Assert.Contains($"fashion-mnist not found in {from} {chosen}: {expected}", line);
        Assert.False(File.Exists(Path.Combine(outDir, "metrics.json")), "nothing was trained");
    }

    string WriteSpec(string yaml)
    {
        var path = Path.Combine(Temp(), "spec.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    /// <summary>An empty training (or test) set is refused before training: it used to train to "loss NaN", "completed": true.</summary>
    [Theory]
    [InlineData("train", "train", "fashion-mnist has no training samples")]
    [InlineData("train", "test", "fashion-mnist has no test samples")]
    [InlineData("prune", "train", "fashion-mnist has no training samples")]
    public void An_empty_dataset_is_refused_before_training(string command, string split, string expected)
    {
        var data = Temp();
        DataFiles.WriteMnistLike(data, split == "train" ? [] : [1, 2, 3], split == "test" ? [] : [1, 2]);
        var outDir = Path.Combine(Temp(), "out");
        string[] args = command == "train"
            ? ["train", "--dataset", "fashion-mnist", "--model", "lenet300", "--epochs", "1", "--data-dir", data, "--out", outDir]
            : ["prune", "--dataset", "fashion-mnist", "--model", "lenet300", "--method", "snip", "--sparsity", "0.5", "--data-dir", data, "--out", outDir];
        var line = CliRunner.AssertOneLineError(CliRunner.Run(args));
        Assert.Contains(expected, line);
        Assert.False(File.Exists(Path.Combine(outDir, "metrics.json")));
    }

    /// <summary>
    /// A mask file must hold 0/1 (or bool) tensors named after prunable tensors of the model, with their shapes. A weights
    /// file used to train with exit 0 after pruning every bias (its zero biases read as "pruned"), and 0.5 or 7 read as "kept".
    /// </summary>
    [Theory]
    [InlineData("weights", "weights.safetensors: mask tensor '")]
    [InlineData("half", "mask tensor 'layers.0.weight' holds 0.5 at flat index 3: a mask holds only 0 and 1 (or bool)")]
    [InlineData("seven", "mask tensor 'layers.0.weight' holds 7 at flat index 3")]
    [InlineData("nan", "mask tensor 'layers.0.weight' holds NaN at flat index 3")]
    [InlineData("unknown", "names 'layers.9.weight', which is not a prunable tensor of this model")]
    [InlineData("shape", "has shape [2,2] for 'layers.0.weight' but the model's tensor is [16,2]")]
    [InlineData("empty", "holds no tensors, so it is not a mask")]
    public void A_file_that_is_not_a_mask_of_this_model_is_refused(string kind, string expected)
    {
        var p = Temp();
        Assert.Equal(0, CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "2", "--width", "16", "--method", "random", "--sparsity", "0.5", "--out", p).ExitCode);
        var path = Path.Combine(p, "weights.safetensors");
        if (kind != "weights")
        {
            var mask = InitPrune.Pruning.Mask.Load(Path.Combine(p, "mask.safetensors"));
            var tensors = mask.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.to(TorchSharp.torch.ScalarType.Float32));
            using (var first = tensors["layers.0.weight"].view(-1))
                first[3] = TorchSharp.torch.tensor(kind switch { "half" => 0.5f, "seven" => 7f, "nan" => float.NaN, _ => 1f });
            if (kind == "unknown") tensors["layers.9.weight"] = TorchSharp.torch.ones(3);
            if (kind == "shape") tensors["layers.0.weight"] = TorchSharp.torch.ones(2, 2);
            if (kind == "empty") tensors.Clear();
            path = Path.Combine(p, kind + ".safetensors");
            Safetensors.Save(path, tensors);
            mask.Dispose();
        }
        var outDir = Path.Combine(Temp(), "out");
        var line = CliRunner.AssertOneLineError(CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--depth", "2", "--width", "16", "--mask", path, "--epochs", "1", "--out", outDir));
        Assert.Contains(expected, line);
        Assert.False(File.Exists(Path.Combine(outDir, "metrics.json")));
    }

    [Fact]
    public void MaskForAnotherModelIsRejected()
    {
        string p = Temp();
        Assert.Equal(0, CliRunner.Run("prune", "--method", "snip", "--sparsity", "0.5", "--dataset", "ellipse", "--model", "mlp", "--width", "10", "--out", p).ExitCode);
        var line = CliRunner.AssertOneLineError(CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--width", "20", "--mask", Path.Combine(p, "mask.safetensors"), "--out", Temp()));
        Assert.Contains("another model", line);
    }

    [Fact]
    public void QuickstartWritesTableJsonAndPlot()
    {
        var dir = Temp();
        var r = CliRunner.Run("quickstart", "--epochs", "1", "--train-subset", "3000", "--methods", "random,snip", "--sparsities", "0,0.9", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var first = r.Stdout.Split('\n')[0];
        Assert.True(first.Contains("Fashion-MNIST") || first.Contains("ellipse"), first);
        Assert.Contains("snip", r.Stdout);
        Assert.Matches(@"epoch 1/1 lr \S+ loss \d+\.\d{4} test \d+\.\d{4} \d+\.\d% [\d,]+/s \d+\.\ds", r.Stdout);
        var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json"))).RootElement;
        Assert.Equal(4, results.GetProperty("runs").GetArrayLength());
        var png = File.ReadAllBytes(Path.Combine(dir, "accuracy.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Fact]
    public void SbpSrPrunesAStableResNetAndRefusesAPlainOne()
    {
        var dir = Temp();
        var r = CliRunner.Run("prune", "--model", "resnet20", "--stable", "--method", "sbp-sr", "--sparsity", "0.9", "--score-batch-size", "16", "--out", dir, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var s = r.Json;
        Assert.Equal("resnet20", s.GetProperty("model").GetString());
        Assert.Equal((long)Math.Round(0.1 * s.GetProperty("total").GetInt64(), MidpointRounding.AwayFromZero), s.GetProperty("kept").GetInt64());
        // 19 convolutions + 2 option-B shortcuts + fc: s_max = 1 − 22/total.
        Assert.Equal(22, s.GetProperty("layers").GetArrayLength());
        Assert.Equal(1 - 22.0 / s.GetProperty("total").GetInt64(), s.GetProperty("max_sparsity_without_collapse").GetDouble(), 12);
        Assert.Equal(16, s.GetProperty("unit_kept_fractions").GetProperty("conv.weight").GetArrayLength());
        var pruned = Safetensors.Load(Path.Combine(dir, "weights.pruned.safetensors"));
        foreach (var (name, mask) in InitPrune.Pruning.Mask.Load(Path.Combine(dir, "mask.safetensors")).Tensors)
            Assert.Equal(0f, pruned[name].masked_select(mask.logical_not()).abs().sum().item<float>());
        var plain = CliRunner.AssertOneLineError(CliRunner.Run("prune", "--model", "resnet20", "--method", "sbp-sr", "--sparsity", "0.9", "--out", Temp()));
        Assert.Contains("Stable", plain, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void UnitKeptFractionsAverageToTheLayerFraction()
    {
        var r = CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "2", "--width", "40", "--method", "magnitude", "--sparsity", "0.7", "--out", Temp(), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (var layer in r.Json.GetProperty("layers").EnumerateArray())
        {
            var name = layer.GetProperty("name").GetString()!;
            var units = r.Json.GetProperty("unit_kept_fractions").GetProperty(name).EnumerateArray().Select(u => u.GetDouble()).ToArray();
            Assert.Equal(layer.GetProperty("kept_fraction").GetDouble(), units.Average(), 12);
        }
    }

    [Fact]
    public void ImpPrunesIterativelyFromTheCommandLine()
    {
        var dir = Temp();
        var r = CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--width", "32", "--method", "imp", "--sparsity", "0.8", "--rounds", "2", "--round-epochs", "1", "--out", dir, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("imp", r.Json.GetProperty("method").GetString());
        Assert.Equal((long)Math.Round(0.2 * r.Json.GetProperty("total").GetInt64(), MidpointRounding.AwayFromZero), r.Json.GetProperty("kept").GetInt64());
        // Rewound: the pruned weights file is the initial weights times the mask.
        var initial = Safetensors.Load(Path.Combine(dir, "weights.safetensors"));
        var pruned = Safetensors.Load(Path.Combine(dir, "weights.pruned.safetensors"));
        foreach (var (name, mask) in InitPrune.Pruning.Mask.Load(Path.Combine(dir, "mask.safetensors")).Tensors)
            Assert.True(TestNets.Same(pruned[name], initial[name] * mask.to(TorchSharp.torch.ScalarType.Float32)), name);
        Assert.Matches("epoch 1/1", r.Stderr);
        CliRunner.AssertOneLineError(CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--method", "imp", "--rounds", "0", "--out", Temp()));
    }

    [Fact]
    public void FixedMultiplierRescalingRoundTripsThroughTheFiles()
    {
        string p = Temp(), t = Temp();
        var r = CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--activation", "tanh", "--init", "eoc", "--sigma-b", "0.1",
            "--method", "magnitude", "--sparsity", "0.7", "--rescale", "eoc-fixed", "--out", p, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("rescale.safetensors", r.Json.GetProperty("files").GetProperty("rescale").GetString());
        var tr = CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--activation", "tanh", "--init-from", Path.Combine(p, "weights.pruned.safetensors"),
            "--mask", Path.Combine(p, "mask.safetensors"), "--fixed-multiplier", Path.Combine(p, "rescale.safetensors"), "--epochs", "1", "--weight-decay", "1e-4", "--out", t, "--json");
        Assert.True(tr.ExitCode == 0, tr.Stderr);
        var final = Safetensors.Load(Path.Combine(t, "final.safetensors"));
        foreach (var (name, mask) in InitPrune.Pruning.Mask.Load(Path.Combine(p, "mask.safetensors")).Tensors)
            Assert.Equal(0f, final[name].masked_select(mask.logical_not()).abs().sum().item<float>());
        var wrong = CliRunner.Run("train", "--dataset", "ellipse", "--model", "mlp", "--width", "7", "--fixed-multiplier", Path.Combine(p, "rescale.safetensors"), "--out", Temp());
        Assert.Contains("another model", CliRunner.AssertOneLineError(wrong));
    }
}
