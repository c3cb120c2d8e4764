using InitPrune.Cli.Commands;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

/// <summary>
/// Multi-shot SNIP and GraSP (Synaptic-Flow's --prune-epochs): iterations 1 is today's one-shot mask, n rounds follow
/// the exponential schedule on the masked network with monotone masks, and the option reaches the CLI, specs and ids.
/// </summary>
public class MultiShotTests
{
    static (Tensor X, Tensor Y) Batch()
    {
        using var g = new Generator(3);
        return (randn([32, 8], generator: g), randint(0, 4, [32], generator: g));
    }

    static PruneSpec Spec(string method, double s, int iterations) =>
        new(method, s, Options: MethodOptions.Default.With(MultiShotScorer.Iterations, iterations));

    static bool[] Flat(Mask m) => [.. m.Tensors.Values.SelectMany(t => t.flatten().data<bool>().ToArray())];

    [Theory]
    [InlineData("snip")]
    [InlineData("grasp")]
    public void One_iteration_is_todays_one_shot_mask_bit_for_bit(string method)
    {
        var (x, y) = Batch();
        var context = new ScoringContext(x, y, TaskKind.Classification, 0);
        using var a = TestNets.Mlp(8, [16, 16], 4, seed: 2);
        using var b = TestNets.Mlp(8, [16, 16], 4, seed: 2);
        var targets = Network.Prunable(a);
        // Today's path, written out: the one-shot scorer, then the top entries.
        IScorer scorer = method == "snip" ? new SnipScorer() : new GraspScorer(200);
        using var scores = scorer.Score(a, targets, context);
        using var expected = MaskBuilder.FromScores([.. targets.Select(t => (t.Name, scores[t.Name]))], 0.8, PruneScope.Global);
        using var result = Pruner.Prune(b, Spec(method, 0.8, 1), context);
        Assert.IsNotType<MultiShotScorer>(PrunerRegistry.Create(method, Spec(method, 0.8, 1).Options));
        Assert.Equal(Flat(expected), Flat(result.Mask));
        foreach (var t in targets) Assert.True(TestNets.Same(scores[t.Name], result.Scores[t.Name]), $"{t.Name}: scores differ from one-shot");
    }

    /// <summary>The inner scorer, recording which weights are nonzero (the mask applied) whenever it scores.</summary>
    sealed class Recording(IScorer inner) : IScorer
    {
        public List<bool[]> Applied { get; } = [];
        public string Name => inner.Name;
        public bool NeedsData => inner.NeedsData;

        public TensorDict Score(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableTensor> targets, ScoringContext context)
        {
            Applied.Add([.. targets.SelectMany(t => t.Value.ne(0).flatten().data<bool>().ToArray())]);
            return inner.Score(model, targets, context);
        }
    }

    [Theory]
    [InlineData("snip", PruneScope.Global)]
    [InlineData("grasp", PruneScope.Global)]
    [InlineData("snip", PruneScope.LayerWise)]
    public void Three_rounds_keep_the_exact_count_with_masks_that_only_shrink(string method, PruneScope scope)
    {
        var (x, y) = Batch();
        using var model = TestNets.Mlp(8, [16, 16], 4, seed: 5);
        var targets = Network.Prunable(model);
        using var dense = TensorDict.CloneOf(targets.Select(t => KeyValuePair.Create(t.Name, t.Value)));
        var inner = new Recording(method == "snip" ? new SnipScorer() : new GraspScorer(200));
        var spec = Spec(method, 0.9, 3) with { Scope = scope };
        var (scores, mask) = new MultiShotScorer(inner, 3).ScoreAndSelect(model, targets, new ScoringContext(x, y, TaskKind.Classification, 0), spec);
        using var _ = scores;
        using var __ = mask;

        long total = targets.Sum(t => t.Count);
        long expected = scope == PruneScope.Global ? MaskBuilder.KeepCount(0.9, total) : targets.Sum(t => MaskBuilder.KeepCount(0.9, t.Count));
        Assert.Equal(expected, mask.Kept);
        // Round 1 scores the dense network; rounds 2 and 3 the network under the previous round's mask, which shrinks.
        Assert.Equal(3, inner.Applied.Count);
        Assert.All(inner.Applied[0], Assert.True);
        var rounds = inner.Applied.Skip(1).Append(Flat(mask)).ToList();
        for (int k = 1; k < rounds.Count; k++)
            Assert.True(rounds[k].Zip(rounds[k - 1]).All(p => !p.First || p.Second), $"round {k + 1} keeps an entry round {k} pruned");
        if (scope == PruneScope.Global)
            for (int k = 0; k < 2; k++)
                Assert.Equal(MaskBuilder.KeepCount(MaskBuilder.ExponentialSparsity(0.9, k + 1, 3), total), rounds[k].LongCount(b => b));
        // The model's weights are restored after scoring.
        foreach (var t in targets) Assert.True(TestNets.Same(dense[t.Name], t.Value), $"{t.Name} was not restored");
    }

