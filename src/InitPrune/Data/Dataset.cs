using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Data;

/// <summary>
/// Samples held as two tensors: normalized float32 <see cref="Inputs"/> ([N, C, H, W] images or [N, D] tabular)
/// and <see cref="Targets"/> (int64 [N] labels, or float32 [N, 1] for regression). The dataset owns both tensors.
/// </summary>
public sealed class Dataset : IDisposable
{
    public Dataset(string name, Tensor inputs, Tensor targets, TaskKind kind, int numClasses)
    {
        if (inputs.dim() < 2 || inputs.dtype != ScalarType.Float32)
            throw new ArgumentException($"inputs must be float32 [N, ...], got {inputs.dtype} [{string.Join(", ", inputs.shape)}]", nameof(inputs));
        var (dtype, dims) = kind == TaskKind.Classification ? (ScalarType.Int64, 1) : (ScalarType.Float32, 2);
        if (targets.dtype != dtype || targets.dim() != dims || targets.shape[0] != inputs.shape[0] || (dims == 2 && targets.shape[1] != 1))
            throw new ArgumentException($"{kind} targets must be {dtype} [{inputs.shape[0]}{(dims == 2 ? ", 1" : "")}], got {targets.dtype} [{string.Join(", ", targets.shape)}]", nameof(targets));
        if (kind == TaskKind.Classification ? numClasses < 2 : numClasses != 0)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "classification needs at least 2 classes; regression takes 0");
        Name = name;
        Inputs = inputs.DetachFromDisposeScope();
        Targets = targets.DetachFromDisposeScope();
        Kind = kind;
        NumClasses = numClasses;
    }

    public string Name { get; }
    public Tensor Inputs { get; }
    public Tensor Targets { get; }
    public TaskKind Kind { get; }

    /// <summary>Number of classes; 0 for regression.</summary>
    public int NumClasses { get; }

    public long Count => Inputs.shape[0];

    /// <summary>Shape of one sample, e.g. [1, 28, 28] or [2].</summary>
    public long[] SampleShape => Inputs.shape[1..];

    /// <summary>Number of input features per sample (product of <see cref="SampleShape"/>).</summary>
    public long InputSize => SampleShape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The first <paramref name="n"/> samples (all of them if there are fewer), as views sharing this dataset's storage.</summary>
    public Dataset Take(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var m = Math.Min(n, Count);
        return new Dataset(Name, Inputs.narrow(0, 0, m), Targets.narrow(0, 0, m), Kind, NumClasses);
    }

    /// <summary>
    /// Throws the one-line error for an empty <paramref name="split"/> ("training", "test"): training or evaluating on no
    /// samples would report a NaN loss as if it were a result.
    /// </summary>
    public void RequireSamples(string split)
    {
        if (Count == 0)
            throw new Engine.InitPruneException($"{Name} has no {split} samples (0 after any subset or validation hold-out), so there is nothing to {(split == "training" ? "train on" : "evaluate on")}: check the dataset files, or use a larger subset");
    }

    public void Dispose()
    {
        Inputs.Dispose();
        Targets.Dispose();
    }

    public override string ToString() => $"{Name}: {Count} x [{string.Join(", ", SampleShape)}], {(Kind == TaskKind.Classification ? $"{NumClasses} classes" : "regression")}";
}
