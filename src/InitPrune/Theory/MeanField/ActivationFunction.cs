namespace InitPrune.Theory;

/// <summary>
/// A scalar activation for the mean-field theory: φ, its derivative φ′, and the points where φ or φ′ is not
/// smooth (kinks), which the Gaussian quadrature splits at.
/// </summary>
public sealed record ActivationFunction(string Name, Func<double, double> Phi, Func<double, double> DPhi, double[] Kinks)
{
    /// <summary>
    /// Where the quadrature should cut z ↦ φ(s z): the kinks over s and, when s &gt; 1 squeezes φ's unit-scale
    /// features towards 0, also ±1/s and ±4/s, so the first panels already resolve them.
    /// </summary>
    public IEnumerable<double> Breakpoints(double s) =>
        s <= 0 ? [] : s > 1 ? Kinks.Select(k => k / s).Concat([-4 / s, -1 / s, 1 / s, 4 / s]) : Kinks.Select(k => k / s);
}
