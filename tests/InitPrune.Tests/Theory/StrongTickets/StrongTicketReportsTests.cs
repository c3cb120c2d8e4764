using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Tests.Data;
using InitPrune.Tests.Theory.MeanField;
using InitPrune.Theory;
using static TorchSharp.torch;

namespace InitPrune.Tests.Theory.StrongTickets;

/// <summary>The seed 004 commands' library entry points against hand-computed widths, Lemma 3's closed form and Lemma 4's counterexample.</summary>
public class StrongTicketReportsTests
{
    [Fact]
    public void WidthOfAOneNeuronTargetIsTheHandComputedOne()
    {
        // [1, 1], ε = 0.1, δ = 0.05, C = 2: ε₁ = ε/(√2·2), n_{1,0} = ⌈C log(2/ε₁)⌉ = 9 (main text), ⌈C log(40)⌉ = 8 (appendix).
        var report = StrongTicketReports.Width(new([1, 1], 0.1, 0.05, 2, [TicketBoundVariant.MainText, TicketBoundVariant.Appendix]));
        Assert.Equal(1, report.Target.InputWidth);
        Assert.Equal([TicketBoundVariant.MainText, TicketBoundVariant.Appendix], report.Results.Select(r => r.Variant));
        Assert.Equal((long)Math.Ceiling(2 * Math.Log(2 / (0.1 / (Math.Sqrt(2) * 2)))), report.Results[0].Layers[0].WideWidth);
        Assert.Equal(9, report.Results[0].Layers[0].WideWidth);
        Assert.Equal(8, report.Results[1].Layers[0].WideWidth);
        Assert.Null(report.Lemma4Checks); // no target file, nothing to check
        Assert.Throws<InitPruneException>(() => StrongTicketReports.Width(new([1, 1], 2, 0.05, 2, [TicketBoundVariant.MainText])));
    }

    [Fact]
    public void WidthChecksLemma4OnATargetFileAndFindsTheCounterexample()
    {
        // f(x) = φ(Σᵢ φ(δx + δ)), n = 200 hidden neurons (TicketBoundTests): shifting by +ε_l moves f at x = 1 by
        // n(2δ + 2ε₁)(1 + ε₂) − 2nδ ≫ ε, and x = 1 is one of the probes (the corners of [−1, 1]^n_0).
        const int n = 200;
        const double d = 1e-3, eps = 0.1;
        using var dir = new TempDir();
        var file = dir.File("target.safetensors");
        Safetensors.Save(file, new Dictionary<string, Tensor>
        {
            ["layers.0.weight"] = full(n, 1, d, float64),
            ["layers.0.bias"] = full(n, d, float64),
            ["layers.2.weight"] = ones(1, n, float64),
        });
        var report = StrongTicketReports.Width(new([], eps, 0.01, 1, [TicketBoundVariant.MainText, TicketBoundVariant.Appendix],
            TargetFile: file, ProbeSamples: 16, Seed: 1));
        Assert.Equal(n, report.Target.Layers[0].Width);
        Assert.Equal(2, report.Target.Layers[0].MaxInDegree); // one weight and the bias
        var checks = Assert.IsAssignableFrom<IReadOnlyList<Lemma4Check>>(report.Lemma4Checks);
        Assert.Equal(2, checks.Count);
        foreach (var (check, result) in checks.Zip(report.Results))
        {
            Assert.Equal(result.Variant, check.Variant);
            var tol = result.Layers.Select(l => l.EpsilonL).ToArray();
            Assert.Equal(n * (2 * d + 2 * tol[0]) * (1 + tol[1]) - 2 * n * d, check.MaxShiftError, 9);
            Assert.Equal(eps, check.Epsilon);
            Assert.False(check.Holds);
        }
    }

    [Fact]
    public void NormHasLemmaThreesFormulaAndTheSimulationAgrees()
    {
        // x0 = [1], widths [4, 4], He σ_w = √(1/2), σ_b,l = Π σ_w: σ_b² = 1/2, 1/4; n σ_w²/2 = 1 per layer.
        // Lemma 3: 1·1·1 + (1/2)(4/2)·1 + (1/4)(4/2) = 2.5; looks-linear: 1 + (1/2)(4/2) + (1/4)(4/2) = 2.5.
        var report = StrongTicketReports.Norm([1], [4, 4], null, null, ParameterDistribution.Normal, [false, true], draws: 400, seed: 2);
        Assert.Equal(1, report.InputNormSq);
        Assert.Equal(["iid", "looks-linear"], report.Rows.Select(r => r.Scheme));
        Assert.Equal([false, true], report.Rows.Select(r => r.Setup.LooksLinear));
        Assert.Equal([Math.Sqrt(0.5), Math.Sqrt(0.5)], report.Rows[0].Setup.SigmaW);
        Assert.Equal(0.5, report.Rows[0].Setup.SigmaB[1], 12);
        foreach (var row in report.Rows)
        {
            Assert.Equal(2.5, row.Estimate.Formula, 12);
            Assert.Equal(400, row.Estimate.Draws);
            Assert.InRange(Math.Abs(row.Estimate.ZScore), 0, 5);
        }
        var given = StrongTicketReports.Norm([1, 1], [3], [1], [0], ParameterDistribution.Uniform, [false], draws: 10, seed: 0);
        Assert.Equal(2 * 3 / 2.0, given.Rows.Single().Estimate.Formula, 12); // ‖x0‖² n σ_w²/2 with σ_b = 0
        Assert.Equal(ParameterDistribution.Uniform, given.Distribution);
    }

    [Fact]
    public void SubsetSumPlotIsWritten()
    {
        var result = SubsetSumStudy.Run([4, 6, 8], [0.5], 5, 0);
        using var dir = new TempDir();
        StrongTicketReports.PlotSubsetSum(dir.File("subset-sum.png"), result);
        MeanFieldReportsTests.AssertPng(dir.File("subset-sum.png"));
    }
}
