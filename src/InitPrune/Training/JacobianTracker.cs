using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Theory.Jacobian;
using static TorchSharp.torch;

namespace InitPrune.Training;

/// <summary>
/// One recorded ‖J‖ of a training run: after <paramref name="Step"/> optimizer steps (0: the network as pruned and
/// initialized), in <paramref name="Epoch"/> (0 at step 0), the mean and std over the tracked inputs and the loss of
/// the mini-batch of that step (null at step 0, where no step was taken).
/// </summary>
public sealed record JacobianPoint(long Step, int Epoch, double Norm, double Std, double? TrainLoss);

/// <summary>
/// Tracks the spectral norm of a network's Jacobian during training (seed 002 §4, Figs. 2 and 12): a fixed set of
/// <see cref="TrainConfig.JacobianInputs"/> test inputs, drawn once from the run's seed (a random permutation of the
/// test split, first N), each measured by <see cref="JacobianNorm.Average"/> with <see cref="Options"/>. Everything is
/// a function of (seed, weights), so a resumed run records the same series as a straight one.
/// </summary>
public sealed class JacobianTracker : IDisposable
{
    /// <summary>Relative residual of the power iteration (float32 models reach ~1e-6 at best, so a tighter one would rarely stop).</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Power-iteration steps per input at most.</summary>
    public const int MaxIterations = 500;

    public JacobianTracker(nn.Module<Tensor, Tensor> model, Dataset test, TrainConfig config, long seed)
    {
        test.RequireSamples("test");
        var span = config.JacobianSpan == "full" ? JacobianSpan.Full : JacobianSpan.Hidden;
        if (span == JacobianSpan.Hidden && JacobianSpans.Split(model) is null)
            throw new InitPruneException($"model '{model.GetName()}' has no hidden Jacobian span (it needs two activations between its first and last weight layers): use --jacobian-span full (train.jacobian_span: full)");
        Options = OptionsFor(span, seed);
        var indices = InputIndices(test.Count, config.JacobianInputs, seed);
        Indices = indices;
        using var index = tensor(indices, dtype: int64);
        Inputs = test.Inputs.index_select(0, index);
    }

    /// <summary>The power-iteration options of a run with <paramref name="seed"/> (the start vector's seed derives from it).</summary>
    public static JacobianOptions OptionsFor(JacobianSpan span, long seed) => new(span, Tolerance, MaxIterations, Seeds.For(seed, "jacobian start"));

    /// <summary>The first min(<paramref name="count"/>, <paramref name="available"/>) entries of a permutation of the test split drawn from <paramref name="seed"/>.</summary>
    public static long[] InputIndices(long available, int count, long seed)
    {
        using var g = new Generator((ulong)Seeds.For(seed, "jacobian inputs"));
        using var perm = randperm(available, generator: g);
        return [.. perm.data<long>().Take((int)Math.Min(count, available))];
    }

    public JacobianOptions Options { get; }

    /// <summary>The test samples measured, in order.</summary>
    public IReadOnlyList<long> Indices { get; }

    /// <summary>The measured inputs, [N, …] as the dataset holds them.</summary>
    public Tensor Inputs { get; }

    /// <summary>‖J‖ of <paramref name="model"/> as it is now, averaged over <see cref="Inputs"/>.</summary>
    public JacobianPoint Measure(nn.Module<Tensor, Tensor> model, long step, int epoch, double? trainLoss)
    {
        var s = JacobianNorm.Average(model, Inputs, Options);
        return new JacobianPoint(step, epoch, s.Mean, s.Std, trainLoss);
    }

    /// <summary>Whether the step after which <paramref name="stepsDone"/> steps are done is recorded (every <paramref name="every"/>-th).</summary>
    public static bool Records(long stepsDone, int every) => every > 0 && stepsDone % every == 0;

    public void Dispose() => Inputs.Dispose();
}
