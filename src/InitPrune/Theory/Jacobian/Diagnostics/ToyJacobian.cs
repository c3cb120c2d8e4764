using System.Diagnostics;
using InitPrune.Engine;
using MathNet.Numerics.Statistics;

namespace InitPrune.Theory;

/// <summary>
/// Seed 002 Theorem 4's toy model: learn y*(x) = αx from {(x_i, αx_i)}_{i ≤ N}, x_i ~ N(0, 1) (drawn once), with the width-1 depth-L linear
/// network y(x) = (Π_l w_l) x, w_l ~ N(0, σw²) i.i.d. (σw² = 1 gives the theorem's E[A₀] = 1), by full-batch GD on L = (1/2N) Σ (y(x_i) − αx_i)²
/// at learning rate γ, over <paramref name="Trials"/> weight draws.
/// </summary>
public sealed record ToyJacobianRequest(int Depth = 3, double Alpha = 1, double LearningRate = 1e-3, int Samples = 100, int Trials = 100_000,
    int Steps = 100, double SigmaW2 = 1, long Seed = 0);

/// <summary>
/// One GD step from w: J = Π w_l, A = y(1)(y(1) − α) = J(J − α), S = Σ_l Π_{l'≠l} w_{l'}², JΓ = x̄² A S (the theorem's identity, with Γ computed
/// from the gradients), the first-order change −2γ JΓ of J² and the exact change J₁² − J₀².
/// </summary>
public sealed record ToyStep(double J0, double J1, double A, double S, double JGamma, double FirstOrder, double Exact);

/// <summary>
/// Theorem 4 by Monte Carlo: the means (± standard errors) of A₀, of the first-order change −2γ x̄² A₀ S₀ and of the exact first-step change of
/// J², beside their closed forms E[A₀] = σw^{2L} and E[−2γ x̄² A₀ S₀] = −2γ x̄² L σw² (3σw⁴)^{L−1} (E[J S] = 0 by symmetry, E[J² S] = Σ_l E[w_l²]
/// Π_{l'≠l} E[w_{l'}⁴]); the fraction of draws whose J² falls at the first step (those with A₀ &gt; 0 to first order); and per GD step t = 0…T the
/// median J_t² and the fraction of draws with J_t² &lt; J_0².
/// </summary>
public sealed record ToyJacobianReport(int Depth, double Alpha, double LearningRate, int Samples, double MeanX2, int Trials, int Steps, double SigmaW2, long Seed,
    double MeanA0, double StandardErrorA0, double TheoryA0, double MeanFirstOrder, double StandardErrorFirstOrder, double TheoryFirstOrder,
    double MeanExactChange, double StandardErrorExactChange, double FractionDecreasing, double[] MedianJ2, double[] FractionBelowStart, double Seconds);

/// <summary>Seed 002 §4.3 / App. D: the descent of J² at the first GD step of a scalar linear network.</summary>
public static class ToyJacobian
{
    /// <summary>∂L/∂w_l = x̄² (J − α) Π_{l'≠l} w_{l'} for L = (1/2N) Σ (J x_i − α x_i)² = ½ x̄² (J − α)².</summary>
    public static double[] Gradient(double[] w, double alpha, double meanX2)
    {
        double j = Product(w);
        return [.. Enumerable.Range(0, w.Length).Select(l => meanX2 * (j - alpha) * ProductExcept(w, l))];
    }

    /// <summary>One GD step w ← w − γ ∇L and the quantities of Theorem 4 at w.</summary>
    public static ToyStep Step(double[] w, double alpha, double meanX2, double gamma, out double[] next)
    {
        var g = Gradient(w, alpha, meanX2);
        next = [.. w.Select((v, l) => v - gamma * g[l])];
        double j0 = Product(w), j1 = Product(next);
        double s = Enumerable.Range(0, w.Length).Sum(l => Math.Pow(ProductExcept(w, l), 2));
        // Γ = Σ_l' [Π_{l≠l'} w_l] ∂L/∂w_l' (seed 002 App. D), J Γ = x̄² A S.
        double gammaTerm = Enumerable.Range(0, w.Length).Sum(l => ProductExcept(w, l) * g[l]);
        double a = j0 * (j0 - alpha);
        double jGamma = j0 * gammaTerm;
        return new ToyStep(j0, j1, a, s, jGamma, -2 * gamma * jGamma, j1 * j1 - j0 * j0);
    }

    /// <summary>E[A₀] = E[J²] − α E[J] = σw^{2L}.</summary>
    public static double TheoryA0(int depth, double sigmaW2) => Math.Pow(sigmaW2, depth);

