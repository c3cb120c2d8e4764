using System.Text.RegularExpressions;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.IO;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.Jacobian;

public sealed class ApproximationStudyTests : IDisposable
{
    readonly TempDir root = new();

    public void Dispose() => root.Dispose();

    [Fact]
    public void AtWidth256IidTheEntriesLookLikeIndependentFairCoins()
    {
        var r = ApproximationStudy.Run(new ApproximationRequest(Width: 256, Depth: 6, Simulations: 300, Layer: 3, Pairs: 100, Repeats: 2, Seed: 1));
        Assert.Equal(300, r.Simulations);
        Assert.True(r.Frequency.Layer.Contains(0.5), $"frequency {r.Frequency.Layer.Fraction} [{r.Frequency.Layer.Lower}, {r.Frequency.Layer.Upper}]");
        Assert.Equal(2 * 256 * 300, r.Frequency.Layer.Trials);
        Assert.All(r.Frequency.PerLayer, p => Assert.True(p.Contains(0.5) || Math.Abs(p.Fraction - 0.5) < 0.005));
        Assert.Equal(200, r.WithinLayer.PValues.Length);
        Assert.True(r.WithinLayer.RandomizedUniformity.PValue >= 0.01, $"within-layer KS p {r.WithinLayer.RandomizedUniformity.PValue}");
        Assert.True(r.AcrossLayers.RandomizedUniformity.PValue >= 0.01, $"across-layer KS p {r.AcrossLayers.RandomizedUniformity.PValue}");
        Assert.True(r.Verdict.FrequencyHalf && r.Verdict.WithinLayerUniform && r.Verdict.AcrossLayersUniform);
        // W_{l+1} is drawn after Y_l: T_W(W_{l+1}) is independent of T_D(D_l) by construction.
        Assert.True(r.Weights.Next!.PValue >= 0.01, $"control correlation {r.Weights.Next.R}");
    }

    [Fact]
    public void TwAndTdOfTheSameLayerCorrelateAsTheGaussianLimitPredicts()
    {
        // Y_i = Σ_j s_ij |W_ij| φ_j: corr(Y_i, Σ_j s_ij) = √(2/π)·E φ/√(E φ²) = √2/π, and for the sign of a Gaussian ×√(2/π): ρ = 2/π^{3/2} ≈ 0.359;
        // averages of pairs independent across rows (given φ) keep ρ. Tolerance: 4 standard errors (1 − ρ²)/√N.
        var r = ApproximationStudy.Run(new ApproximationRequest(Width: 128, Depth: 4, Simulations: 1000, Layer: 2, Pairs: 4, Seed: 2));
        double rho = 2 / Math.Pow(Math.PI, 1.5);
        Assert.InRange(r.Weights.Same.R, rho - 4 * (1 - rho * rho) / Math.Sqrt(1000), rho + 4 * (1 - rho * rho) / Math.Sqrt(1000));
        Assert.True(r.Weights.Same.PValue < 1e-10);
        Assert.False(r.Verdict.WeightsUncorrelated);
    }

    [Fact]
    public void StronglyCorrelatedWeightsAreDetectedAsDependent()
    {
        var r = ApproximationStudy.Run(new ApproximationRequest(Width: 64, Depth: 6, Simulations: 300, Init: ApproximationInit.Correlated, Eta: 0.9, Layer: 3, Pairs: 32, Seed: 1));
        Assert.Equal("correlated", r.Source);
        Assert.Equal(0.81 / 1.81, r.WeightCorrelation, 12);
        Assert.True(r.WithinLayer.RandomizedUniformity.PValue < 1e-6, $"KS p {r.WithinLayer.RandomizedUniformity.PValue}");
        Assert.True(r.WithinLayer.FractionBelow005 > 0.5);
        Assert.False(r.Verdict.Holds);
    }

