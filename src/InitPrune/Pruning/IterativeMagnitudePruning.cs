using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Models;
using InitPrune.Training;
using static TorchSharp.torch;

namespace InitPrune.Pruning;

/// <summary>
/// Iterative magnitude pruning with rewinding to initialization (Frankle &amp; Carbin 2019, the lottery-ticket
/// baseline of seeds 001/004): R rounds of train, prune the smallest surviving |W| so that (1 − s)^{r/R} is kept,
/// rewind the survivors to their initial values. It trains, so <see cref="Pruner"/> does not run it; its options are declared in <see cref="Info"/>.
/// </summary>
public static class IterativeMagnitudePruning
{
    public static readonly Param Rounds = Param.Integer("rounds", 3, "Train-prune-rewind rounds; round r keeps (1 − s)^(r/rounds)",
        "Frankle & Carbin 2019", min: 1);

    public static readonly Param RoundEpochs = Param.Integer("round_epochs", 1, "Training epochs per round, with the run's training recipe and a cosine schedule",
        "Frankle & Carbin 2019", min: 1);

    public static readonly Param RewindStep = Param.Integer("rewind_step", 0, "Rewind the survivors to their weights after this many optimizer steps of the first round instead of θ₀ (0: θ₀)",
        "Frankle et al. 2020, open_lth --rewinding_steps", min: 0);

    public static readonly MethodInfo Info = new("imp", "iterative magnitude pruning with rewinding to initialization: trains between rounds (Frankle & Carbin 2019; seeds 001/004)",
        [Rounds, RoundEpochs, RewindStep], null);

    /// <summary>The recipe of each round: the run's recipe for <paramref name="roundEpochs"/> epochs with a cosine schedule.</summary>
    public static TrainConfig RoundRecipe(TrainConfig recipe, int roundEpochs) =>
        recipe with { Epochs = roundEpochs, MaxSteps = null, Schedule = "cosine", Milestones = null };

    public static void CheckRounds(int rounds)
    {
        if (rounds < 1) throw new InitPruneException($"rounds {rounds} is impossible: iterative magnitude pruning needs at least 1");
    }

    /// <summary>
    /// IMP as declared: <paramref name="spec"/> is method <c>imp</c> with its options (<see cref="Rounds"/>,
    /// <see cref="RoundEpochs"/>); each round trains with <see cref="RoundRecipe"/> of the run's <paramref name="recipe"/>.
    /// <c>initprune prune --method imp</c> and a sweep's IMP run both call this, so the same options give the same network.
    /// </summary>
    public static PruneResult Prune(nn.Module<Tensor, Tensor> model, DatasetSplit data, TrainConfig recipe, PruneSpec spec, long seed, Action<Trainer>? configure = null)
    {
        var options = spec.Options ?? MethodOptions.Default;
        options.Validate(Info);
        Pruner.CheckAblation(Info, spec);
        Pruner.CheckBatchNorm(Info, spec, model);
        var train = RoundRecipe(recipe, options.Integer(RoundEpochs));
        train.Validate();
        return Run(model, data, train, spec with { Method = MagnitudeScorer.Info.Name, Options = null }, options.Integer(Rounds), seed, configure, options.Integer(RewindStep));
    }

    /// <summary>
    /// Leaves the model at θ₀ ⊙ mask (ready to train), or with <paramref name="rewindStep"/> k &gt; 0 at θ_k ⊙ mask, θ_k the
    /// weights after the first round's k-th step (later rounds also start from θ_k ⊙ mask); the scores are the last round's trained |W|.
    /// </summary>
    public static PruneResult Run(nn.Module<Tensor, Tensor> model, DatasetSplit data, TrainConfig train, PruneSpec spec, int rounds, long seed, Action<Trainer>? configure = null,
        int rewindStep = 0)
    {
        if (rewindStep < 0) throw new InitPruneException($"rewind_step {rewindStep} is impossible: use 0 (θ₀) or a step number");
        MaskBuilder.CheckSparsity(spec.Sparsity);
        CheckRounds(rounds);
        var targets = Pruner.Targets(model, spec);
        using var initial = Network.CloneStateDict(model);
        Mask? mask = null;
        TensorDict? scores = null;
        try
        {
            for (int r = 1; r <= rounds; r++)
            {
                var trainer = new Trainer(train);
                configure?.Invoke(trainer);
                long taken = 0;
                if (r == 1 && rewindStep > 0)
                    trainer.Step += _ =>
                    {
                        if (++taken != rewindStep) return;
                        // Step handlers run inside the step's dispose scope: the copies must leave it.
                        using var rewound = Network.CloneStateDict(model);
                        foreach (var name in rewound.Keys.ToList()) initial.Set(name, rewound.Take(name).DetachFromDisposeScope());
                    };
                trainer.Train(model, data, Seeds.For(seed, $"imp-{r}"));
                if (r == 1 && rewindStep > taken)
                    throw new InitPruneException($"rewind_step {rewindStep} is beyond the {taken} steps of a round: use at most {taken}, or more round_epochs");
                scores?.Dispose();
                scores = null;
                scores = TrainedMagnitudes(targets, mask);
                double sparsity = MaskBuilder.ExponentialSparsity(spec.Sparsity, r, rounds);
                var next = MaskBuilder.FromScores([.. targets.Select(t => (t.Name, scores[t.Name]))], sparsity, spec.Scope, spec.KeepRule);
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