    [Theory]
    [InlineData("snip")]
    [InlineData("grasp")]
    public void Each_round_keeps_the_top_one_shot_scores_of_the_masked_network_among_the_survivors(string method)
    {
        // By hand: round k applies round k − 1's mask to a fresh copy of the net, scores it with the one-shot scorer,
        // and keeps the round((1 − s)^(k/n)·N) highest scores among the entries still kept (stable: earlier index first).
        var (x, y) = Batch();
        var context = new ScoringContext(x, y, TaskKind.Classification, 0);
        const double S = 0.85;
        const int N = 3;
        bool[]? keep = null;
        for (int k = 1; k <= N; k++)
        {
            using var net = TestNets.Mlp(8, [12, 12], 4, seed: 7);
            var targets = Network.Prunable(net);
            if (keep is not null)
            {
                int offset = 0;
                using var _ = no_grad();
                foreach (var t in targets)
                {
                    var m = keep.Skip(offset).Take((int)t.Count).Select(b => b ? 1f : 0f).ToArray();
                    using var mt = tensor(m).reshape(t.Value.shape);
                    t.Value.mul_(mt);
                    offset += (int)t.Count;
                }
            }
            IScorer scorer = method == "snip" ? new SnipScorer() : new GraspScorer(200);
            using var scores = scorer.Score(net, targets, context);
            var flat = targets.SelectMany(t => scores[t.Name].to(ScalarType.Float64).flatten().data<double>().ToArray()).ToArray();
            long count = (long)Math.Round(Math.Pow(1 - S, (double)k / N) * flat.Length, MidpointRounding.AwayFromZero);
            var survivors = Enumerable.Range(0, flat.Length).Where(i => keep is null || keep[i]);
            var top = survivors.OrderByDescending(i => flat[i]).Take((int)count).ToHashSet();
            keep = [.. Enumerable.Range(0, flat.Length).Select(top.Contains)];
        }

        using var model = TestNets.Mlp(8, [12, 12], 4, seed: 7);
        using var result = Pruner.Prune(model, Spec(method, S, N), context);
        Assert.Equal(keep, Flat(result.Mask));
        Assert.Equal(MaskBuilder.KeepCount(S, keep!.Length), result.Mask.Kept);
    }

    [Fact]
    public void Multi_shot_differs_from_one_shot_and_refuses_invert()
    {
        var (x, y) = Batch();
        var context = new ScoringContext(x, y, TaskKind.Classification, 0);
        using var a = TestNets.Mlp(8, [16, 16], 4, seed: 2);
        using var b = TestNets.Mlp(8, [16, 16], 4, seed: 2);
        using var one = Pruner.Prune(a, Spec("snip", 0.95, 1), context);
        using var many = Pruner.Prune(b, Spec("snip", 0.95, 5), context);
        Assert.Equal(one.Mask.Kept, many.Mask.Kept);
        Assert.NotEqual(Flat(one.Mask), Flat(many.Mask));
        var e = Assert.Throws<InitPruneException>(() => Pruner.Check(b, Spec("snip", 0.9, 3) with { Ablation = Ablation.Invert }));
        Assert.Contains("no single ranking", e.Message);
    }

    // ---- command line, specs, run ids ----

