using InitPrune.Engine;
using InitPrune.Pruning;

namespace InitPrune.Tickets;

/// <summary>
/// How biases are ranked: Separate (default): each bias tensor keeps the fraction ρ of its own entries, ranked apart
/// from the weights (seed 004's edge-popup with bias scores ranks them so); Joint: a layer's biases compete with its
/// weights for one top-k (with global scope: all scores in one pool).
/// </summary>
public enum BiasRanking { Separate, Joint }

/// <summary>
/// Edge-popup (Ramanujan et al. 2020) with seed 004's extensions: scores for biases, annealing of the kept fraction and,
/// when <see cref="Scaled"/>, an output scale λ fitted after every epoch and spread over the layers by Lemma 2.
/// <see cref="Sparsity"/> is InitPrune's (the fraction removed); seed 004's ρ, the fraction kept, is <see cref="KeptFraction"/>.
/// <see cref="Epochs"/> counts every epoch, the <see cref="AnnealEpochs"/> annealing ones included. Defaults are the
/// paper's recipe: SGD with momentum 0.9, weight decay 5e-4, cosine learning rate from 0.1, batch 32 (seed 004 §6).
/// </summary>
public sealed record EdgePopupConfig(
    double Sparsity,
    int Epochs = 10,
    int AnnealEpochs = 0,
    bool Scaled = false,
    PruneScope Scope = PruneScope.LayerWise,
    BiasRanking Biases = BiasRanking.Separate,
    int BatchSize = 32,
    double LearningRate = 0.1,
    double Momentum = 0.9,
    double WeightDecay = 5e-4,
    int EvalBatchSize = 1000)
{
    /// <summary>ρ = 1 − sparsity, the target fraction of weights kept (seed 004's "sparsity").</summary>
    public double KeptFraction => 1 - Sparsity;

    /// <summary>Rejects impossible settings with one line naming the option.</summary>
    public void Validate()
    {
        MaskBuilder.CheckSparsity(Sparsity);
        if (Epochs < 1) throw new InitPruneException($"--epochs {Epochs} is impossible: run at least 1 epoch");
        if (AnnealEpochs < 0 || AnnealEpochs > Epochs)
            throw new InitPruneException($"--anneal-epochs {AnnealEpochs} is impossible with --epochs {Epochs}: annealing takes the first epochs, so use 0 to {Epochs}");
        if (BatchSize < 1) throw new InitPruneException($"--batch-size {BatchSize} is impossible: use at least 1");
        if (EvalBatchSize < 1) throw new InitPruneException($"eval batch size {EvalBatchSize} is impossible: use at least 1");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new InitPruneException($"--lr {LearningRate} is impossible: the learning rate must be a positive number");
        if (!(Momentum >= 0 && Momentum < 1)) throw new InitPruneException($"--momentum {Momentum} is impossible: use a value in [0, 1)");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw new InitPruneException($"--weight-decay {WeightDecay} is impossible: use a value ≥ 0");
    }

    /// <summary>The kept fraction in epoch <paramref name="epoch"/> (1-based): ρ^{i/e_a} while annealing (i ≤ e_a), then ρ.</summary>
    public double KeptFractionAt(int epoch) => Annealed(KeptFraction, epoch, AnnealEpochs);

    /// <summary>The learning rate of epoch <paramref name="epoch"/> (1-based): cosine from <see cref="LearningRate"/> to 0 over <see cref="Epochs"/>, stepped per epoch.</summary>
    public double LearningRateAt(int epoch) => 0.5 * LearningRate * (1 + Math.Cos(Math.PI * (epoch - 1) / Epochs));

    /// <summary>Seed 004 §6's annealing: ρ^{i/e_a} in epoch i = 1..e_a, then ρ (without annealing, ρ from the start).</summary>
    public static double Annealed(double keptFraction, int epoch, int annealEpochs) =>
        annealEpochs == 0 || epoch >= annealEpochs ? keptFraction : Math.Pow(keptFraction, (double)epoch / annealEpochs);
}
