using InitPrune.Engine;

namespace InitPrune.Training;

/// <summary>
/// Training recipe (<see cref="MaxSteps"/>, when set, ends training after that many steps). Schedule: <c>none</c>, <c>step</c>
/// (× <see cref="Gamma"/> at each milestone epoch) or <c>cosine</c>, times a linear warm-up over the first
/// <see cref="WarmupSteps"/> steps. <see cref="Optimizer"/>: sgd (<see cref="Momentum"/>, <see cref="Nesterov"/>), adam and
/// adamw (<see cref="Beta1"/>, <see cref="Beta2"/>, <see cref="Eps"/>), rmsprop (<see cref="RmspropAlpha"/>, <see cref="Eps"/>);
/// <see cref="WeightDecay"/> is shared (decoupled for adamw). <see cref="LabelSmoothing"/> as torch's cross-entropy.
/// <see cref="JacobianEvery"/> &gt; 0 tracks ‖J‖ (<see cref="JacobianTracker"/>) at step 0 and every that many steps.
/// </summary>
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
    int? MaxSteps = null,
    string Optimizer = "sgd",
    double Beta1 = 0.9,
    double Beta2 = 0.999,
    double Eps = 1e-8,
    double RmspropAlpha = 0.99,
    double LabelSmoothing = 0.0,
    int WarmupSteps = 0,
    int JacobianEvery = 0,
    int JacobianInputs = 8,
    string JacobianSpan = "hidden")
{
    public static readonly IReadOnlyList<string> Schedules = ["none", "step", "cosine"];

    /// <summary>The spans of <see cref="JacobianTracker"/>: hidden (seed 002's J_1) or full (output by input).</summary>
    public static readonly IReadOnlyList<string> JacobianSpans = ["hidden", "full"];

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
        if (!Optimizers.Names.Contains(Optimizer)) throw new InitPruneException($"unknown optimizer '{Optimizer}': use one of {string.Join(", ", Optimizers.Names)}");
        var d = new TrainConfig();
        if (Optimizer != "sgd" && (Momentum != d.Momentum || Nesterov)) throw new InitPruneException($"--{(Nesterov ? "nesterov" : "momentum")} does nothing for --optimizer {Optimizer}: it applies to sgd");
        if (Optimizer is not ("adam" or "adamw") && (Beta1 != d.Beta1 || Beta2 != d.Beta2)) throw new InitPruneException($"--{(Beta1 != d.Beta1 ? "beta1" : "beta2")} does nothing for --optimizer {Optimizer}: it applies to adam, adamw");
        if (Optimizer == "sgd" && Eps != d.Eps) throw new InitPruneException("--eps does nothing for --optimizer sgd: it applies to adam, adamw, rmsprop");
        if (Optimizer != "rmsprop" && RmspropAlpha != d.RmspropAlpha) throw new InitPruneException($"--rmsprop-alpha does nothing for --optimizer {Optimizer}: it applies to rmsprop");
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new InitPruneException($"--beta1 {Beta1} is impossible: use a value in [0, 1)");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new InitPruneException($"--beta2 {Beta2} is impossible: use a value in [0, 1)");
        if (!(Eps > 0) || !double.IsFinite(Eps)) throw new InitPruneException($"--eps {Eps} is impossible: use a positive number (pruned weights divide 0 by it)");
        if (!(RmspropAlpha >= 0 && RmspropAlpha < 1)) throw new InitPruneException($"--rmsprop-alpha {RmspropAlpha} is impossible: use a value in [0, 1)");
        if (!(LabelSmoothing >= 0 && LabelSmoothing <= 1)) throw new InitPruneException($"--label-smoothing {LabelSmoothing} is impossible: use a value in [0, 1]");
        if (WarmupSteps < 0) throw new InitPruneException($"--warmup-steps {WarmupSteps} is impossible: use 0 (no warm-up) or more");
        if (JacobianEvery < 0) throw new InitPruneException($"--jacobian-every {JacobianEvery} is impossible: use 0 (off) or a number of steps ≥ 1");
        if (JacobianInputs < 1) throw new InitPruneException($"--jacobian-inputs {JacobianInputs} is impossible: average over at least 1 input");
        if (!JacobianSpans.Contains(JacobianSpan)) throw new InitPruneException($"unknown Jacobian span '{JacobianSpan}': use one of {string.Join(", ", JacobianSpans)}");
        if (MaxSteps is < 1) throw new InitPruneException($"max steps {MaxSteps} is impossible: use at least 1 (or leave it unset to train whole epochs)");
    }

    /// <summary>The learning rate of the step after <paramref name="stepsDone"/> steps at the schedule's <paramref name="scheduled"/> rate:
    /// open_lth's warm-up, <c>scheduled · min(1, stepsDone / WarmupSteps)</c> (0 at the first step), or <paramref name="scheduled"/> without it.</summary>
    public double StepRate(double scheduled, long stepsDone) =>
        WarmupSteps > 0 && stepsDone < WarmupSteps ? scheduled * ((double)stepsDone / WarmupSteps) : scheduled;

    /// <summary>Milestones for the step schedule: given ones, else the seeds' 1/2 and 3/4 of training.</summary>
    public int[] EffectiveMilestones => Milestones ?? [Math.Max(1, Epochs / 2), Math.Max(1, Epochs * 3 / 4)];
}
