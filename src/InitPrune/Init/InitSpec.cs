namespace InitPrune.Init;

/// <summary>
/// How to initialize (see <see cref="Initializers.Names"/>). <see cref="SigmaW"/>, <see cref="SigmaB"/> follow the
/// seeds' parameterization W ~ N(0, σw²/fan_in), b ~ N(0, σb²); <see cref="ZeroBias"/> zeroes every bias after the
/// draw (any scheme); <see cref="Eta"/> is the shared-scalar weight of <c>correlated</c>; <see cref="Activation"/>
/// names φ for <c>eoc</c> (null: the model's public <c>Activation</c> property, e.g. <c>Mlp.Activation</c>).
/// </summary>
public sealed record InitSpec(
    string Name = "normal",
    double SigmaW = 1.4142135623730951,
    double SigmaB = 0.0,
    bool ZeroBias = false,
    double Eta = 0.0,
    string? Activation = null)
{
    /// <summary>
    /// The σ_w the weights are actually drawn with, for what reads "the initialization's σ_w" (the <c>eoc-sigma-w</c>
    /// rescaling): <c>eoc</c>'s Edge-of-Chaos value (seed 001 §2.2), √2 for He schemes, <see cref="SigmaW"/> for the
    /// schemes it parameterizes; null where no single σ_w describes the draw (Xavier, looks-linear).
    /// </summary>
    public double? DrawnSigmaW => Name switch
    {
        "eoc" => Theory.EdgeOfChaos.SigmaW(Activation ?? "relu", SigmaB),
        "kaiming-normal" or "kaiming-uniform" or "slt-he" => Math.Sqrt(2),
        "normal" or "orthogonal" or "slt-uniform" or "slt-normal" or "correlated" => SigmaW,
        _ => null,
    };
}