    /// <summary>A d → n → n → n → 1 MLP file whose hidden-to-hidden layers repeat 2 distinct rows (units in 2 groups of identical D entries).</summary>
    string DuplicatedRows(string name, int d, int n, long seed)
    {
        using var gen = new Generator((ulong)seed);
        Tensor Rows(int inputs) => Sample.Normal([2, inputs], 1 / Math.Sqrt(inputs), ScalarType.Float32, gen).repeat_interleave(n / 2, 0).contiguous();
        var file = root.File(name);
        Safetensors.Save(file, new Dictionary<string, Tensor>
        {
            ["layers.0.weight"] = Sample.Normal([n, d], 1 / Math.Sqrt(d), ScalarType.Float32, gen),
            ["layers.2.weight"] = Rows(n),
            ["layers.4.weight"] = Rows(n),
            ["layers.6.weight"] = Sample.Normal([1, n], 1 / Math.Sqrt(n), ScalarType.Float32, gen),
        });
        return file;
    }

    [Fact]
    public void DuplicatedRowsGiveIdenticalEntriesAndAreDetected()
    {
        var file = DuplicatedRows("dup.safetensors", 16, 64, 5);
        var d = ActivationPatterns.FromWeights([file], 200, 0);
        Assert.Equal(200, d.Simulations);
        Assert.Equal(2, d.Depth);
        Assert.Equal(d.Entry(1, 0), d.Entry(1, 1));
        var test = IndependenceTests.ChiSquare(Table2x2.Of(d.Entry(1, 0), d.Entry(1, 1)));
        Assert.True(test.PValue < 1e-20);
        var r = ApproximationStudy.Run(new ApproximationRequest(Simulations: 200, WeightFiles: [file], Layer: 1, Pairs: 32));
        Assert.Equal("weights", r.Source);
        Assert.Equal("inputs", r.SimulatedOver);
        Assert.True(r.WithinLayer.RandomizedUniformity.PValue < 1e-4, $"KS p {r.WithinLayer.RandomizedUniformity.PValue}");
        Assert.False(r.Verdict.Holds);
        // One network over inputs: T_W never varies, so its correlation with T_D is undefined.
        Assert.True(double.IsNaN(r.Weights.Same.R));
        Assert.Null(r.Verdict.WeightsUncorrelated);
    }

    [Fact]
    public void WeightFilesAreReadInLayerOrderWithBiases()
    {
        // A 2 → 2 → 2 → 1 MLP with layers stored out of text order (layers.10 after layers.2); one simulation per file.
        var files = new List<string>();
        for (int f = 0; f < 3; f++)
        {
            var file = root.File($"net{f}.safetensors");
            Safetensors.Save(file, new Dictionary<string, Tensor>
            {
                ["layers.0.weight"] = tensor(new float[] { 1, -1, 0, 1 }, [2, 2]),
                ["layers.0.bias"] = tensor(new float[] { 0, -0.5f + f }),
                ["layers.2.weight"] = tensor(new float[] { 1, 1, -1, 0 }, [2, 2]),
                ["layers.10.weight"] = tensor(new float[] { 1, 1 }, [1, 2]),
            });
            files.Add(file);
        }
        var d = ActivationPatterns.FromWeights(files, 0, 4);
        var x = ActivationPatterns.Input(2, 4);
        for (int f = 0; f < 3; f++)
        {
            double y00 = x[0] - x[1], y01 = x[1] - 0.5 + f;
            double y10 = Math.Max(y00, 0) + Math.Max(y01, 0), y11 = -Math.Max(y00, 0);
            Assert.Equal([y00 > 0, y01 > 0, y10 > 0, y11 > 0], [d.Active(f, 0, 0), d.Active(f, 0, 1), d.Active(f, 1, 0), d.Active(f, 1, 1)]);
            Assert.Equal(0.5, d.PositiveWeightFraction(f, 1));
        }
    }

    [Fact]
    public void BadRequestsAreUserErrors()
    {
        Assert.Throws<InitPruneException>(() => ApproximationStudy.Run(new ApproximationRequest(Width: 8, Depth: 3, Layer: 4)));
        Assert.Throws<InitPruneException>(() => ApproximationStudy.Run(new ApproximationRequest(Simulations: 2)));
        Assert.Throws<InitPruneException>(() => ApproximationStudy.Run(new ApproximationRequest(Init: ApproximationInit.Correlated, Eta: -1)));
        Assert.Throws<InitPruneException>(() => ApproximationStudy.Run(new ApproximationRequest(WeightFiles: [root.File("a"), root.File("b")])));
    }

