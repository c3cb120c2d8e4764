using InitPrune.Cli.Commands;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

/// <summary>
/// prune_batchnorm (Synaptic-Flow's --prune-batchnorm): BatchNorm's γ (and β with include_biases) join the prunable
/// tensors, are scored like the others, masked through training and saved under PyTorch names; without the flag
/// nothing changes.
/// </summary>
public class PruneBatchNormTests
{
    static readonly InitSpec Init = new("normal", Math.Sqrt(2), 0.1);

    static nn.Module<Tensor, Tensor> ResNet(long seed = 3)
    {
        var model = ModelRegistry.Create(new ModelSpec("resnet20", WidthMultiplier: 0.5), [3, 8, 8], 4);
        Initializers.Apply(model, Init, seed);
        // γ and β away from 1 and 0, so that magnitudes and gradients differ between channels.
        using var g = new Generator((ulong)seed + 100);
        using var _ = no_grad();
        foreach (var t in Network.Prunable(model, includeBiases: true, includeBatchNorm: true).Where(t => t.IsBatchNorm))
            t.Value.copy_(t.IsBias ? randn(t.Value.shape, generator: g).mul_(0.1) : rand(t.Value.shape, generator: g).add_(0.5));
        return model;
    }

    /// <summary>SynFlow with 5 rounds instead of 100, to keep the tests short.</summary>
    static MethodOptions? Short(string method) => method == "synflow" ? MethodOptions.Default.With(SynFlowScorer.Iterations, 5) : null;

    static (Tensor X, Tensor Y) Batch(int n = 16)
    {
        using var g = new Generator(9);
        return (randn([n, 3, 8, 8], generator: g), randint(0, 4, [n], generator: g));
    }

    static string[] BatchNormNames(nn.Module model, bool biases) =>
        [.. Network.Modules(model).Where(m => m.Module is MaskedBatchNorm2d)
            .SelectMany(m => biases ? new[] { m.Name + ".weight", m.Name + ".bias" } : [m.Name + ".weight"])];

    [Fact]
    public void The_maskable_BatchNorm_is_PyTorchs_BatchNorm2d_bit_for_bit()
    {
        using var ours = new MaskedBatchNorm2d(5);
        using var theirs = nn.BatchNorm2d(5);
        Assert.Equal(theirs.state_dict().Keys, ours.state_dict().Keys);
        using var g = new Generator(1);
        using (no_grad())
        {
            using var w = randn([5], generator: g);
            using var b = randn([5], generator: g);
            ours.weight!.copy_(w);
            theirs.weight!.copy_(w);
            ours.bias!.copy_(b);
            theirs.bias!.copy_(b);
        }
        for (int step = 0; step < 3; step++)
        {
            using var x = randn([4, 5, 3, 3], generator: g);
            using var a = ours.forward(x);
            using var c = theirs.forward(x);
            Assert.True(TestNets.Same(a, c), "train-mode outputs differ");
        }
        foreach (var (name, t) in theirs.state_dict()) Assert.True(TestNets.Same(t, ours.state_dict()[name]), $"{name} differs after training-mode steps");
        ours.eval();
        theirs.eval();
        using var y = randn([2, 5, 3, 3], generator: g);
        using var e1 = ours.forward(y);
        using var e2 = theirs.forward(y);
        Assert.True(TestNets.Same(e1, e2), "eval-mode outputs differ");
    }

