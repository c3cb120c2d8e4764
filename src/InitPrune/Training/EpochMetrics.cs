namespace InitPrune.Training;

/// <summary>One epoch's figures. Accuracies are null for regression.</summary>
public sealed record EpochMetrics(
    int Epoch,
    double LearningRate,
    double TrainLoss,
    double? TrainAccuracy,
    double TestLoss,
    double? TestAccuracy,
    double Seconds,
    double SamplesPerSecond);

/// <summary>Where a step is within training, for progress displays.</summary>
public readonly record struct StepProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, double SamplesPerSecond);
