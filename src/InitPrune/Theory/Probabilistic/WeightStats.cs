using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Experiments;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Reporting;
using InitPrune.Training;
using MathNet.Numerics.Distributions;
using static TorchSharp.torch;

namespace InitPrune.Theory;

/// <summary>
/// Statistics of one weight tensor (seed 003 App. D.1, Table 1 / Fig. 1): mean, variance, variance × fan-in and × max(fan-in, fan-out)
/// (the scale of assumption (iii)), excess kurtosis, and two normality tests against N(mean, variance): Kolmogorov–Smirnov (asymptotic
/// Kolmogorov p-value with Stephens' small-sample factor; conservative because mean and variance are estimated) and Anderson–Darling with
/// Stephens' correction A*² = A²(1 + 0.75/n + 2.25/n²) and the D'Agostino–Stephens p-value for estimated parameters.
/// </summary>
public sealed record WeightMoments(long Count, long FanIn, long FanOut, double Mean, double Variance, double VarianceTimesFanIn, double VarianceTimesMaxFan,
    double ExcessKurtosis, double KsStatistic, double KsPValue, double AdStatistic, double AdPValue);

public sealed record LayerWeightStats(string Name, long[] Shape, WeightMoments Initial, WeightMoments Trained);

public sealed record WeightStatsReport(string Dataset, string Model, string Init, int Epochs, double? TestAccuracy, IReadOnlyList<LayerWeightStats> Layers, double Seconds);

/// <summary>Seed 003's weight-statistics check: train a network, then the per-layer statistics of its initial and trained weights.</summary>
public static class WeightStats
{
    /// <summary>The statistics of <paramref name="values"/> (a layer with the given fan-in and fan-out).</summary>
    public static WeightMoments Of(double[] values, long fanIn, long fanOut)
    {
        int n = values.Length;
        if (n < 8) throw new InitPruneException($"{n} weights: the normality tests need at least 8");
        double mean = values.Average();
        double m2 = 0, m4 = 0;
        foreach (var v in values)
        {
            double c = (v - mean) * (v - mean);
            m2 += c;
            m4 += c * c;
        }
        double var = m2 / (n - 1), pop = m2 / n;
        double kurt = pop > 0 ? m4 / n / (pop * pop) - 3 : double.NaN;
        var (ks, ksP, ad, adP) = pop > 0 ? Normality(values, mean, Math.Sqrt(var)) : (double.NaN, double.NaN, double.NaN, double.NaN);
        return new(n, fanIn, fanOut, mean, var, var * fanIn, var * Math.Max(fanIn, fanOut), kurt, ks, ksP, ad, adP);
    }

    static (double Ks, double KsP, double Ad, double AdP) Normality(double[] values, double mean, double sd)
    {
        var z = values.Select(v => Normal.CDF(mean, sd, v)).Order().ToArray();
        int n = z.Length;
        double d = 0, a = 0;
        for (int i = 0; i < n; i++)
        {
            d = Math.Max(d, Math.Max((i + 1.0) / n - z[i], z[i] - (double)i / n));
            double lo = Math.Clamp(z[i], 1e-300, 1 - 1e-16), hi = Math.Clamp(z[n - 1 - i], 1e-300, 1 - 1e-16);
            a += (2 * i + 1) * (Math.Log(lo) + Math.Log(1 - hi));
        }
        double adStat = -n - a / n;
        double sqrtN = Math.Sqrt(n);
        return (d, KolmogorovP((sqrtN + 0.12 + 0.11 / sqrtN) * d), adStat, AndersonDarlingP(adStat * (1 + 0.75 / n + 2.25 / ((double)n * n))));
    }

    /// <summary>P(K &gt; t) for the Kolmogorov distribution: 2 Σ_{j≥1} (−1)^{j−1} e^{−2j²t²}.</summary>
    public static double KolmogorovP(double t)
    {
        if (t < 0.2) return 1;
        double s = 0;
        for (int j = 1; j <= 100; j++)
        {
            double term = Math.Exp(-2.0 * j * j * t * t);
            s += (j % 2 == 1 ? 1 : -1) * term;
            if (term < 1e-16) break;
        }
        return Math.Clamp(2 * s, 0, 1);
    }

