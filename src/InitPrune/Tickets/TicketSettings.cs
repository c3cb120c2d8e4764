using InitPrune.Engine;
using InitPrune.Pruning;

namespace InitPrune.Tickets;

/// <summary>The options of <c>initprune ticket</c>, declared once (the command line and its help derive from them).</summary>
public sealed record TicketSettings(
    [Opt("Fraction of weights and biases removed, InitPrune's convention (0.99 keeps 1%); seed 004 calls the kept fraction ρ = 1 − sparsity its \"sparsity\"", Min = 0, Max = 1, MaxOpen = true, Cite = "seed 004 §1.2")] double Sparsity = 0.0,
    [Opt("Epochs in all, the annealing epochs included (seed 004's e = 10 at the target after e_a annealing epochs is --epochs e+e_a)", Min = 1, Cite = "seed 004 §6")] int Epochs = 10,
    [Opt("Annealing epochs e_a: epoch i ≤ e_a keeps the fraction ρ^(i/e_a), later epochs ρ (0: ρ from the start)", Min = 0, Cite = "seed 004 §6")] int AnnealEpochs = 0,
    [Opt("Edge-popup-scaled: after every epoch fit the output scale λ > 0 and spread it over the layers by Lemma 2 (w ← λ^(1/L) w, b ← λ^(l/L) b)", Cite = "seed 004 §5, Lemma 2")] bool Scaled = false,
    [Opt("layer-wise (each layer keeps ρ of its scores, as edge-popup does) or global (one top-k over all layers)", Choices = ["layer-wise", "global"], Aliases = ["layerwise=layer-wise", "layer_wise=layer-wise", "layer=layer-wise"])] string Scope = "layer-wise",
    [Opt("separate (each bias tensor keeps ρ of its entries, ranked apart from the weights) or joint (biases ranked together with their layer's weights; with global scope, with all scores)", Choices = ["separate", "joint"])] string BiasRanking = "separate",
    [Opt("Mini-batch size", Min = 1, Cite = "seed 004 §6")] int BatchSize = 32,
    [Opt("Initial learning rate of the scores (cosine schedule to 0)", Min = 0, MinOpen = true, Cite = "seed 004 §6")] double Lr = 0.1,
    [Opt("SGD momentum of the scores", Min = 0, Max = 1, MaxOpen = true, Cite = "seed 004 §6")] double Momentum = 0.9,
    [Opt("L2 weight decay of the scores", Min = 0, Cite = "seed 004 §6")] double WeightDecay = 5e-4)
{
    /// <summary>The library's configuration.</summary>
    public EdgePopupConfig ToConfig() => new(Sparsity, Epochs, AnnealEpochs, Scaled,
        Scope == "global" ? PruneScope.Global : PruneScope.LayerWise,
        BiasRanking == "joint" ? Tickets.BiasRanking.Joint : Tickets.BiasRanking.Separate,
        BatchSize, Lr, Momentum, WeightDecay);
}
