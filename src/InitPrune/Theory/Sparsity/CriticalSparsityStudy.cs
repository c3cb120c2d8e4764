using InitPrune.Engine;

namespace InitPrune.Theory;

/// <summary>
/// One depth of <see cref="CriticalSparsityStudy"/>: the simulated s_cr beside seed 001's bounds (null where a bound
/// does not apply: SBP on the EOC, κ = 0; Prop. 4 without a shrunk first layer).
/// </summary>
public sealed record CriticalSparsityRow(
    int Layers, double Chi, double Kappa, double? SbpBoundLn, double? SbpBoundLog10, MbpBound? MbpBound,
    double Mean, double StdDev, double StdError, string MostEmptiedLayer, IReadOnlyList<CriticalSparsitySample> Samples);

/// <summary>Empirical s_cr against the theory over a list of depths L (weight layers, L − 1 hidden).</summary>
public static class CriticalSparsityStudy
{
    /// <param name="template">Width, activation, σ's, method, samples...; its Depth is replaced by L − 1 for each L.</param>
    /// <param name="chi">χ of (activation, σw, σb), e.g. from the mean-field map; κ = |log χ|/8.</param>
    public static List<CriticalSparsityRow> Run(CriticalSparsitySpec template, IReadOnlyList<int> layers, double chi)
    {
        if (layers.Count == 0 || layers.Any(l => l < 2))
            throw new InitPruneException($"layers [{string.Join(",", layers)}] are impossible: give at least one L ≥ 2 (L − 1 hidden layers and the output layer)");
        double kappa = SbpCriticalSparsity.Kappa(chi);
        bool sbp = template.Method.Equals("snip", StringComparison.OrdinalIgnoreCase) && kappa > 0;
        bool mbp = template.Method.Equals("magnitude", StringComparison.OrdinalIgnoreCase) && template.FirstLayerShrink > 1;
        // Prop. 4: l0 = the shrunk first layer, a width × width matrix (the input has the hidden width).
        var mbpBound = mbp ? MbpCriticalSparsity.LargeDepthBound(template.FirstLayerShrink, (double)template.Width * template.Width) : null;
        return [.. layers.Select(l =>
        {
            var r = CriticalSparsitySimulation.Run(template with { Depth = l - 1 });
            string most = r.Samples.GroupBy(s => s.Layer).OrderByDescending(g => g.Count()).First().Key;
            return new CriticalSparsityRow(l, chi, kappa,
                sbp ? SbpCriticalSparsity.Bound(l, template.Width, kappa, LogBase.Natural) : null,
                sbp ? SbpCriticalSparsity.Bound(l, template.Width, kappa, LogBase.Ten) : null,
                mbpBound, r.Mean, r.StdDev, r.StdError, most, r.Samples);
        })];
    }
}
