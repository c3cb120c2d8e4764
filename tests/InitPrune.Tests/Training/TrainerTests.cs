using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Tests.Data;
using InitPrune.Training;
using static TorchSharp.torch;

namespace InitPrune.Tests.Training;

public class TrainerTests
{
    static PruneResult Prune(nn.Module<Tensor, Tensor> model, double s, bool biases = false) =>
        Pruner.Prune(model, new PruneSpec("random", s, IncludeBiases: biases), new ScoringContext(null, null, TaskKind.Classification, 1));

    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(true, 5e-4)]
    public void PrunedWeightsStayExactlyZeroUnderMomentumNesterovAndWeightDecay(bool nesterov, double wd)
    {
        using var data = TestNets.Ellipse(n: 2000);
        using var model = TestNets.Mlp(2, [32, 32], 4);
        using var pruned = Prune(model, 0.8, biases: true);
        var before = Network.StateDict(model).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        new Trainer(new TrainConfig(Epochs: 3, BatchSize: 16, LearningRate: 0.1, Momentum: 0.9, Nesterov: nesterov, WeightDecay: wd)).Train(model, data, 0);
        foreach (var (name, mask) in pruned.Mask.Tensors)
        {
            var w = Network.StateDict(model)[name];
            var prunedValues = TestNets.Values(w.masked_select(mask.logical_not()));
            Assert.NotEmpty(prunedValues);
            Assert.All(prunedValues, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v) & 0x7fffffff));
            // The kept weights did train.
            if (name.EndsWith("weight")) Assert.False(TestNets.Same(w.masked_select(mask), before[name].masked_select(mask)), name);
        }
    }

    [Fact]
    public void PrunedWeightsContributeNothingToTheForwardPass()
    {
        using var model = TestNets.Mlp(5, [6], 3, activation: "tanh");
        var dense = Network.StateDict(model).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var pruned = Prune(model, 0.5);
        var x = randn(4, 5);
        var m0 = pruned.Mask.Tensors["layers.0.weight"].to(ScalarType.Float32);
        var m1 = pruned.Mask.Tensors["layers.2.weight"].to(ScalarType.Float32);
        var expected = tanh(x.matmul((dense["layers.0.weight"] * m0).t()) + dense["layers.0.bias"]).matmul((dense["layers.2.weight"] * m1).t()) + dense["layers.2.bias"];
        Assert.True(model.forward(x).allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void StepAndCosineSchedulesFollowTheirFormulas()
    {
        using var data = TestNets.Ellipse(n: 500);
        using var a = TestNets.Mlp(2, [8], 4);
        var step = new Trainer(new TrainConfig(Epochs: 4, LearningRate: 0.1, Schedule: "step", Milestones: [2, 3], Gamma: 0.5)).Train(a, data, 0);
        Assert.Equal([0.1, 0.1, 0.05, 0.025], step.Select(m => Math.Round(m.LearningRate, 12)));
        using var b = TestNets.Mlp(2, [8], 4);
        var cosine = new Trainer(new TrainConfig(Epochs: 4, LearningRate: 0.1, Schedule: "cosine")).Train(b, data, 0);
        for (int e = 0; e < 4; e++)
            Assert.Equal(0.05 * (1 + Math.Cos(Math.PI * e / 4)), cosine[e].LearningRate, 1e-9);
    }

    [Fact]
    public void TrainingLearnsTheEllipseTask()
    {
        using var data = TestNets.Ellipse(n: 4000);
        using var model = TestNets.Mlp(2, [64, 64], 4);
        var history = new Trainer(new TrainConfig(Epochs: 5, BatchSize: 32, LearningRate: 0.05)).Train(model, data, 0);
        Assert.True(history[^1].TestAccuracy > 0.8, $"accuracy {history[^1].TestAccuracy}");
        Assert.True(history[^1].TrainLoss < history[0].TrainLoss);
    }

    [Fact]
    public void SameSeedGivesTheSameFirstEpochLoss()
    {
        double FirstLoss(long seed)
        {
            using var data = TestNets.Ellipse(n: 1000);
            using var model = TestNets.Mlp(2, [16], 4, seed: seed);
            using var p = Prune(model, 0.5);
            return new Trainer(new TrainConfig(Epochs: 1)).Train(model, data, seed)[0].TrainLoss;
        }
        Assert.Equal(FirstLoss(3), FirstLoss(3));
        Assert.NotEqual(FirstLoss(3), FirstLoss(4));
    }

    [Fact]
    public void DivergenceStopsWithALineSayingWhere()
    {
        using var data = TestNets.Ellipse(n: 1000);
        using var model = TestNets.Mlp(2, [16], 4);
        var seen = new List<EpochMetrics>();
        var trainer = new Trainer(new TrainConfig(Epochs: 3, LearningRate: 0.01, Schedule: "step", Milestones: [1], Gamma: 1e30));
        trainer.EpochEnd += seen.Add;
        var e = Assert.Throws<DivergenceException>(() => trainer.Train(model, data, 0));
        Assert.Matches("at epoch 2, step [0-9]+", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Single(seen);
        Assert.True(double.IsFinite(seen[0].TrainLoss));
    }

    [Theory]
    [InlineData(0, 10, 0.1, 0.9)]
    [InlineData(1, 0, 0.1, 0.9)]
    [InlineData(1, 10, -0.1, 0.9)]
    [InlineData(1, 10, 0.1, 1.0)]
    public void ImpossibleHyperParametersAreRejected(int epochs, int batch, double lr, double momentum)
    {
        var e = Assert.Throws<InitPruneException>(() => new TrainConfig(epochs, batch, lr, momentum).Validate());
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TensorBoardEventFilesAreWritten()
    {
        using var temp = new TempDir();
        var dir = temp.Path;
        using var data = TestNets.Ellipse(n: 300);
        using var model = TestNets.Mlp(2, [8], 4);
        new Trainer(new TrainConfig(Epochs: 2, TensorBoardDir: dir)).Train(model, data, 0);
        var files = Directory.GetFiles(dir, "events.out.tfevents.*", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        Assert.True(new FileInfo(files[0]).Length > 100);
    }
}
