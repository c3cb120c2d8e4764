using InitPrune.Engine;

namespace InitPrune.Training;

/// <summary>SGD recipe (<see cref="MaxSteps"/>, when set, ends training after that many steps). Schedule: <c>none</c>, <c>step</c> (× <see cref="Gamma"/> at each milestone epoch) or <c>cosine</c>.</summary>
public sealed record TrainConfig(
    int Epochs = 1,
    int BatchSize = 100,
    double LearningRate = 0.1,
    double Momentum = 0.9,
    bool Nesterov = false,
    double WeightDecay = 0.0,
    string Schedule = "none",
    int[]? Milestones = null,
    double Gamma = 0.1,
    int EvalBatchSize = 1000,
    string? TensorBoardDir = null,
    string Augment = "none",
    int? MaxSteps = null)
{
    public static readonly IReadOnlyList<string> Schedules = ["none", "step", "cosine"];

    /// <summary>Augmentations: none, or crop-flip (random 4-pixel-padded crop and horizontal flip of images).</summary>
    public static readonly IReadOnlyList<string> Augmentations = ["none", "crop-flip"];

    /// <summary>Rejects impossible hyper-parameters with one line naming the field.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new InitPruneException($"--epochs {Epochs} is impossible: train at least 1 epoch");
        if (BatchSize < 1) throw new InitPruneException($"--batch-size {BatchSize} is impossible: use at least 1");
        if (EvalBatchSize < 1) throw new InitPruneException($"eval batch size {EvalBatchSize} is impossible: use at least 1");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new InitPruneException($"--lr {LearningRate} is impossible: the learning rate must be a positive number");
        if (!(Momentum >= 0 && Momentum < 1)) throw new InitPruneException($"--momentum {Momentum} is impossible: use a value in [0, 1)");
        if (Nesterov && Momentum == 0) throw new InitPruneException("--nesterov needs --momentum > 0");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw new InitPruneException($"--weight-decay {WeightDecay} is impossible: use a value ≥ 0");
        if (!Schedules.Contains(Schedule)) throw new InitPruneException($"unknown schedule '{Schedule}': use one of {string.Join(", ", Schedules)}");
        if (!(Gamma > 0)) throw new InitPruneException($"--gamma {Gamma} is impossible: use a positive factor");
        if (Milestones is { } ms && ms.Any(m => m < 1)) throw new InitPruneException("--milestones must be positive epoch numbers");
        if (!Augmentations.Contains(Augment)) throw new InitPruneException($"unknown augmentation '{Augment}': use one of {string.Join(", ", Augmentations)}");
        if (MaxSteps is < 1) throw new InitPruneException($"max steps {MaxSteps} is impossible: use at least 1 (or leave it unset to train whole epochs)");
    }

    /// <summary>Milestones for the step schedule: given ones, else the seeds' 1/2 and 3/4 of training.</summary>
    public int[] EffectiveMilestones => Milestones ?? [Math.Max(1, Epochs / 2), Math.Max(1, Epochs * 3 / 4)];
}
