using MathNet.Numerics;
using MathNet.Numerics.Integration;

namespace InitPrune.Theory;

/// <summary>
/// Expectations over standard Gaussians, E[g(Z)] and E[g(Z1, Z2)], to about 1e-12 relative accuracy.
/// The real line is cut to [−10, 10] (the mass outside is 1.5e-23), split at the kinks of g and at 0, into panels
/// of width ≤ 2, and each panel is refined adaptively with 16-point Gauss–Legendre until halving it changes the
/// result by less than 1e-13 of ∫|g|φ (or of the panel's own value, or 1e-15, the floor that keeps
/// round-off from driving the refinement): so a kink never sits inside a panel, where polynomial rules lose accuracy.
/// </summary>
public static class GaussianExpectation
{
    const double Cut = 10;
    const double MaxPanel = 2;
    const double RelTol = 1e-13;
    const double AbsTol = 1e-15;
    const int MaxDepth = 20;
    static readonly GaussLegendreRule Rule = new(-1, 1, 16);

    /// <summary>E[g(Z)], Z ~ N(0, 1); <paramref name="kinks"/> are the points where g is not smooth.</summary>
    public static double E(Func<double, double> g, IEnumerable<double>? kinks = null)
    {
        double Weighted(double z) => g(z) * Math.Exp(-0.5 * z * z);
        var edges = Edges(kinks);
        var panels = new (double Sum, double Abs)[edges.Count - 1];
        double l1 = 0;
        for (var i = 0; i < panels.Length; i++)
        {
            panels[i] = Panel(Weighted, edges[i], edges[i + 1]);
            l1 += panels[i].Abs;
        }
        var tol = Math.Max(RelTol * l1, AbsTol);
        double sum = 0;
        for (var i = 0; i < panels.Length; i++)
            sum += Adaptive(Weighted, edges[i], edges[i + 1], panels[i].Sum, tol, MaxDepth);
        return sum / Constants.Sqrt2Pi;
    }

    /// <summary>
    /// E[g(Z1, Z2)], Z1, Z2 iid N(0, 1), as an outer integral over Z1 of inner integrals over Z2.
    /// <paramref name="kinks1"/>: where z1 ↦ E[g(z1, Z2)] is not smooth; <paramref name="kinks2"/>: for a given z1,
    /// where z2 ↦ g(z1, z2) is not smooth.
    /// </summary>
    public static double E2(Func<double, double, double> g, IEnumerable<double>? kinks1 = null, Func<double, IEnumerable<double>>? kinks2 = null) =>
        E(z1 => E(z2 => g(z1, z2), kinks2?.Invoke(z1)), kinks1);

    /// <summary>Panel edges: −10, the kinks and 0 inside (−10, 10), 10, with no panel wider than 2.</summary>
    static List<double> Edges(IEnumerable<double>? kinks)
    {
        var cuts = (kinks ?? []).Where(k => double.IsFinite(k) && Math.Abs(k) < Cut).Append(0).Append(-Cut).Append(Cut).Distinct().Order().ToArray();
        var edges = new List<double> { cuts[0] };
        for (var i = 0; i + 1 < cuts.Length; i++)
        {
            var n = (int)Math.Ceiling((cuts[i + 1] - cuts[i]) / MaxPanel);
            for (var j = 1; j <= n; j++) edges.Add(j == n ? cuts[i + 1] : cuts[i] + (cuts[i + 1] - cuts[i]) * j / n);
        }
        return edges;
    }

    /// <summary>16-point Gauss–Legendre on [a, b]: ∫f and ∫|f| (the latter sets the tolerance).</summary>
    static (double Sum, double Abs) Panel(Func<double, double> f, double a, double b)
    {
        double half = 0.5 * (b - a), mid = 0.5 * (a + b), sum = 0, abs = 0;
        for (var i = 0; i < Rule.Abscissas.Length; i++)
        {
            var v = Rule.Weights[i] * f(mid + half * Rule.Abscissas[i]);
            sum += v;
            abs += Math.Abs(v);
        }
        return (half * sum, half * abs);
    }

    static double Adaptive(Func<double, double> f, double a, double b, double whole, double tol, int depth)
    {
        var m = 0.5 * (a + b);
        double left = Panel(f, a, m).Sum, right = Panel(f, m, b).Sum, both = left + right;
        if (depth == 0 || Math.Abs(both - whole) <= Math.Max(tol, RelTol * Math.Abs(both)))
            return both;
        return Adaptive(f, a, m, left, tol, depth - 1) + Adaptive(f, m, b, right, tol, depth - 1);
    }
}
