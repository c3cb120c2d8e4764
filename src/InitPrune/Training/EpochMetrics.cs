namespace InitPrune.Training;

/// <summary>One epoch's figures. TrainLoss is the mean over the epoch's steps; TestAccuracy is null for regression; the validation figures are null without a validation split.</summary>
public sealed record EpochMetrics(
    int Epoch,
    double LearningRate,
    double TrainLoss,
    double TestLoss,
    double? TestAccuracy,
    double Seconds,
    double SamplesPerSecond,
    double? ValidationLoss = null,
    double? ValidationAccuracy = null);

/// <summary>Where a step is within training, for progress displays.</summary>
public readonly record struct StepProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, double SamplesPerSecond);
