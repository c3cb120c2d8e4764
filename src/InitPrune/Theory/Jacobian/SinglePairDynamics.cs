using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Theory.Jacobian;

/// <summary>
/// Seed 002 §4's learning rates for n-wide, L-deep networks: γ = c/(nL³) (Theorem 2's γ = O(n⁻¹L⁻³)),
/// γ = c/(n log(n)^{3/2}) (Theorem 3's stagnation bound, c &lt; 1) and γ = c/n (feature learning, μP's order).
/// </summary>
public enum RateRule { Theorem2, Theorem3, Mu }

/// <summary>A single-pair study: every width × depth, <paramref name="Seeds"/> draws each, <paramref name="Steps"/> GD steps, ‖J‖ every <paramref name="Every"/>.</summary>
public sealed record SinglePairRequest(int[] Widths, int[] Depths, RateRule Rule, double C, int Steps, int Every, int Seeds, double SigmaW2 = 2, long Seed = 0)
{
    public void Validate()
    {
        if (Widths.Length == 0 || Widths.Any(n => n < 2)) throw new InitPruneException("--widths must be widths n ≥ 2");
        if (Depths.Length == 0 || Depths.Any(l => l < 1)) throw new InitPruneException("--depths must be depths L ≥ 1 (hidden-to-hidden weight matrices)");
        if (!(C > 0) || !double.IsFinite(C)) throw new InitPruneException($"--c {C} is impossible: use a positive constant");
        if (Steps < 1) throw new InitPruneException($"--steps {Steps} is impossible: take at least 1 gradient step");
        if (Every < 1 || Every > Steps) throw new InitPruneException($"--every {Every} is impossible: measure ‖J‖ every 1 … {Steps} steps");
        if (Seeds < 1) throw new InitPruneException($"--seeds {Seeds} is impossible: use at least 1 draw");
        if (!(SigmaW2 > 0) || !double.IsFinite(SigmaW2)) throw new InitPruneException($"--sigma-w2 {SigmaW2} is impossible: use a positive variance");
    }

    /// <summary>γ of this rule at width n and depth L.</summary>
    public double Rate(int n, int depth) => Rule switch
    {
        RateRule.Theorem2 => C / (n * Math.Pow(depth, 3)),
        RateRule.Theorem3 => C / (n * Math.Pow(Math.Log(n), 1.5)),
        _ => C / n,
    };
}

/// <summary>One width × depth: means (± std over draws) of ‖J^0‖, max_t |‖J^t‖ − ‖J^0‖| and the loss; the mean ‖J^t‖ series.</summary>
public sealed record SinglePairRow(int Width, int Depth, double Rate, double J0, double J0Std, double MaxChange, double MaxChangeStd,
    double FinalChange, double LossStart, double LossEnd, int[] Steps, double[] MeanNorm);

/// <summary>
/// The rows, and per depth the least-squares slope of log(max change) against log n: Theorem 3 predicts a negative one
/// (the change vanishes as n grows), Theorem 2 a bounded change (slope ≤ 0 up to sub-exponential terms).
/// </summary>
public sealed record SinglePairReport(SinglePairRequest Request, IReadOnlyList<SinglePairRow> Rows, IReadOnlyDictionary<int, double> ChangeSlope, double Seconds);

/// <summary>
/// Seed 002 §4, Eq. (1)–(2) without the output layer: Y_0 = W_in x, Y_k = W_k φ(Y_{k−1}) (ReLU), full-batch GD on
/// W_1 … W_L (W_in fixed) for one pair (x, z) with L(W) = (2n)⁻¹‖Y_L(x) − z‖², tracking ‖J_1^t‖, J_1 = ∏ W_l D_{l−1}
/// at x. Float64 throughout; x, z ~ N(0, I_n), W_in ~ N(0, 1/n), W_l ~ N(0, σw²/n).
/// </summary>
public static class SinglePairDynamics
{
    public static SinglePairReport Run(SinglePairRequest request, Action<SinglePairRow>? progress = null)
    {
        request.Validate();
        var clock = Stopwatch.StartNew();
        var rows = new List<SinglePairRow>();
        foreach (var depth in request.Depths)
            foreach (var n in request.Widths)
            {
                var runs = Enumerable.Range(0, request.Seeds).Select(s => Trajectory(n, depth, request, s)).ToList();
                var j0 = runs.Select(r => r.Norms[0]).ToArray();
                var change = runs.Select(r => r.Norms.Max(v => Math.Abs(v - r.Norms[0]))).ToArray();
                var row = new SinglePairRow(n, depth, request.Rate(n, depth), j0.Average(), Std(j0), change.Average(), Std(change),
                    runs.Average(r => r.Norms[^1] - r.Norms[0]), runs.Average(r => r.LossStart), runs.Average(r => r.LossEnd),
                    runs[0].Steps, [.. Enumerable.Range(0, runs[0].Norms.Length).Select(i => runs.Average(r => r.Norms[i]))]);
                rows.Add(row);
                progress?.Invoke(row);
            }
        var slopes = request.Widths.Length < 2 ? new Dictionary<int, double>() : rows.GroupBy(r => r.Depth).ToDictionary(g => g.Key,
            g => Slope([.. g.Select(r => Math.Log(r.Width))], [.. g.Select(r => Math.Log(Math.Max(r.MaxChange, 1e-300)))]));
        return new SinglePairReport(request, rows, slopes, clock.Elapsed.TotalSeconds);
    }

