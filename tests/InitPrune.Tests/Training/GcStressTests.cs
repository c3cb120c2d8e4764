using InitPrune.Models;
using InitPrune.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Tests.Training;

/// <summary>
/// Issue 9 §5: training died at random with "Expected false to be true … toFloat" in the optimizer step, because
/// TorchSharp's SGD passed native code temporary Scalars that a garbage collection could free mid-call.
/// </summary>
[Collection("oneDNN switch")] // runs alone: the forced collections would slow every other test
public class GcStressTests
{
    static InitPrune.Data.DatasetSplit Images(int n)
    {
        using var g = new Generator(11);
        InitPrune.Data.Dataset Make(int count) => new("noise", randn([count, 3, 8, 8], generator: g), randint(0, 4, [count], generator: g), InitPrune.Data.TaskKind.Classification, 4);
        return new(Make(n), Make(32), "synthetic");
    }

    static (double[] Losses, byte[] Weights) Train(string model, int steps, string optimizer)
    {
        bool mlp = model == "mlp";
        using var data = mlp ? TestNets.Ellipse(seed: 1, n: 16 * steps * 5 / 4) : Images(16 * steps);
        var spec = mlp ? new ModelSpec("mlp", Widths: [64, 64, 64]) : new ModelSpec(model, WidthMultiplier: 0.25, Stable: true);
        using var net = ModelRegistry.Create(spec, data.Train.SampleShape, 4);
        InitPrune.Init.Initializers.Apply(net, new InitPrune.Init.InitSpec("normal", Math.Sqrt(2), 0.1), 3);
        var losses = new List<double>();
        var recipe = optimizer == "sgd"
            ? new TrainConfig(Epochs: 1, BatchSize: 16, LearningRate: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4)
            : new TrainConfig(Epochs: 1, BatchSize: 16, LearningRate: 0.005, WeightDecay: 1e-4, Optimizer: optimizer);
        var trainer = new Trainer(recipe);
        trainer.Step += s => losses.Add(s.Loss);
        trainer.Train(net, data, seed: 5);
        var weights = Network.StateDict(net).OrderBy(kv => kv.Key).SelectMany(kv => kv.Value.detach().contiguous().bytes.ToArray()).ToArray();
        return ([.. losses], weights);
    }

    [Theory]
    [InlineData("mlp", "sgd")]
    [InlineData("resnet20", "sgd")]
    [InlineData("mlp", "adamw")]
    [InlineData("mlp", "rmsprop")]
    public void Many_short_trainings_under_constant_garbage_collection_match_a_quiet_run(string model, string optimizer)
    {
        (int steps, int runs) = model == "mlp" ? (150, 8) : (8, 3);
        var quiet = Train(model, steps, optimizer);
        bool stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        try
        {
            for (int run = 0; run < runs; run++)
            {
                var loud = Train(model, steps, optimizer);
                Assert.Equal(quiet.Losses, loud.Losses);
                Assert.Equal(quiet.Weights, loud.Weights);
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
    }
}
