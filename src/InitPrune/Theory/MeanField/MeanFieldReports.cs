using System.Diagnostics;
using System.Text.Json.Serialization;
using InitPrune.Engine;
using InitPrune.Reporting;

namespace InitPrune.Theory;

/// <summary>The Edge of Chaos for one σb (<c>initprune theory eoc</c>): σw with χ = 1, q*, χ at q* and the depth scales ξ_q, ξ_c.</summary>
public sealed record EocReport(string Activation, double SigmaB, double SigmaW, double QStar, double Chi, double XiQ, double XiC);

/// <summary>One activation's Edge of Chaos curve: σw for each σb of the diagram, null where the activation has no EOC point.</summary>
public sealed record EocCurve(string Activation, double?[] SigmaW);

/// <summary>The phase diagram (<c>initprune theory phase-diagram</c>): EOC curves over a shared σb grid; ordered below each curve, chaotic above.</summary>
/// <param name="Seconds">Time taken to compute the curves, when asked for.</param>
public sealed record PhaseDiagramReport(double[] SigmaB, EocCurve[] Curves, double? Seconds);

/// <summary>
/// The phase of one (σw, σb) (<c>initprune theory phase</c>): its name (ordered, edge-of-chaos, chaotic or divergent), q*, χ, c*,
/// the depth scales (all null when q diverges) and the EOC σw at this σb (null when there is none).
/// </summary>
public sealed record PhaseReport(string Activation, double SigmaW, double SigmaB, string Phase, double? QStar, double? Chi, double? CStar, double? XiQ, double? XiC, double? SigmaWEoc);

/// <summary>q^l and c^l layer by layer (<c>initprune theory propagate</c>) for an ffnn, resnet or stable-resnet.</summary>
public sealed record PropagateReport(string Activation, double SigmaW, double SigmaB, string Arch, LayerState[] Layers)
{
    /// <summary>One line naming the network, the caption of the table and the plots' legend.</summary>
    [JsonIgnore]
    public string Label => $"{Activation} {Arch} sigma_w={SigmaW:0.####} sigma_b={SigmaB:0.####}";
}

/// <summary>The mean-field commands' computations: each takes the options' values and returns one typed report.</summary>
public static class MeanFieldReports
{
    /// <summary>The EOC point of <paramref name="activation"/> at <paramref name="sigmaB"/>, with χ and the depth scales there.</summary>
    public static EocReport Eoc(string activation, double sigmaB)
    {
        var phi = ActivationFunctions.Get(activation);
        var point = EdgeOfChaos.Point(phi, sigmaB);
        var map = new MeanFieldMap(phi, point.SigmaW, point.SigmaB);
        var scales = map.DepthScales(point.QStar);
        return new EocReport(phi.Name, point.SigmaB, point.SigmaW, point.QStar, map.Chi(point.QStar), scales.XiQ, scales.XiC);
    }

    /// <summary>EOC curves of each activation over <paramref name="points"/> evenly spaced σb in [min, max]; timed when <paramref name="time"/>.</summary>
    public static PhaseDiagramReport PhaseDiagram(IReadOnlyList<string> activations, double sigmaBMin, double sigmaBMax, int points, bool time = false)
    {
        if (activations.Count == 0) throw new InitPruneException("--activations is empty: name at least one activation, e.g. tanh,elu");
        var phis = activations.Select(ActivationFunctions.Get).ToArray();
        var sigmaBs = EdgeOfChaos.Range(sigmaBMin, sigmaBMax, points);
        var clock = Stopwatch.StartNew();
        var curves = phis.Select(p => new EocCurve(p.Name, [.. EdgeOfChaos.Curve(p, sigmaBs).Select(e => e?.SigmaW)])).ToArray();
        var seconds = clock.Elapsed.TotalSeconds;
        return new PhaseDiagramReport(sigmaBs, curves, time ? seconds : null);
    }

