using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Training;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// Iterative magnitude pruning with rewinding to initialization (Frankle &amp; Carbin 2019, the lottery-ticket
/// baseline of seeds 001/004): R rounds of train, prune the smallest surviving |W| so that (1 − s)^{r/R} is kept,
/// rewind the survivors to their initial values. Not one-shot, so it is not in <see cref="PrunerRegistry"/>.
/// </summary>
public static class IterativeMagnitudePruning
{
    public static void CheckRounds(int rounds)
    {
        if (rounds < 1) throw new InitPruneException($"rounds {rounds} is impossible: iterative magnitude pruning needs at least 1");
    }

    /// <summary>Leaves the model at θ₀ ⊙ mask (ready to train); the scores are the last round's trained |W|.</summary>
    public static PruneResult Run(nn.Module<Tensor, Tensor> model, DatasetSplit data, TrainConfig train, PruneSpec spec, int rounds, long seed, Action<Trainer>? configure = null)
    {
        MaskBuilder.CheckSparsity(spec.Sparsity);
        CheckRounds(rounds);
        var targets = Network.Prunable(model, spec.IncludeBiases);
        using var initial = Network.CloneStateDict(model);
        Mask? mask = null;
        TensorDict? scores = null;
        try
        {
            for (int r = 1; r <= rounds; r++)
            {
                var trainer = new Trainer(train);
                configure?.Invoke(trainer);
                trainer.Train(model, data, Seeds.For(seed, $"imp-{r}"));
                scores?.Dispose();
                scores = null;
                scores = TrainedMagnitudes(targets, mask);
                double sparsity = r == rounds ? spec.Sparsity : 1 - Math.Pow(1 - spec.Sparsity, (double)r / rounds);
                var next = MaskBuilder.FromScores([.. targets.Select(t => (t.Name, scores[t.Name]))], sparsity, spec.Scope);
                mask?.Dispose();
                mask = next;
                Network.LoadStateDict(model, initial, "the initial weights");
                mask.ApplyTo(model);
            }
            return new PruneResult(mask!, scores!);
        }
        catch
        {
            mask?.Dispose();
            scores?.Dispose();
            throw;
        }
    }

    /// <summary>|W| of each target; entries the current mask prunes score −1, so they stay pruned.</summary>
    static TensorDict TrainedMagnitudes(IReadOnlyList<PrunableTensor> targets, Mask? mask)
    {
        using var _ = no_grad();
        return targets.ToTensorDict(t => t.Name, t =>
        {
            if (mask is null) return t.Value.abs();
            using var pruned = mask.Tensors[t.Name].logical_not();
            return t.Value.abs().masked_fill_(pruned, Scalars.MinusOne);
        });
    }
}
