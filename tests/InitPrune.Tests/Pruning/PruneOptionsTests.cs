using FsCheck;
using FsCheck.Fluent;
using InitPrune.Cli.Commands;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Experiments;
using InitPrune.Experiments.Sweeps;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

/// <summary>
/// The pruning-side options of issue 11 (score_batches, score_bn, keep_rule, prune_first/prune_last, ablation), each
/// against a hand computation or an invariant, and each reachable from the command line and from specs.
/// </summary>
public class PruneOptionsTests
{
    static bool[] Bools(Mask m, string name) => m.Tensors[name].flatten().data<bool>().ToArray();

    static bool Close(Tensor a, Tensor b, double rtol, double atol) =>
        a.shape.SequenceEqual(b.shape) && a.to(ScalarType.Float64).allclose(b.to(ScalarType.Float64), rtol, atol);

    // ---- keep_rule ----

    [Fact]
    public void The_reference_rule_prunes_every_score_tied_at_the_threshold()
    {
        // Global, s = 0.5 of N = 6: k = int(3) = 3; sorted 0.1 0.2 0.5 0.5 0.5 0.9, threshold 0.5, so only 0.9 stays.
        var a = tensor(new float[] { 0.1f, 0.5f, 0.5f, 0.9f });
        var b = tensor(new float[] { 0.5f, 0.2f });
        using var reference = MaskBuilder.FromScores([("a", a), ("b", b)], 0.5, PruneScope.Global, KeepRule.Reference);
        Assert.Equal([false, false, false, true], Bools(reference, "a"));
        Assert.Equal([false, false], Bools(reference, "b"));
        // The stable rule keeps exactly round(3) = 3: 0.9 and the first two 0.5s.
        using var stable = MaskBuilder.FromScores([("a", a), ("b", b)], 0.5, PruneScope.Global, KeepRule.Stable);
        Assert.Equal([false, true, true, true], Bools(stable, "a"));
        Assert.Equal([false, false], Bools(stable, "b"));
        // Layer-wise: a has k = 2, threshold 0.5 (the 2nd smallest); b has k = 1, threshold 0.2.
        using var layer = MaskBuilder.FromScores([("a", a), ("b", b)], 0.5, PruneScope.LayerWise, KeepRule.Reference);
        Assert.Equal([false, false, false, true], Bools(layer, "a"));
        Assert.Equal([true, false], Bools(layer, "b"));
        // k = int(0.1 · 6) = 0: nothing is pruned (Synaptic-Flow leaves the mask as it is).
        using var none = MaskBuilder.FromScores([("a", a), ("b", b)], 0.1, PruneScope.Global, KeepRule.Reference);
        Assert.Equal(6, none.Kept);
    }