    /// <summary>Draws the phase diagram: σw on the EOC against σb, one line per activation (points without an EOC left out).</summary>
    public static void PlotPhaseDiagram(string path, PhaseDiagramReport report)
    {
        var series = report.Curves.Select(c =>
        {
            var idx = Enumerable.Range(0, report.SigmaB.Length).Where(i => c.SigmaW[i] is not null).ToArray();
            return new Series(c.Activation, [.. idx.Select(i => report.SigmaB[i])], [.. idx.Select(i => c.SigmaW[i]!.Value)]);
        }).Where(x => x.X.Length > 0).ToArray();
        Plots.Lines(path, "Edge of Chaos (ordered below, chaotic above)", "sigma_b", "sigma_w", series);
    }

    /// <summary>The phase of (σw, σb) for <paramref name="activation"/>, with its fixed points and depth scales.</summary>
    public static PhaseReport PhaseOf(string activation, double sigmaW, double sigmaB)
    {
        var phi = ActivationFunctions.Get(activation);
        var map = new MeanFieldMap(phi, sigmaW, sigmaB);
        var eoc = EdgeOfChaos.TryPoint(phi, map.SigmaB)?.SigmaW;
        var phase = map.Phase();
        if (phase == Phase.Divergent)
            return new PhaseReport(phi.Name, map.SigmaW, map.SigmaB, PhaseName(phase), null, null, null, null, null, eoc);
        var d = map.DepthScales();
        return new PhaseReport(phi.Name, map.SigmaW, map.SigmaB, PhaseName(phase), d.QStar, map.Chi(d.QStar), d.CStar, d.XiQ, d.XiC, eoc);
    }

    /// <summary>The name of a phase as the reports spell it: ordered, edge-of-chaos, chaotic, divergent.</summary>
    public static string PhaseName(Phase p) => p switch
    {
        Phase.Ordered => "ordered",
        Phase.EdgeOfChaos => "edge-of-chaos",
        Phase.Chaotic => "chaotic",
        _ => "divergent",
    };

    /// <summary>
    /// Propagates (q^0, c^0) through <paramref name="depth"/> layers (residual blocks for the ResNets) of <paramref name="arch"/>
    /// (ffnn, resnet or stable-resnet, any case); <paramref name="sigmaW"/> null takes the EOC value for <paramref name="sigmaB"/>.
    /// </summary>
    public static PropagateReport Propagate(string activation, double? sigmaW, double sigmaB, string arch, int depth, double q0, double c0)
    {
        var phi = ActivationFunctions.Get(activation);
        var map = new MeanFieldMap(phi, sigmaW ?? EdgeOfChaos.SigmaW(phi, sigmaB), sigmaB);
        var kind = arch.ToLowerInvariant();
        var states = kind switch
        {
            "ffnn" => Propagation.FeedForward(map, q0, c0, depth),
            "resnet" => Propagation.ResNet(map, q0, c0, depth, stable: false),
            "stable-resnet" => Propagation.ResNet(map, q0, c0, depth, stable: true),
            _ => throw new InitPruneException($"unknown --arch '{kind}': use ffnn, resnet or stable-resnet"),
        };
        return new PropagateReport(phi.Name, map.SigmaW, map.SigmaB, kind, states);
    }

    /// <summary>Draws q^l and c^l against the layer into <paramref name="qPath"/> and <paramref name="cPath"/>.</summary>
    public static void PlotPropagation(string qPath, string cPath, PropagateReport report)
    {
        double[] layers = [.. report.Layers.Select(x => (double)x.Layer)];
        Plots.Lines(qPath, "Variance q^l against depth", "layer l", "q^l", [new Series(report.Label, layers, [.. report.Layers.Select(x => x.Q)])]);
        Plots.Lines(cPath, "Correlation c^l against depth", "layer l", "c^l", [new Series(report.Label, layers, [.. report.Layers.Select(x => x.C)])]);
    }
}
