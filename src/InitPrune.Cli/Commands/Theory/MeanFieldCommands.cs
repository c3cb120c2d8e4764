using System.CommandLine;
using InitPrune.Engine;
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
            var report = MeanFieldReports.Eoc(r.GetValue(activation)!, r.GetValue(sigmaB));
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
            var report = MeanFieldReports.PhaseDiagram(names, r.GetValue(min), r.GetValue(max), r.GetValue(points), r.GetValue(time));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "phase-diagram.json"), report);
            MeanFieldReports.PlotPhaseDiagram(Path.Combine(dir, "phase-diagram.png"), report);
            if (r.GetValue(s.Json))
            {
                Output.Json(report);
                return 0;
            }
            var t = new Table().AddColumn("sigma_b");
            foreach (var c in report.Curves) t.AddColumn($"sigma_w EOC {c.Activation}");
            for (var i = 0; i < report.SigmaB.Length; i++)
                t.AddRow([G(report.SigmaB[i]), .. report.Curves.Select(c => c.SigmaW[i] is { } w ? G(w) : "none")]);
            Output.Human(false).Write(t);
            if (report.Seconds is { } sec)
                Console.WriteLine($"computed {report.SigmaB.Length * report.Curves.Length} EOC points in {sec * 1000:0.0} ms");
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
            var report = MeanFieldReports.PhaseOf(r.GetValue(activation)!, r.GetValue(sigmaW), r.GetValue(sigmaB));
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
            var report = MeanFieldReports.Propagate(r.GetValue(activation)!, r.GetValue(sigmaW), r.GetValue(sigmaB), r.GetValue(arch)!,
                r.GetValue(depth), r.GetValue(q0), r.GetValue(c0));
            Artifacts.WriteJson(Path.Combine(dir, "propagate.json"), report);
            MeanFieldReports.PlotPropagation(Path.Combine(dir, "propagate-q.png"), Path.Combine(dir, "propagate-c.png"), report);
            if (r.GetValue(s.Json))
            {
                Output.Json(report);
                return 0;
            }
            Console.WriteLine(report.Label);
            var t = new Table().AddColumns("layer", "q^l", "c^l");
            foreach (var x in report.Layers) t.AddRow(x.Layer.ToString(), G(x.Q), G(x.C));
            Output.Human(false).Write(t);
            Console.WriteLine($"wrote propagate.json, propagate-q.png, propagate-c.png to {dir}");
            return 0;
        }));
        return cmd;
    }
}