    [Fact]
    public void CliWritesJsonAndPlots()
    {
        var dir = root.Sub("cli");
        var r = CliRunner.Run("theory", "approximation", "--width", "16", "--depth", "4", "--simulations", "60", "--repeats", "1", "--init", "correlated",
            "--eta", "0.5", "--yates", "--json", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var j = r.Json;
        Assert.Equal("correlated", j.GetProperty("source").GetString());
        Assert.Equal(0.5, j.GetProperty("eta").GetDouble());
        Assert.True(j.GetProperty("yates").GetBoolean());
        Assert.Equal(4, j.GetProperty("layer").GetInt32());
        Assert.Equal(3, j.GetProperty("entries").GetProperty("values").GetArrayLength());
        Assert.Equal(60, j.GetProperty("entries").GetProperty("values")[0].GetArrayLength());
        Assert.Equal(5, j.GetProperty("frequency").GetProperty("per_layer").GetArrayLength());
        Assert.True(j.GetProperty("within_layer").TryGetProperty("uniformity", out _));
        Assert.Equal(60, j.GetProperty("weights").GetProperty("tw").GetArrayLength());
        foreach (var f in new[] { "approximation.json", "scatter-1-2.png", "scatter-1-3.png", "scatter-2-3.png", "tw-td.png", "pvalues.png", "frequency.png" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
    }

    [Fact]
    public void CliPrintsTheSummary()
    {
        var r = CliRunner.Run("theory", "approximation", "--width", "16", "--depth", "3", "--simulations", "50", "--out", root.Sub("human"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("frequency of 1s in D_3", r.Stdout);
        Assert.Contains("KS against U(0, 1)", r.Stdout);
        Assert.Contains("T_W(W_3) against T_D(D_3)", r.Stdout);
    }

    [Theory]
    [InlineData("--init", "orthogonal")]
    [InlineData("--eta", "0.3")]
    [InlineData("--scale", "huge")]
    [InlineData("--weights", "/nonexistent/w.safetensors")]
    [InlineData("--layer", "99")]
    [InlineData("--simulations", "1")]
    public void CliBadInputIsOneLine(string option, string value)
    {
        var r = CliRunner.Run("theory", "approximation", option, value, "--out", root.Sub(Guid.NewGuid().ToString("N")));
        CliRunner.AssertOneLineError(r);
    }

    [Fact]
    public void ToyJacobianCliWritesJson()
    {
        var dir = root.Sub("toy");
        var r = CliRunner.Run("theory", "toy-jacobian", "--depth", "2", "--trials", "2000", "--steps", "5", "--json", "--out", dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var j = r.Json;
        Assert.Equal(2, j.GetProperty("depth").GetInt32());
        Assert.Equal(1, j.GetProperty("theory_a0").GetDouble());
        Assert.Equal(6, j.GetProperty("median_j2").GetArrayLength());
        Assert.True(File.Exists(Path.Combine(dir, "toy-jacobian.json")));
        Assert.True(File.Exists(Path.Combine(dir, "toy-jacobian.png")));
        CliRunner.AssertOneLineError(CliRunner.Run("theory", "toy-jacobian", "--lr", "0", "--out", root.Sub("toy-bad")));
    }

    [Theory]
    [InlineData("approximation", "--scale", "--width", "--depth", "--simulations", "--repeats", "--layer", "--pairs", "--sigma-w2", "--init", "--eta", "--weights", "--input-dim", "--yates", "--level", "--seed", "--json", "--out")]
    [InlineData("toy-jacobian", "--depth", "--alpha", "--lr", "--samples", "--trials", "--steps", "--sigma-w2", "--seed", "--json", "--out")]
    public void HelpDocumentsEveryOption(string command, params string[] options)
    {
        // As CliTests.HelpDocumentsEveryOption, for the two-word commands.
        var r = CliRunner.Run("theory", command, "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var o in options) Assert.Contains(o, r.Stdout);
        var optionLines = r.Stdout.Split('\n').Where(l => l.TrimStart().StartsWith("--")).ToList();
        Assert.NotEmpty(optionLines);
        Assert.All(optionLines, l => Assert.Matches(new Regex(@"^\s+--\S+.*\s{2,}\S"), l));
    }
}
