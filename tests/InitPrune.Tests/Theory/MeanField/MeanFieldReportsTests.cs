using InitPrune.Engine;
using InitPrune.Tests.Data;
using InitPrune.Theory;

namespace InitPrune.Tests.Theory.MeanField;

/// <summary>The mean-field commands' library entry points against closed forms (ReLU, tanh at σb = 0) and the seeds' numbers.</summary>
public class MeanFieldReportsTests
{
    /// <summary>ReLU's correlation map at σw = √2, σb = 0 (seed 001 App. B.1.1), written out independently of the library.</summary>
    static double ReluF(double c) => (c * Math.Asin(c) + Math.Sqrt(1 - c * c)) / Math.PI + c / 2;

    internal static void AssertPng(string path)
    {
        var head = File.ReadAllBytes(path).Take(4).ToArray();
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, head);
    }

    [Fact]
    public void EocOfReluIsRootTwoAndOfTanhIsTheDocumentedPoint()
    {
        var relu = MeanFieldReports.Eoc("relu", 0);
        Assert.Equal(Math.Sqrt(2), relu.SigmaW, 1e-10); // χ = σw²/2 = 1
        Assert.Equal(1, relu.Chi, 1e-10);
        var tanh = MeanFieldReports.Eoc("tanh", 0.2);
        Assert.Equal("tanh", tanh.Activation);
        Assert.Equal(0.2, tanh.SigmaB);
        Assert.Equal(1.30414584, tanh.SigmaW, 1e-7); // docs/theory.md
        Assert.Equal(0.5120785, tanh.QStar, 1e-6);
        Assert.Equal(1, tanh.Chi, 1e-9);
        Assert.True(tanh.XiQ > 0);
    }

    [Fact]
    public void PhaseDiagramHasTheClosedFormCurvesAndWritesItsPlot()
    {
        var report = MeanFieldReports.PhaseDiagram(["tanh", "relu"], 0, 1, 5, time: true);
        Assert.Equal([0, 0.25, 0.5, 0.75, 1], report.SigmaB);
        Assert.Equal(["tanh", "relu"], report.Curves.Select(c => c.Activation));
        Assert.Equal(1, report.Curves[0].SigmaW[0]!.Value, 1e-8); // tanh, σb = 0: q* → 0 and χ = σw² φ′(0)² = 1
        Assert.All(report.Curves[0].SigmaW.Skip(1), w => Assert.True(w > 1)); // σb > 0 pushes the tanh EOC above 1
        Assert.Equal(Math.Sqrt(2), report.Curves[1].SigmaW[0]!.Value, 1e-10);
        Assert.All(report.Curves[1].SigmaW.Skip(1), w => Assert.Null(w)); // ReLU at σw = √2 with σb > 0: q^l grows without bound
        Assert.True(report.Seconds > 0);
        Assert.Null(MeanFieldReports.PhaseDiagram(["relu"], 0, 0, 1).Seconds);
        Assert.Throws<InitPruneException>(() => MeanFieldReports.PhaseDiagram([], 0, 1, 3));

        using var dir = new TempDir();
        MeanFieldReports.PlotPhaseDiagram(dir.File("pd.png"), report);
        AssertPng(dir.File("pd.png"));
    }

    [Fact]
    public void PhaseOfReluMatchesItsClosedForms()
    {
        // σw = 1, σb = 1: q* = 1 + q*/2 = 2, χ = σw²/2 = 1/2, ordered; ξ_c = −1/ln χ; no EOC for σb > 0.
        var ordered = MeanFieldReports.PhaseOf("relu", 1, 1);
        Assert.Equal("ordered", ordered.Phase);
        Assert.Equal(2, ordered.QStar!.Value, 1e-9);
        Assert.Equal(0.5, ordered.Chi!.Value, 1e-9);
        Assert.Equal(1 / Math.Log(2), ordered.XiC!.Value, 1e-6);
        Assert.Null(ordered.SigmaWEoc);

        // σw = 1.5 > √2, σb = 0: q^l = (σw²/2)^l q^0 diverges; the EOC at σb = 0 is √2.
        var divergent = MeanFieldReports.PhaseOf("relu", 1.5, 0);
        Assert.Equal("divergent", divergent.Phase);
        Assert.Null(divergent.QStar);
        Assert.Null(divergent.Chi);
        Assert.Equal(Math.Sqrt(2), divergent.SigmaWEoc!.Value, 1e-10);

        var eoc = MeanFieldReports.Eoc("tanh", 0.2).SigmaW;
        Assert.Equal("edge-of-chaos", MeanFieldReports.PhaseOf("tanh", eoc, 0.2).Phase);
        Assert.Equal("chaotic", MeanFieldReports.PhaseOf("tanh", eoc + 0.05, 0.2).Phase);
        Assert.Throws<InitPruneException>(() => MeanFieldReports.PhaseOf("tanh", -1, 0.2));
    }

    [Theory]
    [InlineData("ffnn")]
    [InlineData("resnet")]
    [InlineData("Stable-ResNet")]
    public void PropagateOfReluFollowsTheClosedForms(string arch)
    {
        const double sigmaW = 1.2, q0 = 1.5, c0 = 0.3;
        const int depth = 3;
        var report = MeanFieldReports.Propagate("relu", sigmaW, 0, arch, depth, q0, c0);
        Assert.Equal(arch.ToLowerInvariant(), report.Arch);
        Assert.Equal(depth + 1, report.Layers.Length);
        for (var l = 0; l <= depth; l++)
        {
            // ReLU, σb = 0: E[φ(√q Z)²] = q/2, so q^l = g^l q^0 with g = σw²/2 (ffnn), 1 + σw²/2 (resnet), 1 + σw²/(2L) (stable).
            double g = arch switch
            {
                "ffnn" => sigmaW * sigmaW / 2,
                "resnet" => 1 + sigmaW * sigmaW / 2,
                _ => 1 + sigmaW * sigmaW / (2 * depth),
            };
            Assert.Equal(l, report.Layers[l].Layer);
            Assert.Equal(Math.Pow(g, l) * q0, report.Layers[l].Q, 1e-9 * Math.Pow(g, l));
        }
        Assert.StartsWith($"relu {arch.ToLowerInvariant()} sigma_w=1.2 ", report.Label);
    }

    [Fact]
    public void PropagateDefaultsToTheEdgeOfChaosWhereReluCorrelationsFollowF()
    {
        var report = MeanFieldReports.Propagate("relu", null, 0, "ffnn", 3, 1, 0.2);
        Assert.Equal(Math.Sqrt(2), report.SigmaW, 1e-10);
        double c = 0.2;
        foreach (var layer in report.Layers.Skip(1))
        {
            c = ReluF(c);
            Assert.Equal(1, layer.Q, 1e-9); // on the EOC with σb = 0, q is preserved
            Assert.Equal(c, layer.C, 1e-9);
        }
        using var dir = new TempDir();
        MeanFieldReports.PlotPropagation(dir.File("q.png"), dir.File("c.png"), report);
        AssertPng(dir.File("q.png"));
        AssertPng(dir.File("c.png"));
        Assert.Throws<InitPruneException>(() => MeanFieldReports.Propagate("relu", 1, 0, "lstm", 3, 1, 0.5));
    }
}
