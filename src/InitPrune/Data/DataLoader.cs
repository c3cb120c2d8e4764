using InitPrune.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Data;

/// <summary>
/// Mini-batches of a <see cref="Dataset"/> on <see cref="Compute.Device"/>. With shuffling, each epoch uses one
/// permutation drawn from a generator seeded by (seed, epoch), so the same seed and epoch give the same order.
/// The yielded tensors belong to the caller; unshuffled batches on the dataset's own device may share its storage.
/// </summary>
public sealed class DataLoader
{
    readonly Dataset data;
    readonly bool shuffle;
    readonly long seed;

    public DataLoader(Dataset data, int batchSize, bool shuffle, long seed, bool dropLast = false)
    {
        if (batchSize < 1)
            throw new InitPruneException($"batch size must be at least 1, got {batchSize}: pass a positive --batch-size");
        if (dropLast && data.Count < batchSize)
            throw new InitPruneException($"{data.Name} has {data.Count} samples, fewer than the batch size {batchSize}, so dropping the last partial batch leaves none: lower --batch-size");
        this.data = data;
        this.shuffle = shuffle;
        this.seed = seed;
        BatchSize = batchSize;
        BatchesPerEpoch = (int)(dropLast ? data.Count / batchSize : (data.Count + batchSize - 1) / batchSize);
    }

    public int BatchSize { get; }
    public int BatchesPerEpoch { get; }

    /// <summary>The batches of epoch <paramref name="epoch"/>; enumerate lazily and dispose each batch when done.</summary>
    public IEnumerable<(Tensor X, Tensor Y)> Epoch(int epoch)
    {
        using var order = shuffle ? Permutation(epoch) : null;
        for (var b = 0; b < BatchesPerEpoch; b++)
        {
            var start = (long)b * BatchSize;
            var length = Math.Min(BatchSize, data.Count - start);
            Tensor x, y;
            if (order is null)
                (x, y) = (data.Inputs.narrow(0, start, length), data.Targets.narrow(0, start, length));
            else
            {
                using var idx = order.narrow(0, start, length);
                (x, y) = (data.Inputs.index_select(0, idx), data.Targets.index_select(0, idx));
            }
            yield return (MoveTo(x, Compute.Device), MoveTo(y, Compute.Device));
        }
    }

    /// <summary>The sample order of epoch <paramref name="epoch"/> (int64 [N] on the dataset's device).</summary>
    public Tensor Permutation(int epoch)
    {
        using var g = new Generator(SeedFor(seed, epoch));
        return MoveTo(randperm(data.Count, generator: g), data.Inputs.device).DetachFromDisposeScope();
    }

    /// <summary>SplitMix64 of (seed, epoch): well-spread generator seeds for neighbouring epochs and seeds.</summary>
    internal static ulong SeedFor(long seed, int epoch)
    {
        var z = (ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)epoch + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary><paramref name="t"/> itself when already on <paramref name="device"/>, else a copy there (disposing <paramref name="t"/>).</summary>
    static Tensor MoveTo(Tensor t, Device device)
    {
        if (t.device_type == device.type && (device.index < 0 || t.device_index == device.index))
            return t;
        using (t)
            return t.to(device);
    }
}
