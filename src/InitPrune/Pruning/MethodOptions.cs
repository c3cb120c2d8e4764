using InitPrune.Engine;

namespace InitPrune.Pruning;

/// <summary>
/// Hyper-parameters of the methods that have any: GraSP's temperature, SynFlow's iterations, seed 003's α, and
/// the initialization that wlth needs (σ_w, σ_b and the activation that fixes σ_{w,EOC}).
/// </summary>
public sealed record MethodOptions(
    double Temperature = 200,
    int Iterations = 100,
    double Alpha = 0.5,
    double? SigmaW = null,
    double SigmaB = 0,
    string Activation = "relu")
{
    public static readonly MethodOptions Default = new();

    public void Validate()
    {
        if (!(Temperature > 0) || !double.IsFinite(Temperature))
            throw new InitPruneException($"temperature {Temperature} is impossible: it must be finite and > 0 (GraSP uses 200)");
        if (Iterations < 1)
            throw new InitPruneException($"iterations {Iterations} is impossible: SynFlow needs at least 1 (the paper uses 100)");
        if (!(Alpha > 0 && Alpha <= 1))
            throw new InitPruneException($"alpha {Alpha} is impossible: seed 003 prunes floor(D^(1-alpha)) entries per layer with alpha in (0, 1]");
        if (SigmaW is { } w && !(w > 0 && double.IsFinite(w)))
            throw new InitPruneException($"sigma_w {w} is impossible: it must be finite and > 0");
        if (!(SigmaB >= 0) || !double.IsFinite(SigmaB))
            throw new InitPruneException($"sigma_b {SigmaB} is impossible: it must be finite and ≥ 0");
    }
}