    [Fact]
    public void The_reference_rule_equals_its_definition_on_random_scores_with_ties()
    {
        var cases = from n in Gen.Choose(1, 300)
                    from permille in Gen.Choose(0, 999)
                    from seed in Gen.Choose(0, 9)
                    select (n, permille, seed);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (n, permille, seed) = c;
            double s = permille / 1000.0;
            using var g = new Generator((ulong)seed);
            using var scores = randint(0, 5, [n], generator: g).to(ScalarType.Float32);
            using var m = MaskBuilder.FromScores([("a", scores)], s, PruneScope.Global, KeepRule.Reference);
            // Synaptic-Flow's _global_mask, written out on plain arrays: k = int(s·N), threshold the k-th smallest, keep > threshold.
            var values = scores.data<float>().ToArray();
            int k = (int)(s * n);
            var expected = k < 1 ? values.Select(_ => true).ToArray() : values.Select(v => v > values.Order().ElementAt(k - 1)).ToArray();
            return Bools(m, "a").SequenceEqual(expected);
        }).QuickCheckThrowOnFailure();
    }

    // ---- score_batches ----

    [Fact]
    public void Scores_on_equal_batches_are_the_scores_of_their_concatenation()
    {
        // The mean of two equal batches' mean losses is the mean loss over both (no BatchNorm here), so SNIP and GraSP
        // on the two batches must equal SNIP and GraSP on one batch holding both.
        using var model = TestNets.Mlp(8, [16, 16], 4, seed: 2);
        using var g = new Generator(7);
        using var x = randn([100, 8], generator: g);
        using var y = randint(0, 4, [100], generator: g);
        var targets = Network.Prunable(model);
        using var x0 = x.narrow(0, 0, 50);
        using var x1 = x.narrow(0, 50, 50);
        using var y0 = y.narrow(0, 0, 50);
        using var y1 = y.narrow(0, 50, 50);
        var two = new ScoringContext(x0, y0, TaskKind.Classification, 0, [(x0, y0), (x1, y1)]);
        var one = new ScoringContext(x, y, TaskKind.Classification, 0);
        var first = new ScoringContext(x0, y0, TaskKind.Classification, 0);
        foreach (IScorer scorer in new IScorer[] { new SnipScorer(), new GraspScorer(200) })
        {
            var onTwo = scorer.Score(model, targets, two);
            var onOne = scorer.Score(model, targets, one);
            var onFirst = scorer.Score(model, targets, first);
            double rtol = scorer is GraspScorer ? 1e-9 : 1e-4;
            foreach (var t in targets)
            {
                Assert.True(Close(onTwo[t.Name], onOne[t.Name], rtol, 1e-12), $"{scorer.Name} {t.Name}: two batches differ from their concatenation");
                Assert.False(Close(onTwo[t.Name], onFirst[t.Name], 1e-3, 0), $"{scorer.Name} {t.Name}: the second batch changed nothing");
            }
        }
    }

    [Fact]
    public void Scoring_batches_start_with_the_one_batch_of_today_and_are_distinct_samples()
    {
        var data = TestNets.Ellipse();
        var (x, y) = Setup.ScoringBatch(data.Train, 100, seed: 3);
        var batches = Setup.ScoringBatches(data.Train, 100, 3, seed: 3);
        Assert.Equal(3, batches.Count);
        Assert.True(TestNets.Same(x, batches[0].X) && TestNets.Same(y, batches[0].Y));
        Assert.False(TestNets.Same(batches[0].X, batches[1].X));
        var one = Setup.ScoringBatches(data.Train, 100, 1, seed: 3);
        Assert.True(TestNets.Same(x, one[0].X));
        var e = Assert.Throws<InitPruneException>(() => Setup.ScoringBatches(data.Train, 1000, 5, seed: 3));
        Assert.Contains("more than the", e.Message);
    }

    // ---- score_bn ----

    /// <summary>fc1 → BatchNorm1d → ReLU → fc2, with running statistics that are not the initial 0 and 1.</summary>
    sealed class BnNet : nn.Module<Tensor, Tensor>
    {
        readonly MaskedLinear fc1 = new(4, 6);
        readonly BatchNorm1d bn = nn.BatchNorm1d(6);
        readonly MaskedLinear fc2 = new(6, 3);

        public BnNet() : base("BnNet")
        {
            RegisterComponents();
            using var g = new Generator(11);
            using var _ = no_grad();
            foreach (var p in parameters()) p.copy_(randn(p.shape, generator: g));
            bn.running_mean!.copy_(randn([6], generator: g));
            bn.running_var!.copy_(rand([6], generator: g).add_(0.5));
        }

        public MaskedLinear Fc1 => fc1;
        public MaskedLinear Fc2 => fc2;
        public BatchNorm1d Bn => bn;

        public override Tensor forward(Tensor x) => fc2.forward(nn.functional.relu(bn.forward(fc1.forward(x))));
    }

    /// <summary>SNIP's |W ⊙ ∂L/∂W| written out: BatchNorm as (h − μ)/√(σ² + ε)·γ + β with running or (biased) batch statistics.</summary>
    static Tensor[] HandSnip(BnNet net, Tensor x, Tensor y, bool eval)
    {
        var w1 = net.Fc1.weight.detach().clone().requires_grad_();
        var w2 = net.Fc2.weight.detach().clone().requires_grad_();
        var h = x.matmul(w1.t()) + net.Fc1.bias!.detach();
        var (mu, variance) = eval ? (net.Bn.running_mean!.detach(), net.Bn.running_var!.detach()) : (h.mean([0]), h.var(0, unbiased: false));
        var normalized = (h - mu) / (variance + 1e-5).sqrt() * net.Bn.weight!.detach() + net.Bn.bias!.detach();
        var output = nn.functional.relu(normalized).matmul(w2.t()) + net.Fc2.bias!.detach();
        var grads = autograd.grad([nn.functional.cross_entropy(output, y)], [w1, w2]);
        return [(w1 * grads[0]).abs().detach(), (w2 * grads[1]).abs().detach()];
    }

    [Fact]
    public void Eval_mode_scores_with_the_running_statistics_and_train_mode_with_the_batch_statistics()
    {
        using var g = new Generator(5);
        using var x = randn([20, 4], generator: g);
        using var y = randint(0, 3, [20], generator: g);
        var context = new ScoringContext(x, y, TaskKind.Classification, 0);
        Tensor[] Pruned(ScoreBatchNorm mode, out Tensor[] hand)
        {
            using var net = new BnNet();
            hand = HandSnip(net, x, y, mode == ScoreBatchNorm.Eval);
            using var result = Pruner.Prune(net, new PruneSpec("snip", 0.5, ScoreBatchNorm: mode), context);
            Assert.True(net.training, "scoring left the model in eval mode");
            return [result.Scores["fc1.weight"].clone(), result.Scores["fc2.weight"].clone()];
        }
        var eval = Pruned(ScoreBatchNorm.Eval, out var handEval);
        var train = Pruned(ScoreBatchNorm.Train, out var handTrain);
        for (int i = 0; i < 2; i++)
        {
            Assert.True(Close(eval[i], handEval[i], 1e-4, 1e-7), $"eval-mode scores of layer {i} are not the running-statistics scores");
            Assert.True(Close(train[i], handTrain[i], 1e-4, 1e-7), $"train-mode scores of layer {i} are not the batch-statistics scores");
            Assert.False(Close(eval[i], train[i], 1e-2, 0), $"layer {i}: the BatchNorm mode changed nothing");
        }
    }

    // ---- prune_first / prune_last ----

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void A_dense_first_or_last_layer_is_left_out_and_the_rest_keeps_its_count(bool first, bool last)
    {
        using var model = TestNets.Mlp(8, [16, 16], 4, seed: 1);
        var all = Network.Prunable(model);
        var dense = first ? all[^1] : all[0];
        using var before = dense.Value.detach().clone();
        using var result = Pruner.Prune(model, new PruneSpec("magnitude", 0.7, PruneFirst: first, PruneLast: last), new ScoringContext(null, null, TaskKind.Classification, 0));
        Assert.DoesNotContain(dense.Name, result.Mask.Tensors.Keys);
        Assert.Equal(2, result.Mask.Tensors.Count);
        Assert.True(TestNets.Same(before, dense.Value), "the dense layer was changed");
        Assert.Null(dense.Mask);
        long total = all.Where(t => t != dense).Sum(t => t.Count);
        Assert.Equal(total, result.Mask.Total);
        Assert.Equal(MaskBuilder.KeepCount(0.7, total), result.Mask.Kept);
    }

    [Fact]
    public void Keeping_both_layers_of_a_two_layer_net_dense_is_refused()
    {
        using var model = TestNets.Mlp(8, [16], 4);
        var e = Assert.Throws<InitPruneException>(() => Pruner.Prune(model, new PruneSpec("magnitude", 0.5, PruneFirst: false, PruneLast: false),
            new ScoringContext(null, null, TaskKind.Classification, 0)));
        Assert.Contains("no layer to prune", e.Message);
    }

    // ---- ablation ----

    static PruneResult Magnitude(nn.Module<Tensor, Tensor> model, Ablation ablation, double s = 0.7, long seed = 4) =>
        Pruner.Prune(model, new PruneSpec("magnitude", s, Ablation: ablation, Options: MethodOptions.Default.WithInit(Init)),
            new ScoringContext(null, null, TaskKind.Classification, seed));

    static readonly InitSpec Init = new("normal", Math.Sqrt(2), 0.1);

    static nn.Module<Tensor, Tensor> Net()
    {
        var model = ModelRegistry.Create(new ModelSpec("mlp", Widths: [32, 32]), 10, 4);
        Initializers.Apply(model, Init, 9);
        return model;
    }

    [Fact]
    public void Invert_keeps_the_lowest_scores_at_the_same_count()
    {
        using var a = Net();
        using var b = Net();
        using var normal = Magnitude(a, Ablation.None);
        using var inverted = Magnitude(b, Ablation.Invert);
        Assert.Equal(normal.Mask.Kept, inverted.Mask.Kept);
        // Kept by the inverted mask: exactly the Kept smallest |W| (all distinct), read from the original weights.
        using var c = Net();
        var original = Network.Prunable(c).SelectMany(t => TestNets.Values(t.Value.abs())).ToArray();
        float threshold = original.Order().ElementAt((int)inverted.Mask.Kept - 1);
        var keep = Network.Prunable(c).SelectMany(t => Bools(inverted.Mask, t.Name)).ToArray();
        Assert.Equal(original.Select(v => v <= threshold), keep);
        var normalKeep = Network.Prunable(c).SelectMany(t => Bools(normal.Mask, t.Name));
        Assert.DoesNotContain(true, keep.Zip(normalKeep, (x, y) => x && y));
    }

    [Fact]
    public void Shuffle_keeps_each_layers_count_and_is_seeded()
    {
        using var a = Net();
        using var b = Net();
        using var c = Net();
        using var d = Net();
        using var normal = Magnitude(a, Ablation.None);
        using var shuffled = Magnitude(b, Ablation.Shuffle);
        using var again = Magnitude(c, Ablation.Shuffle);
        using var other = Magnitude(d, Ablation.Shuffle, seed: 5);
        Assert.Equal(normal.Layers, shuffled.Layers);
        foreach (var name in normal.Mask.Tensors.Keys)
        {
            Assert.False(TestNets.Same(normal.Mask.Tensors[name], shuffled.Mask.Tensors[name]), $"{name} was not shuffled");
            Assert.True(TestNets.Same(shuffled.Mask.Tensors[name], again.Mask.Tensors[name]), $"{name}: the same seed shuffled differently");
            Assert.False(TestNets.Same(shuffled.Mask.Tensors[name], other.Mask.Tensors[name]), $"{name}: another seed shuffled the same");
        }
        // The shuffled mask is what the model carries: pruned entries are zero.
        foreach (var t in Network.Prunable(b))
            Assert.True(TestNets.Same(t.Value.ne(0), shuffled.Mask.Tensors[t.Name]));
    }

    [Fact]
    public void Reinit_keeps_the_mask_and_draws_the_kept_weights_from_the_initialization_with_a_new_seed()
    {
        using var a = Net();
        using var b = Net();
        using var normal = Magnitude(a, Ablation.None);
        using var reinit = Magnitude(b, Ablation.Reinit);
        foreach (var name in normal.Mask.Tensors.Keys) Assert.True(TestNets.Same(normal.Mask.Tensors[name], reinit.Mask.Tensors[name]));
        // The fresh draw: the same initialization with the seed Seeds.For(context seed, "ablation-reinit").
        using var fresh = ModelRegistry.Create(new ModelSpec("mlp", Widths: [32, 32]), 10, 4);
        Initializers.Apply(fresh, Init, Seeds.For(4, "ablation-reinit"));
        var freshTensors = Network.Prunable(fresh, includeBiases: true).ToDictionary(t => t.Name);
        foreach (var t in Network.Prunable(b, includeBiases: true))
        {
            var before = Network.Prunable(a, includeBiases: true).Single(p => p.Name == t.Name).Value;
            if (t.IsBias)
                Assert.True(TestNets.Same(before, t.Value), $"{t.Name} is not pruned, so it keeps its weights");
            else
                Assert.True(TestNets.Same(freshTensors[t.Name].Value.mul(reinit.Mask.Tensors[t.Name]), t.Value), $"{t.Name} is not the fresh draw under the mask");
        }
    }

    [Theory]
    [InlineData("synflow", "invert", "no single ranking")]
    [InlineData("imp", "shuffle", "trains between rounds")]
    public void An_ablation_a_method_cannot_take_is_a_one_line_error(string method, string ablation, string expected)
    {
        using var temp = new TempDir();
        var r = CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--method", method, "--sparsity", "0.5", "--ablation", ablation, "--out", temp.Path);
        Assert.Contains(expected, CliRunner.AssertOneLineError(r, r.ExitCode));
    }

    // ---- command line, specs, run ids ----

    const string Options = "--score-batches 2 --score-bn eval --keep-rule reference --no-prune-first --no-prune-last --ablation shuffle";

    [Fact]
    public void The_command_line_and_a_spec_give_the_same_options_and_they_enter_the_run_id()
    {
        var command = new PruneCommand();
        var parsed = command.Command.Parse($"--dataset ellipse --model mlp --depth 2 --width 16 --init normal --sigma-w 2 --method snip --sparsity 0.5 {Options}".Split(' '));
        Assert.Empty(parsed.Errors);
        var cli = command.Read(parsed);

        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "s.yaml");
        File.WriteAllText(path, "name: s\ndata: {name: ellipse}\nmodel: {name: mlp, depth: 2, width: 16}\ninit: {name: normal, sigma_w: 2}\n" +
            "prune: {method: snip, sparsity: 0.5, score_batches: 2, score_bn: eval, keep_rule: reference, prune_first: false, prune_last: false, ablation: shuffle}\ntrain: {epochs: 0}\n");
        var config = SpecLoader.Load(path, "full", null).Entries.Single().Config;
        var spec = config.ToPruneSpec();
        Assert.Equal(spec, cli.Prune);
        Assert.Equal((KeepRule.Reference, ScoreBatchNorm.Eval, false, false, Ablation.Shuffle), (spec.KeepRule, spec.ScoreBatchNorm, spec.PruneFirst, spec.PruneLast, spec.Ablation));
        Assert.Equal(2, cli.ScoreBatches);
        Assert.Equal(2, config.Prune.ScoreBatches);

        var plain = config with { Prune = new PruneSettings("snip", 0.5) };
        var json = config.ToJson();
        foreach (var key in new[] { "\"score_batches\":2", "\"score_bn\":\"eval\"", "\"keep_rule\":\"reference\"", "\"prune_first\":false", "\"prune_last\":false", "\"ablation\":\"shuffle\"" })
        {
            Assert.Contains(key, json);
            Assert.DoesNotContain(key.Split(':')[0], plain.ToJson());
        }
        Assert.NotEqual(plain.Id, config.Id);
        Assert.Equal(config, RunConfig.FromJson(json));
    }

    [Fact]
    public void Batch_options_of_a_method_that_scores_no_data_are_normalized_away()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "s.yaml");
        File.WriteAllText(path, "name: s\ndata: {name: ellipse}\nmodel: {name: mlp, depth: 2, width: 16}\n" +
            "prune: {method: magnitude, sparsity: 0.5, score_batches: 3, score_bn: eval}\ntrain: {epochs: 0}\n");
        var config = SpecLoader.Load(path, "full", null).Entries.Single().Config;
        Assert.Equal((1, "train"), (config.Prune.ScoreBatches, config.Prune.ScoreBn));
    }

    [Fact]
    public void Prune_runs_with_every_option_from_the_command_line()
    {
        using var temp = new TempDir();
        var r = CliRunner.Run(["prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "3", "--width", "32", "--method", "snip", "--sparsity", "0.9",
            .. Options.Split(' '), "--out", temp.Path, "--json"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        // Four linear layers (layers.0, .2, .4, .6): the first and the last stay dense and out of the mask.
        var layers = r.Json.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("name").GetString()).ToList();
        Assert.Equal(["layers.2.weight", "layers.4.weight"], layers);
        var batch = InitPrune.IO.Safetensors.Load(Path.Combine(temp.Path, "batch.safetensors"));
        Assert.Equal(200, batch["inputs"].shape[0]);
        Assert.Equal(200, batch["labels"].shape[0]);
        foreach (var t in batch.Values) t.Dispose();
    }
    // ---- summary.json records how the mask was made ----

    [Fact]
    public void FromSpec_inverts_ToSpec_for_every_declared_option_away_from_its_default()
    {
        var values = new Dictionary<string, object?>();
        foreach (var p in Param.Of(typeof(PruneSettings)))
            values[p.Key] = p.Key switch
            {
                "method" => "ln-structured",
                "rescale" => "eoc-sigma-w",
                "rescale_sigma_w" => 0.375,
                _ when p.Choices is { Count: > 0 } c => c.First(x => x != (string?)p.Default),
                _ => p.Default switch
                {
                    bool b => !b,
                    int i => i + 2,
                    double => 0.375,
                    _ => throw new Xunit.Sdk.XunitException($"no test value for {p.Key}"),
                },
            };
        var settings = (PruneSettings)Param.Build(typeof(PruneSettings), values) with { Options = MethodOptions.Default.With(LnStructuredMethod.Norm, 1) };
        Assert.All(Param.Of(typeof(PruneSettings)), p => Assert.NotEqual(p.Default, Param.ValuesOf(settings)[p.Key]));
        var init = new InitSpec("normal", 1.7);
        var back = PruneSettings.FromSpec(settings.ToSpec(init), settings.ScoreBatchSize, settings.ScoreBatches, init);
        Assert.Equal(Param.ValuesOf(settings), Param.ValuesOf(back));
        Assert.Equal(settings, back);
        Assert.Equal(1, back.Declared()["norm"]);
    }

    [Fact]
    public void The_prune_summary_records_every_prune_option_and_the_method_options()
    {
        using var temp = new TempDir();
        var r = CliRunner.Run("prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "3", "--width", "8", "--method", "ln-structured", "--norm", "1",
            "--scope", "layer-wise", "--sparsity", "0.5", "--no-prune-first", "--ablation", "shuffle", "--rescale", "eoc", "--out", temp.Path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "summary.json")));
        var settings = doc.RootElement.GetProperty("settings");
        Assert.Equal([.. Param.Of(typeof(PruneSettings)).Select(p => p.Key), "norm", "pre_epochs"], settings.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0, settings.GetProperty("pre_epochs").GetInt32());
        Assert.Equal("ln-structured", settings.GetProperty("method").GetString());
        Assert.Equal(0.5, settings.GetProperty("sparsity").GetDouble());
        Assert.Equal("layer-wise", settings.GetProperty("scope").GetString());
        Assert.Equal("eoc", settings.GetProperty("rescale").GetString());
        Assert.Equal(100, settings.GetProperty("score_batch_size").GetInt32());
        Assert.Equal(1, settings.GetProperty("score_batches").GetInt32());
        Assert.Equal("train", settings.GetProperty("score_bn").GetString());
        Assert.Equal("stable", settings.GetProperty("keep_rule").GetString());
        Assert.False(settings.GetProperty("prune_first").GetBoolean());
        Assert.True(settings.GetProperty("prune_last").GetBoolean());
        Assert.False(settings.GetProperty("include_biases").GetBoolean());
        Assert.Equal("shuffle", settings.GetProperty("ablation").GetString());
        Assert.Equal(1, settings.GetProperty("norm").GetInt32());
    }
}
