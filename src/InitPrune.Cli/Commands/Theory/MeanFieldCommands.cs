using System.CommandLine;
using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.Reporting;
using InitPrune.Theory;
using Spectre.Console;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory` mean-field subcommands: eoc, phase-diagram (alias eoc-curve), phase, propagate.</summary>
internal static class MeanFieldCommands
{
    public static IEnumerable<Command> Create() => [Eoc(), PhaseDiagram(), PhaseOf(), Propagate()];

    static Option<string> ActivationOption(string defaultName) => new("--activation")
    {
        Description = $"Activation: {string.Join(", ", ActivationFunctions.Names)}",
        DefaultValueFactory = _ => defaultName,
    };

    static Option<double> SigmaBOption(double defaultValue) => new("--sigma-b") { Description = "sigma_b, the standard deviation of the biases (≥ 0)", DefaultValueFactory = _ => defaultValue };

    static string G(double x) => double.IsPositiveInfinity(x) ? "∞" : x.ToString("0.########");

    static Command Eoc()
    {
        var s = new Shared();
        var activation = ActivationOption("tanh");
        var sigmaB = SigmaBOption(0.2);
        var outDir = s.Out("./initprune-out/theory/eoc");
        var cmd = new Command("eoc", "The Edge of Chaos for one sigma_b: sigma_w with chi = 1, the fixed point q*, chi and the depth scales xi_q, xi_c; writes eoc.json");
        foreach (var o in new Option[] { activation, sigmaB, outDir }) cmd.Add(o);
        s.AddRun(cmd, seed: false, device: false);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            var phi = ActivationFunctions.Get(r.GetValue(activation)!);
            var point = EdgeOfChaos.Point(phi, r.GetValue(sigmaB));
            var map = new MeanFieldMap(phi, point.SigmaW, point.SigmaB);
            var scales = map.DepthScales(point.QStar);
            var report = new EocReport(phi.Name, point.SigmaB, point.SigmaW, point.QStar, map.Chi(point.QStar), scales.XiQ, scales.XiC);
            Artifacts.WriteJson(Path.Combine(Artifacts.PrepareOutput(r.GetValue(outDir)!), "eoc.json"), report);
            if (r.GetValue(s.Json))
            {
                Output.Json(report);
                return 0;
            }
            var t = new Table().AddColumns("activation", "sigma_b", "sigma_w (EOC)", "q*", "chi", "xi_q", "xi_c");
            t.AddRow(report.Activation, G(report.SigmaB), G(report.SigmaW), G(report.QStar), G(report.Chi), G(report.XiQ), G(report.XiC));
            Output.Human(false).Write(t);
            return 0;
        }));
        return cmd;
    }

    static Command PhaseDiagram()
    {
        var s = new Shared();
        var activations = new Option<string>("--activations") { Description = "Comma-separated activations, one EOC curve each", DefaultValueFactory = _ => "tanh,elu,selu,gelu,hard_tanh" };
        var min = new Option<double>("--sigma-b-min") { Description = "Smallest sigma_b", DefaultValueFactory = _ => 0.0 };
        var max = new Option<double>("--sigma-b-max") { Description = "Largest sigma_b", DefaultValueFactory = _ => 1.0 };
        var points = new Option<int>("--points") { Description = "Number of sigma_b values, evenly spaced", DefaultValueFactory = _ => 21 };
        var time = new Option<bool>("--time") { Description = "Report the time taken to compute the curves" };
        var outDir = s.Out("./initprune-out/theory/phase-diagram");
        var cmd = new Command("phase-diagram", "The phase diagram: sigma_w on the Edge of Chaos against sigma_b for several activations (ordered below each curve, chaotic above); table, phase-diagram.json and phase-diagram.png");
        cmd.Aliases.Add("eoc-curve");
        foreach (var o in new Option[] { activations, min, max, points, time, outDir }) cmd.Add(o);
        s.AddRun(cmd, seed: false, device: false);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            var names = (r.GetValue(activations) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (names.Length == 0) throw new InitPruneException("--activations is empty: name at least one activation, e.g. tanh,elu");
            var phis = names.Select(ActivationFunctions.Get).ToArray();
            var sigmaBs = EdgeOfChaos.Range(r.GetValue(min), r.GetValue(max), r.GetValue(points));
            var clock = Stopwatch.StartNew();
            var curves = phis.Select(p => new EocCurve(p.Name, [.. EdgeOfChaos.Curve(p, sigmaBs).Select(e => e?.SigmaW)])).ToArray();
            var seconds = clock.Elapsed.TotalSeconds;
            var report = new PhaseDiagramReport(sigmaBs, curves, r.GetValue(time) ? seconds : null);
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "phase-diagram.json"), report);
            var series = curves.Select(c =>
            {
                var idx = Enumerable.Range(0, sigmaBs.Length).Where(i => c.SigmaW[i] is not null).ToArray();
                return new Series(c.Activation, [.. idx.Select(i => sigmaBs[i])], [.. idx.Select(i => c.SigmaW[i]!.Value)]);
            }).Where(x => x.X.Length > 0).ToArray();
            Plots.Lines(Path.Combine(dir, "phase-diagram.png"), "Edge of Chaos (ordered below, chaotic above)", "sigma_b", "sigma_w", series);
            if (r.GetValue(s.Json))
            {
                Output.Json(report);
                return 0;
            }
            var t = new Table().AddColumn("sigma_b");
            foreach (var c in curves) t.AddColumn($"sigma_w EOC {c.Activation}");
            for (var i = 0; i < sigmaBs.Length; i++)
                t.AddRow([G(sigmaBs[i]), .. curves.Select(c => c.SigmaW[i] is { } w ? G(w) : "none")]);
            Output.Human(false).Write(t);
            if (report.Seconds is { } sec)
                Console.WriteLine($"computed {sigmaBs.Length * curves.Length} EOC points in {sec * 1000:0.0} ms");
            Console.WriteLine($"wrote phase-diagram.json, phase-diagram.png to {dir}");
            return 0;
        }));
        return cmd;
    }

    static Command PhaseOf()
    {
        var s = new Shared();
        var activation = ActivationOption("tanh");
        var sigmaW = new Option<double>("--sigma-w") { Description = "sigma_w, weights ~ N(0, sigma_w²/fan_in) (> 0)", DefaultValueFactory = _ => 1.5 };
        var sigmaB = SigmaBOption(0.2);
        var outDir = s.Out("./initprune-out/theory/phase");
        var cmd = new Command("phase", "The phase of one (sigma_w, sigma_b): ordered (chi < 1), Edge of Chaos (chi = 1), chaotic (chi > 1) or divergent q; with q*, chi, c*, depth scales and the EOC sigma_w for this sigma_b; writes phase.json");
        foreach (var o in new Option[] { activation, sigmaW, sigmaB, outDir }) cmd.Add(o);
        s.AddRun(cmd, seed: false, device: false);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            var phi = ActivationFunctions.Get(r.GetValue(activation)!);
            var map = new MeanFieldMap(phi, r.GetValue(sigmaW), r.GetValue(sigmaB));
            var eoc = EdgeOfChaos.TryPoint(phi, map.SigmaB)?.SigmaW;
            var phase = map.Phase();
            PhaseReport report;
            if (phase == Phase.Divergent)
                report = new PhaseReport(phi.Name, map.SigmaW, map.SigmaB, "divergent", null, null, null, null, null, eoc);
            else
            {
                var d = map.DepthScales();
                report = new PhaseReport(phi.Name, map.SigmaW, map.SigmaB, PhaseName(phase), d.QStar, map.Chi(d.QStar), d.CStar, d.XiQ, d.XiC, eoc);
            }
            Artifacts.WriteJson(Path.Combine(Artifacts.PrepareOutput(r.GetValue(outDir)!), "phase.json"), report);
            if (r.GetValue(s.Json))
            {
                Output.Json(report);
                return 0;
            }
            var t = new Table().AddColumns("activation", "sigma_w", "sigma_b", "phase", "q*", "chi", "c*", "xi_q", "xi_c", "sigma_w EOC");
            string N(double? x) => x is { } v ? G(v) : "-";
            t.AddRow(report.Activation, G(report.SigmaW), G(report.SigmaB), report.Phase, N(report.QStar), N(report.Chi), N(report.CStar), N(report.XiQ), N(report.XiC), N(report.SigmaWEoc));
            Output.Human(false).Write(t);
            return 0;
        }));
        return cmd;
    }

    static Command Propagate()
    {
        var s = new Shared();
        var activation = ActivationOption("tanh");
        var sigmaW = new Option<double?>("--sigma-w") { Description = "sigma_w (> 0); default: the Edge of Chaos value for --sigma-b" };
        var sigmaB = SigmaBOption(0.2);
        var arch = new Option<string>("--arch") { Description = "ffnn, resnet (y^l = y^{l-1} + F) or stable-resnet (y^l = y^{l-1} + F/√L)", DefaultValueFactory = _ => "ffnn" };
        var depth = new Option<int>("--depth") { Description = $"Number of layers (residual blocks L for the ResNets), at most {Propagation.MaxMapDepth}", DefaultValueFactory = _ => 30 };
        var q0 = new Option<double>("--q0") { Description = "Variance q^0 of the input pre-activations", DefaultValueFactory = _ => 1.0 };
        var c0 = new Option<double>("--c0") { Description = "Correlation c^0 of the two inputs, in [-1, 1]", DefaultValueFactory = _ => 0.5 };
        var outDir = s.Out("./initprune-out/theory/propagate");
        var cmd = new Command("propagate", "q^l and c^l layer by layer for an FFNN, ResNet or Stable ResNet in the mean-field limit; table, propagate.json, propagate-q.png and propagate-c.png");
        foreach (var o in new Option[] { activation, sigmaW, sigmaB, arch, depth, q0, c0, outDir }) cmd.Add(o);
        s.AddRun(cmd, seed: false, device: false);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            var phi = ActivationFunctions.Get(r.GetValue(activation)!);
            var b = r.GetValue(sigmaB);
            var map = new MeanFieldMap(phi, r.GetValue(sigmaW) ?? EdgeOfChaos.SigmaW(phi, b), b);
            var kind = r.GetValue(arch)!.ToLowerInvariant();
            var (q, c, l) = (r.GetValue(q0), r.GetValue(c0), r.GetValue(depth));
            var states = kind switch
            {
                "ffnn" => Propagation.FeedForward(map, q, c, l),
                "resnet" => Propagation.ResNet(map, q, c, l, stable: false),
                "stable-resnet" => Propagation.ResNet(map, q, c, l, stable: true),
                _ => throw new InitPruneException($"unknown --arch '{kind}': use ffnn, resnet or stable-resnet"),
            };
            var report = new PropagateReport(phi.Name, map.SigmaW, map.SigmaB, kind, states);
            Artifacts.WriteJson(Path.Combine(dir, "propagate.json"), report);
            double[] layers = [.. states.Select(x => (double)x.Layer)];
            var label = $"{phi.Name} {kind} sigma_w={map.SigmaW:0.####} sigma_b={map.SigmaB:0.####}";
            Plots.Lines(Path.Combine(dir, "propagate-q.png"), "Variance q^l against depth", "layer l", "q^l", [new Series(label, layers, [.. states.Select(x => x.Q)])]);
            Plots.Lines(Path.Combine(dir, "propagate-c.png"), "Correlation c^l against depth", "layer l", "c^l", [new Series(label, layers, [.. states.Select(x => x.C)])]);
            if (r.GetValue(s.Json))
            {
                Output.Json(report);
                return 0;
            }
            Console.WriteLine(label);
            var t = new Table().AddColumns("layer", "q^l", "c^l");
            foreach (var x in states) t.AddRow(x.Layer.ToString(), G(x.Q), G(x.C));
            Output.Human(false).Write(t);
            Console.WriteLine($"wrote propagate.json, propagate-q.png, propagate-c.png to {dir}");
            return 0;
        }));
        return cmd;
    }

    static string PhaseName(Phase p) => p switch
    {
        Phase.Ordered => "ordered",
        Phase.EdgeOfChaos => "edge-of-chaos",
        Phase.Chaotic => "chaotic",
        _ => "divergent",
    };

    sealed record EocReport(string Activation, double SigmaB, double SigmaW, double QStar, double Chi, double XiQ, double XiC);

    sealed record EocCurve(string Activation, double?[] SigmaW);

    sealed record PhaseDiagramReport(double[] SigmaB, EocCurve[] Curves, double? Seconds);

    sealed record PhaseReport(string Activation, double SigmaW, double SigmaB, string Phase, double? QStar, double? Chi, double? CStar, double? XiQ, double? XiC, double? SigmaWEoc);

    sealed record PropagateReport(string Activation, double SigmaW, double SigmaB, string Arch, LayerState[] Layers);
}