    /// <summary>One draw: ‖J_1^t‖ at t = 0, Every, 2·Every, …, Steps and the loss before the first and after the last step.</summary>
    internal static (int[] Steps, double[] Norms, double LossStart, double LossEnd) Trajectory(int n, int depth, SinglePairRequest request, int draw)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator((ulong)Seeds.For(request.Seed, $"single-pair n={n} L={depth} draw={draw}"));
        var x = randn(n, dtype: float64, generator: g);
        var z = randn(n, dtype: float64, generator: g);
        var y0 = randn(n, n, dtype: float64, generator: g).div(Math.Sqrt(n)).matmul(x);
        var w = Enumerable.Range(0, depth).Select(_ => randn(n, n, dtype: float64, generator: g).mul(Math.Sqrt(request.SigmaW2 / n))).ToList();
        double gamma = request.Rate(n, depth), lossStart = double.NaN, lossEnd = double.NaN;
        var steps = new List<int>();
        var norms = new List<double>();
        for (int t = 0; t <= request.Steps; t++)
        {
            if (t % request.Every == 0 || t == request.Steps)
            {
                steps.Add(t);
                norms.Add(Norm(w, y0));
            }
            if (t == request.Steps) break;
            using var step = NewDisposeScope();
            var (loss, updated) = Step(w, y0, z, gamma);
            if (t == 0) lossStart = loss;
            foreach (var old in w) old.Dispose();
            w = [.. updated.Select(u => u.MoveToOuterDisposeScope())];
        }
        using (no_grad()) lossEnd = Loss(w, y0, z).ToDouble();
        return ([.. steps], [.. norms], lossStart, lossEnd);
    }

    /// <summary>Y_L from Y_0: Y_k = W_k φ(Y_{k−1}) (seed 002 Eq. 1).</summary>
    internal static Tensor Forward(IReadOnlyList<Tensor> w, Tensor y0)
    {
        var y = y0;
        foreach (var wk in w) y = wk.matmul(nn.functional.relu(y));
        return y;
    }

    static Tensor Loss(IReadOnlyList<Tensor> w, Tensor y0, Tensor z) => Forward(w, y0).sub(z).square().sum().div(2.0 * y0.shape[0]);

    /// <summary>One GD step W_l ← W_l − γ ∂L/∂W_l (seed 002 Eq. 2): the loss before it and the new weights.</summary>
    internal static (double Loss, List<Tensor> Weights) Step(IReadOnlyList<Tensor> w, Tensor y0, Tensor z, double gamma)
    {
        using var grad = enable_grad();
        var leaves = w.Select(t => t.detach().requires_grad_(true)).ToList();
        var loss = Loss(leaves, y0, z);
        var grads = autograd.grad([loss], leaves);
        using var _ = no_grad();
        return (loss.ToDouble(), [.. leaves.Zip(grads, (p, d) => p.detach().sub(d.mul(gamma)))]);
    }

    /// <summary>J_1 = W_L D_{L−1} ⋯ W_1 D_0 at Y_0 (seed 002 §2), D_k = Diag(1[Y_k &gt; 0]), as an explicit n × n matrix.</summary>
    internal static Tensor Product(IReadOnlyList<Tensor> w, Tensor y0)
    {
        using var _ = no_grad();
        Tensor? j = null;
        var y = y0;
        foreach (var wk in w)
        {
            var wd = wk.mul(y.gt(0).to(float64).unsqueeze(0)); // W_k D_{k−1}: column i scaled by 1[Y_{k−1,i} > 0]
            j = j is null ? wd : wd.matmul(j);
            y = wk.matmul(nn.functional.relu(y));
        }
        return j!;
    }

    /// <summary>‖J_1‖: the largest singular value of <see cref="Product"/>.</summary>
    static double Norm(IReadOnlyList<Tensor> w, Tensor y0)
    {
        using var scope = NewDisposeScope();
        return linalg.svdvals(Product(w, y0))[0].ToDouble();
    }

    static double Std(double[] v)
    {
        if (v.Length < 2) return 0;
        double m = v.Average();
        return Math.Sqrt(v.Sum(a => (a - m) * (a - m)) / (v.Length - 1));
    }

    static double Slope(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average();
        return x.Zip(y, (a, b) => (a - mx) * (b - my)).Sum() / x.Sum(a => (a - mx) * (a - mx));
    }

    /// <summary>Two figures: mean ‖J^t‖ − ‖J^0‖ against the step (one line per width × depth), and max |change| against n.</summary>
    public static IReadOnlyList<string> Plot(string dir, SinglePairReport report)
    {
        var rule = report.Request.Rule switch { RateRule.Theorem2 => "γ = c/(nL³)", RateRule.Theorem3 => "γ = c/(n log(n)^1.5)", _ => "γ = c/n" };
        var traces = Path.Combine(dir, "single-pair-trajectories.png");
        Plots.Lines(traces, $"Seed 002 §4: ‖J^t‖ − ‖J^0‖ under full-batch GD on one pair, {rule}, c = {report.Request.C:g3}", "GD step t", "‖J^t‖ − ‖J^0‖",
            [.. report.Rows.Select(r => new Series($"n={r.Width}, L={r.Depth}", [.. r.Steps.Select(s => (double)s)], [.. r.MeanNorm.Select(v => v - r.MeanNorm[0])]))], width: 1000);
        var change = Path.Combine(dir, "single-pair-change-vs-width.png");
        Plots.Lines(change, $"Seed 002 Theorems 2–3: max_t |‖J^t‖ − ‖J^0‖| against width, {rule}", "width n", "max change (mean ± std over draws)",
            [.. report.Rows.GroupBy(r => r.Depth).Select(g => new Series($"L={g.Key}", [.. g.Select(r => (double)r.Width)], [.. g.Select(r => r.MaxChange)], [.. g.Select(r => r.MaxChangeStd)]))],
            xTickLabels: [.. report.Rows.Select(r => r.Width).Distinct().Order().Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        return [traces, change];
    }
}
