using InitPrune.Engine;

namespace InitPrune.Theory;

/// <summary>Seed 001 Theorem 3/4 (seed 000 Prop. 5): Bernoulli keep probabilities that put a subnetwork on the EOC.</summary>
public static class KeepProbabilities
{
    /// <summary>
    /// Seed 001 Theorem 4: keeping each weight of layer l with probability p_l = σ²_{w,EOC}/σ²_{w,l} makes the
    /// effective weight variance σ²_{w,l}·p_l = σ²_{w,EOC}, so the subnetwork is on the EOC. Needs σ_{w,l} ≥ σ_{w,EOC}.
    /// </summary>
    public static double[] ForLayers(double sigmaWEoc, IReadOnlyList<double> sigmaW)
    {
        if (!(sigmaWEoc > 0) || !double.IsFinite(sigmaWEoc))
            throw new InitPruneException($"sigma_w,EOC {sigmaWEoc} is impossible: it must be finite and > 0");
        var p = new double[sigmaW.Count];
        for (int l = 0; l < p.Length; l++)
        {
            double s = sigmaW[l];
            if (!(s >= sigmaWEoc) || !double.IsFinite(s))
                throw new InitPruneException($"sigma_w {s} of layer {l + 1} is below sigma_w,EOC {sigmaWEoc}: pruning only lowers the variance, so Theorem 3 needs every sigma_w ≥ sigma_w,EOC");
            p[l] = sigmaWEoc * sigmaWEoc / (s * s);
        }
        return p;
    }

    /// <summary>Seed 001 Theorem 3: one σ_w for all layers, p = σ²_{w,EOC}/σ²_w.</summary>
    public static double ForAll(double sigmaWEoc, double sigmaW) => ForLayers(sigmaWEoc, [sigmaW])[0];
}
