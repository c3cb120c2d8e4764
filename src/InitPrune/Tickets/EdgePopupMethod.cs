using InitPrune.Engine;
using InitPrune.Pruning;

namespace InitPrune.Tickets;

/// <summary>
/// Edge-popup as pruning methods of the registry (<see cref="PrunerRegistry"/>): <c>edge-popup</c> and
/// <c>edge-popup-scaled</c> (seed 004 §5–6, the two algorithms of its Figure 1), with their options declared once here.
/// Like IMP they train (scores, not weights), so <see cref="MethodInfo.Create"/> is null and the sweep's executor and
/// <c>prune</c> run them through <see cref="EdgePopup"/>. The prune section's <c>sparsity</c> is InitPrune's (the fraction
/// removed; seed 004's ρ = 1 − sparsity) and its <c>scope</c> picks layer-wise (the paper's) or global top-k; biases are
/// always scored. The score optimizer is SGD with <see cref="Momentum"/> and <see cref="WeightDecay"/> and a cosine
/// learning rate from <see cref="LearningRate"/>, per epoch.
/// </summary>
public static class EdgePopupMethod
{
    public static readonly Param Epochs = Param.Integer("popup_epochs", 10,
        "Edge-popup epochs in all, the annealing ones included (seed 004's e = 10 after e_a annealing epochs is e + e_a)", "seed 004 §6", min: 1);

    public static readonly Param AnnealEpochs = Param.Integer("anneal_epochs", 0,
        "Annealing epochs e_a: edge-popup epoch i ≤ e_a keeps ρ^(i/e_a), later epochs ρ (0: ρ from the start; at most popup_epochs)", "seed 004 §6", min: 0);

    public static readonly Param BiasRanking = new("bias_ranking", ParamKind.Text, "separate",
        "separate (each bias tensor keeps ρ of its entries, ranked apart from the weights) or joint (biases ranked with their layer's weights; with global scope, with all scores)",
        "seed 004 §3", Choices: ["separate", "joint"]);

    public static readonly Param LearningRate = Param.Number("popup_lr", 0.1, "Initial learning rate of the scores (cosine schedule to 0 over popup_epochs)",
        "seed 004 §6", min: 0, minOpen: true);

    public static readonly Param BatchSize = Param.Integer("popup_batch_size", 32, "Mini-batch size of edge-popup", "seed 004 §6", min: 1);

    public static readonly Param Momentum = Param.Number("popup_momentum", 0.9, "SGD momentum of the scores", "seed 004 §6", min: 0, max: 1, maxOpen: true);

    public static readonly Param WeightDecay = Param.Number("popup_weight_decay", 5e-4, "L2 weight decay of the scores", "seed 004 §6", min: 0);

    static readonly IReadOnlyList<Param> Options = [Epochs, AnnealEpochs, BiasRanking, LearningRate, BatchSize, Momentum, WeightDecay];

    const string NoBatchNorm = "edge-popup scores the weights and biases of linear and convolutional layers only";

    public static readonly MethodInfo Plain = new("edge-popup",
        "strong lottery ticket by edge-popup: trains scores for weights and biases (frozen at init), keeps the top ρ = 1 − sparsity (Ramanujan et al. 2020; seed 004)",
        Options, null, Check: Check, NoBatchNorm: NoBatchNorm);

    public static readonly MethodInfo Scaled = new("edge-popup-scaled",
        "edge-popup that fits the output scale λ after every epoch and spreads it over the layers by Lemma 2 (seed 004 §5)",
        Options, null, Check: Check, NoBatchNorm: NoBatchNorm);

    /// <summary>True for <c>edge-popup</c> and <c>edge-popup-scaled</c>.</summary>
    public static bool Is(string method) => method == Plain.Name || method == Scaled.Name;

    /// <summary>Refuses the prune settings edge-popup cannot take (one line naming them).</summary>
    static void Check(PruneSpec spec)
    {
        var o = spec.Options ?? MethodOptions.Default;
        if (o.Integer(AnnealEpochs) > o.Integer(Epochs))
            throw new InitPruneException($"anneal_epochs {o.Integer(AnnealEpochs)} is impossible with popup_epochs {o.Integer(Epochs)}: annealing takes the first epochs, so use 0 to {o.Integer(Epochs)}");
        string? unsupported = spec.Rescale is not null ? "rescale" : spec.KeepRule != KeepRule.Stable ? "keep_rule reference"
            : !spec.PruneFirst ? "prune_first false" : !spec.PruneLast ? "prune_last false" : null;
        if (unsupported is not null)
            throw new InitPruneException($"{unsupported} does not apply to {spec.Method}: edge-popup keeps the top-k scores of every layer's weights and biases (exact counts, ties to the earlier entry)");
    }

    /// <summary>The library's configuration of a spec of method <c>edge-popup</c> or <c>edge-popup-scaled</c>.</summary>
    public static EdgePopupConfig Config(PruneSpec spec)
    {
        if (!Is(spec.Method)) throw new InitPruneException($"method '{spec.Method}' is not edge-popup");
        var o = spec.Options ?? MethodOptions.Default;
        o.Validate(PrunerRegistry.Get(spec.Method));
        Check(spec);
        return new EdgePopupConfig(spec.Sparsity, o.Integer(Epochs), o.Integer(AnnealEpochs), spec.Method == Scaled.Name, spec.Scope,
            (string)o.Get(BiasRanking) == "joint" ? Tickets.BiasRanking.Joint : Tickets.BiasRanking.Separate,
            o.Integer(BatchSize), o.Number(LearningRate), o.Number(Momentum), o.Number(WeightDecay));
    }
}
