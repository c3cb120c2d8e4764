using InitPrune.Engine;

namespace InitPrune.Theory;

/// <summary>
/// One target layer l of seed 004 Theorem 5: its tolerance ε_l (Lemma 4), per-parameter failure budget δ_l, and the widths
/// n_{2l−1,0} (the wide layer of degree-1 neurons) and n_{2l,0} = n_l of the mother network f₀ of depth 2L.
/// </summary>
public sealed record TicketWidthLayer(int Layer, int InputWidth, int Width, int MaxInDegree, double EpsilonL, double DeltaL, double LogTerm, long WideWidth, long NarrowWidth);

/// <summary>Theorem 5's answer: per-layer widths and the size of f₀ (weights plus biases).</summary>
public sealed record TicketWidthResult(TicketBoundVariant Variant, double Epsilon, double Delta, double C, IReadOnlyList<TicketWidthLayer> Layers, long MotherParameters, long TargetParameters);

/// <summary>Seed 004 Theorem 5: how wide a random network must be to contain an ε-approximation of a target with probability 1 − δ.</summary>
public static class TicketWidth
{
    /// <summary>
    /// Main text (§4): n_{2l−1,0} = C n_{l−1} log(k n_l / min{ε_l, δ/L}); Appendix B.4: n_{2l−1,0} = C n_{l−1} log(1 / min{ε_l, δ_l}),
    /// δ_l = δ / (L k n_l). The paper writes k_{l−1,max}; its union bound (B.4) runs over the n_l k_{l,max} parameters of
    /// layer l, so k = k_{l,max} is used. Widths are rounded up; the universal constant C is a parameter.
    /// </summary>
    public static TicketWidthResult Compute(TargetNetwork target, double epsilon, double delta, double c, TicketBoundVariant variant)
    {
        if (!(epsilon > 0 && epsilon < 1) || !(delta > 0 && delta < 1))
            throw new InitPruneException($"epsilon {epsilon} and delta {delta} must both lie in (0, 1) (Theorem 5)");
        if (!(c > 0) || !double.IsFinite(c))
            throw new InitPruneException($"the constant C {c} must be finite and > 0");
        var tolerances = ErrorPropagation.Tolerances(target, epsilon, variant);
        int depth = target.Depth;
        var layers = new List<TicketWidthLayer>();
        for (int l = 1; l <= depth; l++)
        {
            var layer = target.Layers[l - 1];
            int inputs = target.InputWidthOf(l);
            double kn = (double)layer.MaxInDegree * layer.Width;
            double eps = tolerances[l - 1];
            var (deltaL, logTerm) = variant == TicketBoundVariant.MainText
                ? (delta / depth, Math.Log(kn / Math.Min(eps, delta / depth)))      // Seed 004 Thm 5 (§4)
                : (delta / (depth * kn), Math.Log(1 / Math.Min(eps, delta / (depth * kn)))); // Seed 004 Thm 5 (B.4)
            long wide = (long)Math.Ceiling(c * inputs * logTerm);
            layers.Add(new TicketWidthLayer(l, inputs, layer.Width, layer.MaxInDegree, eps, deltaL, logTerm, wide, layer.Width));
        }
        long mother = 0, targetCount = 0;
        long previous = target.InputWidth;
        foreach (var l in layers)
        {
            mother += (previous + 1) * l.WideWidth + (l.WideWidth + 1) * l.NarrowWidth;
            targetCount += ((long)l.InputWidth + 1) * l.Width;
            previous = l.NarrowWidth;
        }
        return new TicketWidthResult(variant, epsilon, delta, c, layers, mother, targetCount);
    }
}