    static RunConfig FromSpec(string prune)
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "s.yaml");
        File.WriteAllText(path, $"name: s\ndata: {{name: ellipse}}\nmodel: {{name: mlp, depth: 2, width: 16}}\nprune: {prune}\ntrain: {{epochs: 0}}\n");
        return SpecLoader.Load(path, "full", null).Entries.Single().Config;
    }

    [Theory]
    [InlineData("snip")]
    [InlineData("grasp")]
    public void The_command_line_and_a_spec_give_the_same_iterations_and_it_enters_the_id_only_when_not_1(string method)
    {
        var command = new PruneCommand();
        var parsed = command.Command.Parse($"--dataset ellipse --model mlp --depth 2 --width 16 --method {method} --sparsity 0.5 --iterations 3".Split(' '));
        Assert.Empty(parsed.Errors);
        var cli = command.Read(parsed);
        var config = FromSpec($"{{method: {method}, sparsity: 0.5, iterations: 3}}");
        Assert.Equal(config.ToPruneSpec(), cli.Prune);
        Assert.Equal(3, cli.Prune.Options!.Integer(MultiShotScorer.Iterations));
        Assert.IsType<MultiShotScorer>(PrunerRegistry.Create(method, cli.Prune.Options));

        var plain = FromSpec($"{{method: {method}, sparsity: 0.5}}");
        var one = FromSpec($"{{method: {method}, sparsity: 0.5, iterations: 1}}");
        // One-shot keeps the canonical JSON of before (the placeholder 100 that every method without the option writes).
        Assert.Contains("\"iterations\":100", plain.ToJson());
        Assert.DoesNotContain("multi_shot", plain.ToJson());
        Assert.Equal(plain.Id, one.Id);
        Assert.Equal(1, one.ToPruneSpec().Options!.Integer(MultiShotScorer.Iterations));
        Assert.Equal(1, plain.ToPruneSpec().Options!.Integer(MultiShotScorer.Iterations));
        Assert.NotEqual(plain.Id, config.Id);
        Assert.Contains("\"iterations\":3", config.ToJson());
        Assert.Equal(config.ToPruneSpec(), RunConfig.FromJson(config.ToJson()).ToPruneSpec());
        Assert.Equal(config.Id, RunConfig.FromJson(config.ToJson()).Id);
        Assert.Equal(plain.ToPruneSpec(), RunConfig.FromJson(plain.ToJson()).ToPruneSpec());
        Assert.Equal(1, RunConfig.FromJson(plain.ToJson()).ToPruneSpec().Options!.Integer(MultiShotScorer.Iterations));

        // 100 rounds is not the one-shot placeholder.
        var hundred = FromSpec($"{{method: {method}, sparsity: 0.5, iterations: 100}}");
        Assert.NotEqual(plain.Id, hundred.Id);
        Assert.Equal(100, RunConfig.FromJson(hundred.ToJson()).ToPruneSpec().Options!.Integer(MultiShotScorer.Iterations));
        // SynFlow's iterations keep their default and their place in its ids.
        Assert.Equal(100, FromSpec("{method: synflow, sparsity: 0.5}").ToPruneSpec().Options!.Integer(SynFlowScorer.Iterations));
    }

    [Fact]
    public void Prune_runs_multi_shot_snip_from_the_command_line()
    {
        using var temp = new TempDir();
        string[] args = ["prune", "--dataset", "ellipse", "--model", "mlp", "--depth", "2", "--width", "32", "--method", "snip", "--sparsity", "0.9", "--json"];
        var r = CliRunner.Run([.. args, "--iterations", "3", "--out", Path.Combine(temp.Path, "a")]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var one = CliRunner.Run([.. args, "--out", Path.Combine(temp.Path, "b")]);
        Assert.True(one.ExitCode == 0, one.Stderr);
        Assert.Equal(one.Json.GetProperty("kept").GetInt64(), r.Json.GetProperty("kept").GetInt64());
        using var a = Mask.Load(Path.Combine(temp.Path, "a", "mask.safetensors"));
        using var b = Mask.Load(Path.Combine(temp.Path, "b", "mask.safetensors"));
        Assert.NotEqual(Flat(b), Flat(a));

        var bad = CliRunner.Run([.. args, "--iterations", "0", "--out", Path.Combine(temp.Path, "c")]);
        Assert.Contains("--iterations 0 is impossible", CliRunner.AssertOneLineError(bad, bad.ExitCode));
        var other = CliRunner.Run(["prune", "--dataset", "ellipse", "--model", "mlp", "--method", "magnitude", "--sparsity", "0.5", "--iterations", "3", "--out", Path.Combine(temp.Path, "d")]);
        Assert.Contains("--iterations does nothing for method 'magnitude': it is an option of snip, grasp, synflow", CliRunner.AssertOneLineError(other, other.ExitCode));
    }
}