    /// <summary>
    /// D'Agostino &amp; Stephens (1986, Table 4.9): p-value of the corrected A*² for normality with estimated mean and variance. The top
    /// piece's quadratic turns up at A*² = 5.709/(2·0.0186) ≈ 153 (where it is e^{−436}); beyond, the p-value is 0.
    /// </summary>
    public static double AndersonDarlingP(double a) => Math.Clamp(a switch
    {
        >= 153 => 0,
        >= 0.6 => Math.Exp(1.2937 - 5.709 * a + 0.0186 * a * a),
        >= 0.34 => Math.Exp(0.9177 - 4.279 * a - 1.38 * a * a),
        >= 0.2 => 1 - Math.Exp(-8.318 + 42.796 * a - 59.938 * a * a),
        _ => 1 - Math.Exp(-13.436 + 101.14 * a - 223.73 * a * a),
    }, 0, 1);

    /// <summary>fan-in = in·q², fan-out = out·q² for [out, in, (q, q)].</summary>
    public static (long FanIn, long FanOut) Fans(long[] shape)
    {
        long field = shape.Skip(2).Aggregate(1L, (a, b) => a * b);
        return (shape[1] * field, shape[0] * field);
    }

    static List<(string Name, long[] Shape, double[] Values)> Weights(nn.Module<Tensor, Tensor> net)
    {
        using var _ = no_grad();
        return [.. net.named_parameters().Where(p => p.parameter.dim() is 2 or 4).Select(p =>
        {
            using var cpu = p.parameter.detach().to_type(ScalarType.Float64).cpu();
            return (p.name, p.parameter.shape, cpu.flatten().data<double>().ToArray());
        })];
    }

    /// <summary>hist-LAYER.png: densities of the initial and trained weights (60 bins) beside N(mean, variance) of the trained ones.</summary>
    public static void PlotHistogram(string path, LayerWeightStats layer, double[] initial, double[] trained)
    {
        double lo = Math.Min(initial.Min(), trained.Min()), hi = Math.Max(initial.Max(), trained.Max());
        const int bins = 60;
        double w = (hi - lo) / bins;
        if (w <= 0) return;
        double[] centers = [.. Enumerable.Range(0, bins).Select(i => lo + (i + 0.5) * w)];
        double[] Density(double[] v)
        {
            var c = new double[bins];
            foreach (var x in v) c[Math.Clamp((int)((x - lo) / w), 0, bins - 1)]++;
            return [.. c.Select(k => k / (v.Length * w))];
        }
        var t = layer.Trained;
        Plots.Lines(path, $"{layer.Name}: trained mean {t.Mean:g3}, var×fan-in {t.VarianceTimesFanIn:g3}, AD p {t.AdPValue:g3}", "weight", "density",
            [new("initial", centers, Density(initial)), new("trained", centers, Density(trained)),
             new("N(mean, var) of trained", centers, [.. centers.Select(c => Normal.PDF(t.Mean, Math.Sqrt(t.Variance), c))])]);
    }

    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="dataset"/> (Adam, lr 0.001, batch 512 as seed 003 App. D.1) for <paramref name="epochs"/>
    /// epochs and returns the statistics of every weight matrix and convolution kernel before and after; with <paramref name="plotDir"/>,
    /// writes hist-LAYER.png there for each.
    /// </summary>
    public static WeightStatsReport Run(string dataset, string? dataDir, ModelSpec model, InitSpec init, int epochs, long seed, string? plotDir = null,
        int? maxSteps = null, Action<Trainer>? configure = null)
    {
        if (epochs < 0) throw new InitPruneException($"--epochs {epochs} must be ≥ 0");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var data = DatasetRegistry.Load(dataset, dataDir);
        using var net = Setup.Model(data, model, init, seed);
        var initial = Weights(net);
        double? acc = null;
        if (epochs > 0)
        {
            var trainer = new Trainer(new TrainConfig(Epochs: epochs, BatchSize: 512, LearningRate: 0.001, Optimizer: "adam", MaxSteps: maxSteps));
            configure?.Invoke(trainer);
            acc = trainer.Train(net, data, seed)[^1].TestAccuracy;
        }
        var trained = Weights(net);
        var layers = new List<LayerWeightStats>();
        foreach (var p in initial)
        {
            var (fanIn, fanOut) = Fans(p.Shape);
            var after = trained.Single(t => t.Name == p.Name).Values;
            var layer = new LayerWeightStats(p.Name, p.Shape, Of(p.Values, fanIn, fanOut), Of(after, fanIn, fanOut));
            if (plotDir is not null) PlotHistogram(Path.Combine(plotDir, $"hist-{p.Name.Replace('.', '-')}.png"), layer, p.Values, after);
            layers.Add(layer);
        }
        return new(dataset, model.Name, init.Name, epochs, acc, layers, sw.Elapsed.TotalSeconds);
    }
}
