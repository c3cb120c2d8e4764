using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Training;
using static TorchSharp.torch;

namespace InitPrune.Tests.Pruning;

public class IterativeMagnitudePruningTests
{
    static readonly TrainConfig OneEpoch = new(Epochs: 1, BatchSize: 50, LearningRate: 0.05);

    [Fact]
    public void OneRoundIsMagnitudePruningOfTheTrainedWeightsRewoundToInitialization()
    {
        using var data = TestNets.Ellipse(n: 400);
        using var model = TestNets.Mlp(2, [16], 4, seed: 1);
        using var initial = Network.CloneStateDict(model);
        using var r = IterativeMagnitudePruning.Run(model, data, OneEpoch, new PruneSpec("imp", 0.7), rounds: 1, seed: 3);

        // Independent path: train a copy with the same seed, prune by magnitude, compare masks.
        using var copy = TestNets.Mlp(2, [16], 4, seed: 1);
        new Trainer(OneEpoch).Train(copy, data, Seeds.For(3, "imp-1"));
        using var mag = Pruner.Prune(copy, new PruneSpec("magnitude", 0.7), new ScoringContext(null, null, TaskKind.Classification, 0));
        foreach (var (name, m) in r.Mask.Tensors)
        {
            Assert.True(TestNets.Same(m, mag.Mask.Tensors[name]), name);
            Assert.True(TestNets.Same(Network.StateDict(model)[name], initial[name] * m.to(ScalarType.Float32)), name);
        }
    }

    [Fact]
    public void SeveralRoundsKeepTheExactCountAndOnlyPruneSurvivors()
    {
        using var data = TestNets.Ellipse(n: 400);
        using var model = TestNets.Mlp(2, [16], 4, seed: 1);
        using var r = IterativeMagnitudePruning.Run(model, data, OneEpoch, new PruneSpec("imp", 0.8), rounds: 3, seed: 0);
        Assert.Equal(MaskBuilder.KeepCount(0.8, r.Mask.Total), r.Mask.Kept);
        // Entries pruned in an earlier round score −1 in the last one; every kept entry has a real score.
        foreach (var (name, m) in r.Mask.Tensors)
            Assert.True(r.Scores[name].masked_select(m).min().item<float>() >= 0, name);
        Assert.Contains(r.Scores.Values, s => s.lt(0).any().item<bool>());
        Assert.Throws<InitPruneException>(() => IterativeMagnitudePruning.Run(model, data, OneEpoch, new PruneSpec("imp", 0.5), rounds: 0, seed: 0));
    }

    /// <summary>open_lth's rewinding: rewind_step k leaves the survivors at their weights after k steps of the first round.</summary>
    [Fact]
    public void RewindStepRewindsToTheWeightsAfterThatManySteps()
    {
        using var data = TestNets.Ellipse(n: 400);
        using var model = TestNets.Mlp(2, [16], 4, seed: 1);
        using var r = IterativeMagnitudePruning.Run(model, data, OneEpoch, new PruneSpec("imp", 0.7), rounds: 2, seed: 3, rewindStep: 3);

        // Independent path: the first 3 steps of the same first round (same batches, same rates).
        using var early = TestNets.Mlp(2, [16], 4, seed: 1);
        new Trainer(OneEpoch with { MaxSteps = 3 }).Train(early, data, Seeds.For(3, "imp-1"));
        using var initial = TestNets.Mlp(2, [16], 4, seed: 1);
        foreach (var (name, m) in r.Mask.Tensors)
        {
            var theta3 = Network.StateDict(early)[name];
            Assert.False(TestNets.Same(theta3, Network.StateDict(initial)[name]), $"{name} moved in 3 steps");
            Assert.True(TestNets.Same(Network.StateDict(model)[name], theta3 * m.to(ScalarType.Float32)), name);
        }
        // Biases are not pruned and are rewound too.
        Assert.True(TestNets.Same(Network.StateDict(model)["layers.0.bias"], Network.StateDict(early)["layers.0.bias"]));
        Assert.Throws<InitPruneException>(() => IterativeMagnitudePruning.Run(model, data, OneEpoch, new PruneSpec("imp", 0.5), rounds: 1, seed: 0, rewindStep: 9));
    }

    [Fact]
    public void RewindStepZeroIsRewindingToInitialization()
    {
        using var data = TestNets.Ellipse(n: 400);
        using var a = TestNets.Mlp(2, [16], 4, seed: 1);
        using var b = TestNets.Mlp(2, [16], 4, seed: 1);
        var today = new MethodOptions([new KeyValuePair<string, object>("rounds", 2)]);
        var zero = new MethodOptions([new KeyValuePair<string, object>("rounds", 2), new KeyValuePair<string, object>("rewind_step", 0)]);
        using var plain = IterativeMagnitudePruning.Prune(a, data, OneEpoch, new PruneSpec("imp", 0.7, Options: today), seed: 3);
        using var declared = IterativeMagnitudePruning.Prune(b, data, OneEpoch, new PruneSpec("imp", 0.7, Options: zero), seed: 3);
        Assert.True(plain.Mask.Tensors.All(kv => TestNets.Same(kv.Value, declared.Mask.Tensors[kv.Key])));
        foreach (var (name, w) in Network.StateDict(a)) Assert.True(TestNets.Same(w, Network.StateDict(b)[name]), name);
    }
}
