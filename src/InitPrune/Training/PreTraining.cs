using InitPrune.Data;
using InitPrune.Engine;
using static TorchSharp.torch;

namespace InitPrune.Training;

/// <summary>
/// Training before pruning (Synaptic-Flow's <c>--pre-epochs</c>): the model trains with the recipe (its epochs are the
/// pre-epochs), then is pruned as it stands. Unlike Synaptic-Flow, the training after pruning starts a fresh optimizer
/// and schedule. The batch order is drawn from its own seed (<c>pre-train</c>), apart from the main training's.
/// </summary>
public static class PreTraining
{
    public static void Run(nn.Module<Tensor, Tensor> model, DatasetSplit data, TrainConfig recipe, long seed, Action<Trainer>? configure = null)
    {
        var trainer = new Trainer(recipe with { TensorBoardDir = null });
        configure?.Invoke(trainer);
        trainer.Train(model, data, Seeds.For(seed, "pre-train"));
    }
}