    [Theory]
    [InlineData("snip")]
    [InlineData("synflow")]
    public void Without_the_flag_BatchNorm_stays_out_of_the_mask_and_the_mask_is_that_of_the_weights_alone(string method)
    {
        var (x, y) = Batch();
        var context = new ScoringContext(x, y, TaskKind.Classification, 0);
        using var model = ResNet();
        var weights = Network.Prunable(model);
        Assert.DoesNotContain(weights, t => t.IsBatchNorm);
        using var result = Pruner.Prune(model, new PruneSpec(method, 0.9, Options: Short(method)), context);
        Assert.Equal(weights.Select(t => t.Name).Order(StringComparer.Ordinal), result.Mask.Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.All(Network.Modules(model).Select(m => m.Module).OfType<MaskedBatchNorm2d>(), bn => Assert.Null(bn.WeightMask));
    }

    [Theory]
    [InlineData("snip", false)]
    [InlineData("snip", true)]
    [InlineData("grasp", false)]
    [InlineData("synflow", false)]
    [InlineData("magnitude", true)]
    [InlineData("random", false)]
    public void With_the_flag_the_mask_covers_BatchNorm_and_keeps_the_exact_count_of_the_enlarged_set(string method, bool biases)
    {
        var (x, y) = Batch(8);
        var context = new ScoringContext(x, y, TaskKind.Classification, 0);
        using var model = ResNet();
        var spec = new PruneSpec(method, 0.8, IncludeBiases: biases, Options: Short(method), PruneBatchNorm: true);
        var targets = Pruner.Targets(model, spec);
        var bn = BatchNormNames(model, biases);
        Assert.Equal(bn.Order(StringComparer.Ordinal), targets.Where(t => t.IsBatchNorm).Select(t => t.Name).Order(StringComparer.Ordinal));
        using var result = Pruner.Prune(model, spec, context);
        foreach (var name in bn) Assert.Contains(name, result.Mask.Tensors.Keys);
        long total = targets.Sum(t => t.Count);
        Assert.Equal(total, result.Mask.Total);
        Assert.Equal(MaskBuilder.KeepCount(0.8, total), result.Mask.Kept);
        // The pruned γ are 0 in the model, and the BatchNorm modules carry the masks.
        foreach (var t in targets.Where(t => t.IsBatchNorm))
        {
            Assert.NotNull(t.Mask);
            Assert.Equal(0f, t.Value.masked_select(result.Mask.Tensors[t.Name].logical_not()).abs().sum().item<float>());
        }
    }

    [Fact]
    public void Snip_scores_a_BatchNorm_scale_by_its_own_gradient()
    {
        // |γ ⊙ ∂L/∂γ| by hand: the loss's gradient with respect to the scale of the first BatchNorm.
        var (x, y) = Batch();
        using var model = ResNet();
        var gamma = Network.Prunable(model, includeBatchNorm: true).First(t => t.IsBatchNorm);
        model.zero_grad();
        using (var loss = nn.functional.cross_entropy(model.forward(x), y)) loss.backward();
        using var hand = (gamma.Value * gamma.Value.grad!).abs();
        model.zero_grad();
        using var result = Pruner.Prune(model, new PruneSpec("snip", 0.5, PruneBatchNorm: true), new ScoringContext(x, y, TaskKind.Classification, 0));
        Assert.True(hand.allclose(result.Scores[gamma.Name], 1e-5, 1e-9), "SNIP's BatchNorm scores are not |γ ⊙ ∂L/∂γ|");
        Assert.True(hand.abs().sum().item<float>() > 0, "the hand scores are all zero: the test checks nothing");
    }

    [Fact]
    public void Pruned_scales_stay_zero_through_SGD_and_the_others_train()
    {
        var (x, y) = Batch(64);
        using var model = ResNet();
        using var result = Pruner.Prune(model, new PruneSpec("snip", 0.7, IncludeBiases: true, PruneBatchNorm: true), new ScoringContext(x.narrow(0, 0, 16), y.narrow(0, 0, 16), TaskKind.Classification, 0));
        var bn = Network.Prunable(model, includeBiases: true, includeBatchNorm: true).Where(t => t.IsBatchNorm).ToList();
        using var before = TensorDict.CloneOf(bn.Select(t => KeyValuePair.Create(t.Name, t.Value)));
        Assert.Contains(bn, t => !result.Mask.Tensors[t.Name].all().item<bool>());
        using var g = new Generator(2);
        using var data = new DatasetSplit(new Dataset("noise", x, y, TaskKind.Classification, 4),
            new Dataset("noise", randn([16, 3, 8, 8], generator: g), randint(0, 4, [16], generator: g), TaskKind.Classification, 4), "synthetic");
        new Trainer(new TrainConfig(Epochs: 2, BatchSize: 16, LearningRate: 0.1, Momentum: 0.9, WeightDecay: 1e-3)).Train(model, data, seed: 1);
        foreach (var t in bn)
        {
            var keep = result.Mask.Tensors[t.Name];
            Assert.Equal(0f, t.Value.masked_select(keep.logical_not()).abs().sum().item<float>());
            if (keep.any().item<bool>())
                Assert.False(TestNets.Same(before[t.Name], t.Value), $"{t.Name}: the kept entries did not train");
        }
    }

    [Theory]
    [InlineData("wlth", "cannot prune BatchNorm")]
    [InlineData("seed003-magnitude", "cannot prune BatchNorm")]
    public void Methods_without_a_BatchNorm_score_refuse_in_one_line(string method, string expected)
    {
        using var model = ResNet();
        var e = Assert.Throws<InitPruneException>(() => Pruner.Check(model, new PruneSpec(method, 0.5, Options: MethodOptions.Default.WithInit(Init), PruneBatchNorm: true)));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        e = Assert.Throws<InitPruneException>(() => Pruner.Check(model, new PruneSpec("snip", 0.5, Rescale: new RescaleSpec(), PruneBatchNorm: true)));
        Assert.Contains("not defined for BatchNorm scales", e.Message);
        using var mlp = TestNets.Mlp(8, [16], 4);
        e = Assert.Throws<InitPruneException>(() => Pruner.Check(mlp, new PruneSpec("snip", 0.5, PruneBatchNorm: true)));
        Assert.Contains("has no BatchNorm", e.Message);
    }

    [Fact]
    public void Mask_files_name_BatchNorm_tensors_as_PyTorch_does_and_load_back()
    {
        var (x, y) = Batch();
        using var model = ResNet();
        using var result = Pruner.Prune(model, new PruneSpec("snip", 0.8, PruneBatchNorm: true), new ScoringContext(x, y, TaskKind.Classification, 0));
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "mask.safetensors");
        result.Mask.Save(path);
        using var raw = Safetensors.Load(path);
        Assert.Contains("bn.weight", raw.Keys);
        Assert.Contains("blocks.0.bn1.weight", raw.Keys);
        using var loaded = Mask.Load(path);
        using var fresh = ResNet();
        loaded.ApplyTo(fresh);
        var gamma = Network.Prunable(fresh, includeBatchNorm: true).Single(t => t.Name == "bn.weight");
        Assert.NotNull(gamma.Mask);
        Assert.True(TestNets.Same(result.Mask.Tensors["bn.weight"], gamma.Mask!.ne(0)));
    }

