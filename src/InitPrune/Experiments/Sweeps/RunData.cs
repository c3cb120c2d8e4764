using InitPrune.Data;
using InitPrune.Engine;

namespace InitPrune.Experiments.Sweeps;

/// <summary>A run's data: training set (after subset and validation hold-out), validation set (or null) and test set.</summary>
public sealed record RunData(DatasetSplit Split, Dataset? Validation);

/// <summary>
/// Loads each dataset once per worker and cuts it as a run asks: the first <c>train_subset</c> training samples, of
/// which the last <c>validation</c> are held out, and the first <c>test_subset</c> test samples (views, no copies).
/// </summary>
public sealed class RunDataCache(string? dataDir) : IDisposable
{
    readonly Dictionary<string, DatasetSplit> loaded = [];

    public RunData Get(DataSettings d)
    {
        if (!loaded.TryGetValue(d.Name, out var full))
            loaded[d.Name] = full = DatasetRegistry.Load(d.Name, dataDir);
        full.Train.RequireSamples("training");
        full.Test.RequireSamples("test");
        long n = Math.Min(d.TrainSubset ?? full.Train.Count, full.Train.Count);
        if (d.Validation < 0 || d.Validation >= n)
            throw new InitPruneException($"data.validation = {d.Validation} is impossible: {d.Name} has {n} training samples to split; hold out fewer");
        var train = Slice(full.Train, 0, n - d.Validation);
        var validation = d.Validation > 0 ? Slice(full.Train, n - d.Validation, d.Validation) : null;
        var test = Slice(full.Test, 0, Math.Min(d.TestSubset ?? full.Test.Count, full.Test.Count));
        return new RunData(new DatasetSplit(train, test, full.Source), validation);
    }

    static Dataset Slice(Dataset data, long start, long length) =>
        new(data.Name, data.Inputs.narrow(0, start, length), data.Targets.narrow(0, start, length), data.Kind, data.NumClasses);

    public void Dispose()
    {
        foreach (var split in loaded.Values) split.Dispose();
        loaded.Clear();
    }
}
