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
    string? Activation = null);
