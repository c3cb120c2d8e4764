namespace InitPrune.Theory;

/// <summary>
/// Schoenholz et al. (2017) depth scales at the fixed point: q^l − q* ~ e^{−l/ξ_q}, c^l − c* ~ e^{−l/ξ_c}
/// (∞ on the Edge of Chaos). <paramref name="CStar"/> is the stable correlation fixed point (1 unless chaotic).
/// </summary>
public sealed record DepthScales(double XiQ, double XiC, double QStar, double CStar);
