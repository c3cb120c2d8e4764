using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>
/// The three terms of Latała's bound, seed 003 Lemma 4 / Eq. (13):
/// E‖A‖₂ ≤ C [max_i (Σ_j E A_ij²)^{1/2} + max_j (Σ_i E A_ij²)^{1/2} + (Σ_ij E A_ij⁴)^{1/4}].
/// </summary>
public sealed record LatalaTerms(double Rows, double Columns, double Fourth)
{
    public double Sum => Rows + Columns + Fourth;

    /// <summary>The terms from the matrices of second moments E A_ij² and fourth moments E A_ij⁴ (same shape).</summary>
    public static LatalaTerms FromMoments(Tensor second, Tensor fourth)
    {
        using var s = second.to_type(ScalarType.Float64);
        using var rows = s.sum(1L, false).max();
        using var cols = s.sum(0L, false).max();
        using var f = fourth.to_type(ScalarType.Float64).sum();
        return new(Math.Sqrt(rows.item<double>()), Math.Sqrt(cols.item<double>()), Math.Pow(f.item<double>(), 0.25));
    }

    /// <summary>The terms when every entry of a d×d matrix has the same moments E A² = m2, E A⁴ = m4.</summary>
    public static LatalaTerms Homogeneous(int d, double m2, double m4) => new(Math.Sqrt(d * m2), Math.Sqrt(d * m2), Math.Pow((double)d * d * m4, 0.25));
}