    [Fact]
    public void A_checkpoint_keeps_the_BatchNorm_masks_for_a_resumed_run()
    {
        var (x, y) = Batch(8);
        using var model = ResNet();
        using var result = Pruner.Prune(model, new PruneSpec("snip", 0.8, PruneBatchNorm: true), new ScoringContext(x, y, TaskKind.Classification, 0));
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "checkpoint.safetensors");
        Checkpoint.Save(path, "run", model, new TrainState(0, 0, []));
        using var fresh = ResNet(seed: 4);
        Checkpoint.Load(path, "run", fresh);
        foreach (var t in Network.Prunable(fresh, includeBatchNorm: true).Where(t => t.IsBatchNorm))
            Assert.True(TestNets.Same(result.Mask.Tensors[t.Name], t.Mask!.ne(0)), $"{t.Name}: mask lost in the checkpoint");
    }

    // ---- command line, specs, run ids ----

    [Fact]
    public void The_command_line_and_a_spec_set_it_and_it_enters_the_id_only_when_true()
    {
        var command = new PruneCommand();
        var parsed = command.Command.Parse("--dataset ellipse --model resnet20 --method snip --sparsity 0.5 --prune-batchnorm".Split(' '));
        Assert.Empty(parsed.Errors);
        var cli = command.Read(parsed);
        Assert.True(cli.Prune.PruneBatchNorm);

        using var dir = new TempDir();
        RunConfig Load(string model, string prune)
        {
            var path = Path.Combine(dir.Path, "s.yaml");
            File.WriteAllText(path, $"name: s\ndata: {{name: ellipse}}\nmodel: {{name: {model}}}\nprune: {prune}\ntrain: {{epochs: 0}}\n");
            return SpecLoader.Load(path, "full", null).Entries.Single().Config;
        }
        var on = Load("resnet20", "{method: snip, sparsity: 0.5, prune_batchnorm: true}");
        var off = Load("resnet20", "{method: snip, sparsity: 0.5}");
        Assert.Equal(on.ToPruneSpec(), cli.Prune);
        Assert.True(on.ToPruneSpec().PruneBatchNorm);
        Assert.Contains("\"prune_batchnorm\":true", on.ToJson());
        Assert.DoesNotContain("prune_batchnorm", off.ToJson());
        Assert.NotEqual(off.Id, on.Id);
        Assert.Equal(on, RunConfig.FromJson(on.ToJson()));
        // A model without BatchNorm prunes the same tensors either way: one run.
        Assert.Equal(Load("mlp", "{method: snip, sparsity: 0.5}").Id, Load("mlp", "{method: snip, sparsity: 0.5, prune_batchnorm: true}").Id);
    }

    [Fact]
    public void Prune_prunes_BatchNorm_from_the_command_line()
    {
        using var temp = new TempDir();
        var r = CliRunner.Run("prune", "--model", "resnet20", "--method", "snip", "--sparsity", "0.9", "--prune-batchnorm", "--score-batch-size", "16",
            "--out", temp.Path, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var layers = r.Json.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("name").GetString()).ToList();
        Assert.Contains("bn.weight", layers);
        Assert.Contains("blocks.0.bn2.weight", layers);
        Assert.Equal((long)Math.Round(0.1 * r.Json.GetProperty("total").GetInt64(), MidpointRounding.AwayFromZero), r.Json.GetProperty("kept").GetInt64());
        using var mask = Mask.Load(Path.Combine(temp.Path, "mask.safetensors"));
        Assert.Contains("bn.weight", mask.Tensors.Keys);

        var refused = CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--method", "snip", "--sparsity", "0.5", "--prune-batchnorm", "--out", Path.Combine(temp.Path, "b"));
        Assert.Contains("has no BatchNorm", CliRunner.AssertOneLineError(refused, refused.ExitCode));
    }
}
