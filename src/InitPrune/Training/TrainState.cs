using static TorchSharp.torch;

namespace InitPrune.Training;

/// <summary>
/// Where training stands after a completed epoch: the epoch, the optimizer steps taken so far and the optimizer's state
/// (<see cref="IOptimizer.State"/>: for SGD the momentum buffers, one per parameter in <c>model.parameters()</c> order,
/// null before the first step or without momentum).
/// With the model's weights and buffers this is all that is needed to resume training bit for bit, because batch
/// order and augmentation are drawn from (seed, epoch).
/// </summary>
public sealed record TrainState(int Epoch, long Steps, IReadOnlyList<Tensor?> Momentum);
