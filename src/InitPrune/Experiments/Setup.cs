using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Experiments;

/// <summary>Builds the model for a dataset and initializes it (freshly, or from a safetensors file).</summary>
public static class Setup
{
    public static nn.Module<Tensor, Tensor> Model(DatasetSplit data, ModelSpec model, InitSpec init, long seed, string? initFrom = null)
    {
        long outputs = data.Train.Kind == TaskKind.Classification ? data.Train.NumClasses : 1;
        var net = ModelRegistry.Create(model, data.Train.SampleShape, outputs);
        if (initFrom is null)
        {
            Initializers.Apply(net, init, Seeds.For(seed, "init"));
        }
        else
        {
            var tensors = Safetensors.Load(initFrom);
            Network.LoadStateDict(net, tensors, initFrom);
            foreach (var t in tensors.Values) t.Dispose();
        }
        return net;
    }

    /// <summary>The mini-batch used for data-driven scoring: the first batch of a seeded shuffle of the training set.</summary>
    public static (Tensor X, Tensor Y) ScoringBatch(Dataset train, int batchSize, long seed)
    {
        if (batchSize < 1) throw new InitPruneException($"--score-batch-size {batchSize} is impossible: use at least 1");
        train.RequireSamples("training");
        var loader = new DataLoader(train, (int)Math.Min(batchSize, train.Count), shuffle: true, seed: Seeds.For(seed, "score-batch"));
        return loader.Epoch(0).First();
    }
}
