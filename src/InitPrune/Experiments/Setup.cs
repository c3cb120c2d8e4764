using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Experiments;

/// <summary>Builds the model for a dataset and initializes it (freshly, or from a safetensors or PyTorch .pt file).</summary>
public static class Setup
{
    /// <summary>
    /// Checks every argument of a job before any data, file or network is touched: the dataset name, the model (built
    /// once, throwaway, on the dataset's nominal sample shape), the initialization, the file to start from, and the
    /// pruning spec (method, sparsity, options, rescaling, and whether the method applies to this model).
    /// </summary>
    public static void Check(string dataset, ModelSpec model, InitSpec init, string? initFrom = null, PruneSpec? prune = null)
    {
        var (shape, outputs) = DatasetRegistry.NominalShape(dataset);
        using var net = ModelRegistry.Create(model, shape, outputs);
        Initializers.Check(net, init);
        if (initFrom is not null) TensorFile.RequireFile(initFrom, "weights file");
        if (prune is not null) Pruner.Check(net, prune);
    }

    public static nn.Module<Tensor, Tensor> Model(DatasetSplit data, ModelSpec model, InitSpec init, long seed, string? initFrom = null)
    {
        long outputs = data.Train.Kind == TaskKind.Classification ? data.Train.NumClasses : 1;
        var net = ModelRegistry.Create(model, data.Train.SampleShape, outputs);
        try
        {
            if (initFrom is null)
            {
                Initializers.Apply(net, init, Seeds.For(seed, "init"));
            }
            else
            {
                // torch.nn.utils.prune / Synaptic-Flow files give their effective weights (orig * mask) under the parameter names.
                using var file = StateDictLayout.Read(initFrom, "weights file");
                Network.LoadStateDict(net, file.Weights, initFrom);
            }
            return net;
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    public static void CheckScoreBatchSize(int batchSize)
    {
        if (batchSize < 1) throw new InitPruneException($"--score-batch-size {batchSize} is impossible: use at least 1");
    }

    /// <summary>The mini-batch used for data-driven scoring: the first batch of a seeded shuffle of the training set.</summary>
    public static (Tensor X, Tensor Y) ScoringBatch(Dataset train, int batchSize, long seed)
    {
        CheckScoreBatchSize(batchSize);
        train.RequireSamples("training");
        var loader = new DataLoader(train, (int)Math.Min(batchSize, train.Count), shuffle: true, seed: Seeds.For(seed, "score-batch"));
        return loader.Epoch(0).First();
    }

    /// <summary>
    /// The <paramref name="batches"/> mini-batches of data-driven scoring: the first batches of the same seeded shuffle
    /// as <see cref="ScoringBatch"/> (so the first is that batch), all distinct samples.
    /// </summary>
    public static List<(Tensor X, Tensor Y)> ScoringBatches(Dataset train, int batchSize, int batches, long seed)
    {
        if (batches < 1) throw new InitPruneException($"--score-batches {batches} is impossible: use at least 1");
        if (batches == 1) return [ScoringBatch(train, batchSize, seed)];
        CheckScoreBatchSize(batchSize);
        train.RequireSamples("training");
        if ((long)batches * batchSize > train.Count)
            throw new InitPruneException($"--score-batches {batches} × --score-batch-size {batchSize} is {(long)batches * batchSize} samples, more than the {train.Count} training samples: use fewer or smaller batches");
        var loader = new DataLoader(train, batchSize, shuffle: true, seed: Seeds.For(seed, "score-batch"));
        return [.. loader.Epoch(0).Take(batches)];
    }
}
