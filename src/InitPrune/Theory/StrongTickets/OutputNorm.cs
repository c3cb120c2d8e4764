using InitPrune.Engine;

namespace InitPrune.Theory;

/// <summary>
/// Seed 004 Lemma 3: the second moment E‖f(x⁽⁰⁾)‖² of a ReLU network (ReLU on every layer, the output included)
/// whose weights and biases of layer l are independent, symmetric about 0, with variances σ_{w,l}² and σ_{b,l}².
/// Widths are n_1 … n_L (the input width n_0 enters only through ‖x⁽⁰⁾‖²).
/// </summary>
public static class OutputNorm
{
    /// <summary>Seed 004 Lemma 3: ‖x⁽⁰⁾‖² Π_l n_lσ_{w,l}²/2 + Σ_l σ_{b,l}² n_l/2 Π_{k&gt;l} n_kσ_{w,k}²/2.</summary>
    public static double Expected(double inputNormSq, IReadOnlyList<int> widths, IReadOnlyList<double> sigmaW, IReadOnlyList<double> sigmaB)
    {
        Validate(inputNormSq, widths, sigmaB);
        if (sigmaW.Count != widths.Count || sigmaW.Any(s => !(s > 0) || !double.IsFinite(s)))
            throw new InitPruneException($"sigma_w [{string.Join(", ", sigmaW)}] must hold {widths.Count} finite values > 0, one per layer");
        int depth = widths.Count;
        double Gain(int k) => widths[k] * sigmaW[k] * sigmaW[k] / 2;
        double Tail(int l) => Enumerable.Range(l + 1, depth - l - 1).Aggregate(1.0, (p, k) => p * Gain(k));
        double signal = inputNormSq * Tail(-1);
        double biases = Enumerable.Range(0, depth).Sum(l => sigmaB[l] * sigmaB[l] * widths[l] / 2 * Tail(l));
        return signal + biases;
    }

    /// <summary>Seed 004 §3.2 ('looks linear', orthogonal W₀): ‖x⁽⁰⁾‖² + Σ_l σ_{b,l}² n_l/2.</summary>
    public static double ExpectedLooksLinear(double inputNormSq, IReadOnlyList<int> widths, IReadOnlyList<double> sigmaB)
    {
        Validate(inputNormSq, widths, sigmaB);
        return inputNormSq + Enumerable.Range(0, widths.Count).Sum(l => sigmaB[l] * sigmaB[l] * widths[l] / 2);
    }

    /// <summary>Seed 004 §3.1 bias scale: σ_{b,l} = Π_{m≤l} σ_{w,m}.</summary>
    public static double[] ProductBiasScale(IReadOnlyList<double> sigmaW)
    {
        var result = new double[sigmaW.Count];
        double p = 1;
        for (int l = 0; l < sigmaW.Count; l++) result[l] = p *= sigmaW[l];
        return result;
    }

    static void Validate(double inputNormSq, IReadOnlyList<int> widths, IReadOnlyList<double> sigmaB)
    {
        if (widths.Count == 0 || widths.Any(n => n <= 0))
            throw new InitPruneException($"widths [{string.Join(", ", widths)}] must be a non-empty list of positive layer widths n_1..n_L");
        if (!(inputNormSq >= 0) || !double.IsFinite(inputNormSq))
            throw new InitPruneException($"input squared norm {inputNormSq} must be finite and ≥ 0");
        if (sigmaB.Count != widths.Count || sigmaB.Any(s => !(s >= 0) || !double.IsFinite(s)))
            throw new InitPruneException($"sigma_b [{string.Join(", ", sigmaB)}] must hold {widths.Count} finite values ≥ 0, one per layer");
    }
}
