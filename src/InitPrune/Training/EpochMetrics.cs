namespace InitPrune.Training;

/// <summary>
/// One epoch's figures. TrainLoss is the mean over the epoch's steps; TestAccuracy is null for regression; the validation
/// figures are null without a validation split. An edge-popup epoch of a sweep run (seed 004) carries its kept fraction ρ_i
/// and the output scale λ fitted after it (1 when unscaled); training epochs leave both null.
/// </summary>
public sealed record EpochMetrics(
    int Epoch,
    double LearningRate,
    double TrainLoss,
    double TestLoss,
    double? TestAccuracy,
    double Seconds,
    double SamplesPerSecond,
    double? ValidationLoss = null,
    double? ValidationAccuracy = null,
    double? KeptFraction = null,
    double? Lambda = null);

/// <summary>Where a step is within training, for progress displays.</summary>
public readonly record struct StepProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, double SamplesPerSecond);
