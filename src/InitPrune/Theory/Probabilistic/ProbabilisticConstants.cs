namespace InitPrune.Theory;

/// <summary>Default universal constants, read off seed 003's own Monte-Carlo tables (App. D.3–D.4).</summary>
public static class ProbabilisticConstants
{
    /// <summary>Largest c0 of Table 2 for K = 1 (n1 = n2 = 32, q = 99.99%); c0 scales linearly with K.</summary>
    public const double Table2C0 = 1.218;

    /// <summary>Smallest δ0 of Table 2 (n = 512, q = 99.99%).</summary>
    public const double Table2Delta0 = 0.005;

    /// <summary>Largest C of Table 3 (U[−√(3/d), √(3/d)], d = 512).</summary>
    public const double Table3C = 0.627;
}