    /// <summary>E[−2γ x̄² A₀ S₀] = −2γ x̄² L σw² (3σw⁴)^{L−1}.</summary>
    public static double TheoryFirstOrder(int depth, double sigmaW2, double gamma, double meanX2) =>
        -2 * gamma * meanX2 * depth * sigmaW2 * Math.Pow(3 * sigmaW2 * sigmaW2, depth - 1);

    public static ToyJacobianReport Run(ToyJacobianRequest x)
    {
        var sw = Stopwatch.StartNew();
        BoundInputs.Require(x.Depth >= 1, $"depth = {x.Depth} must be ≥ 1");
        BoundInputs.Require(x.Samples >= 1, $"samples = {x.Samples} must be ≥ 1");
        BoundInputs.Require(x.Trials >= 2, $"trials = {x.Trials} must be ≥ 2");
        BoundInputs.Require(x.Steps >= 1, $"steps = {x.Steps} must be ≥ 1");
        BoundInputs.Positive(x.Alpha, "alpha");
        BoundInputs.Positive(x.LearningRate, "learning rate");
        BoundInputs.Positive(x.SigmaW2, "sigma_w^2");
        var data = new Random((int)(Seeds.For(x.Seed, "toy-jacobian/data") & int.MaxValue));
        double meanX2 = Enumerable.Range(0, x.Samples).Select(_ => Math.Pow(Normal(data), 2)).Average();
        var rng = new Random((int)(Seeds.For(x.Seed, "toy-jacobian/weights") & int.MaxValue));
        double sd = Math.Sqrt(x.SigmaW2);
        var a0 = new double[x.Trials];
        var first = new double[x.Trials];
        var exact = new double[x.Trials];
        var j2 = new double[x.Steps + 1, x.Trials];
        for (int t = 0; t < x.Trials; t++)
        {
            double[] w = [.. Enumerable.Range(0, x.Depth).Select(_ => sd * Normal(rng))];
            for (int k = 0; k < x.Steps; k++)
            {
                var step = Step(w, x.Alpha, meanX2, x.LearningRate, out var next);
                if (k == 0)
                {
                    a0[t] = step.A;
                    first[t] = step.FirstOrder;
                    exact[t] = step.Exact;
                }
                j2[k, t] = step.J0 * step.J0;
                w = next;
                if (k == x.Steps - 1) j2[k + 1, t] = Math.Pow(Product(w), 2);
            }
        }
        double[] median = new double[x.Steps + 1], below = new double[x.Steps + 1];
        for (int k = 0; k <= x.Steps; k++)
        {
            var row = Enumerable.Range(0, x.Trials).Select(t => j2[k, t]).ToArray();
            median[k] = row.Median();
            below[k] = Enumerable.Range(0, x.Trials).Count(t => j2[k, t] < j2[0, t]) / (double)x.Trials;
        }
        static double Se(double[] v) => v.StandardDeviation() / Math.Sqrt(v.Length);
        return new ToyJacobianReport(x.Depth, x.Alpha, x.LearningRate, x.Samples, meanX2, x.Trials, x.Steps, x.SigmaW2, x.Seed,
            a0.Average(), Se(a0), TheoryA0(x.Depth, x.SigmaW2), first.Average(), Se(first), TheoryFirstOrder(x.Depth, x.SigmaW2, x.LearningRate, meanX2),
            exact.Average(), Se(exact), exact.Count(v => v < 0) / (double)x.Trials, median, below, sw.Elapsed.TotalSeconds);
    }

    /// <summary>toy-jacobian.png: the median J_t² and the fraction of draws below J_0² against the GD step.</summary>
    public static void Plot(string path, ToyJacobianReport r)
    {
        double[] steps = [.. Enumerable.Range(0, r.Steps + 1).Select(k => (double)k)];
        Reporting.Plots.Lines(path, $"Theorem 4 toy model, L = {r.Depth}, α = {r.Alpha:g3}, γ = {r.LearningRate:g3}, {r.Trials} draws", "GD step t", "value",
            [new("median J_t²", steps, r.MedianJ2), new("fraction with J_t² < J_0²", steps, r.FractionBelowStart)]);
    }

    static double Product(double[] w) => w.Aggregate(1.0, (a, b) => a * b);

    static double ProductExcept(double[] w, int skip)
    {
        double p = 1;
        for (int l = 0; l < w.Length; l++) if (l != skip) p *= w[l];
        return p;
    }

    static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
