using System.CommandLine;
using InitPrune.Engine;
using InitPrune.Theory;
using Spectre.Console;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory s-cr | tn | keep-prob`: critical sparsity, rescaling factors, EOC keep probabilities.</summary>
internal static class SparsityCommands
{
    public static IEnumerable<Command> Create() => [CriticalSparsityCommand(), RescalingCommand(), KeepProbabilityCommand()];

    static Command CriticalSparsityCommand()
    {
        var s = new Shared();
        var layers = new Option<string>("--layers") { Description = "Depths L to simulate: weight layers (L − 1 hidden + output), comma-separated", DefaultValueFactory = _ => "10,25,50,100" };
        var width = new Option<int>("--width") { Description = "Width N of every hidden layer (and of the Gaussian input)", DefaultValueFactory = _ => 100 };
        var activation = new Option<string>("--activation") { Description = "Activation: tanh, relu, elu, ... (the mean-field map of the same name gives χ)", DefaultValueFactory = _ => "tanh" };
        var sigmaW = new Option<double>("--sigma-w") { Description = "sigma_w: W ~ N(0, σw²/fan_in); the default √0.2 with tanh is seed 001's κ ≈ 0.2 example", DefaultValueFactory = _ => Math.Sqrt(0.2) };
        var sigmaB = new Option<double>("--sigma-b") { Description = "sigma_b: b ~ N(0, σb²)", DefaultValueFactory = _ => 0.05 };
        var chi = new Option<double?>("--chi") { Description = "Use this χ for κ = |log χ|/8 instead of the mean-field value of (activation, σw, σb)" };
        var method = new Option<string>("--method") { Description = "Scores: snip (|W ⊙ ∂L/∂W| on Gaussian inputs, uniform random labels), magnitude, random", DefaultValueFactory = _ => "snip" };
        var samples = new Option<int>("--samples") { Description = "Random networks per depth (seeds seed, seed+1, ...)", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch-size") { Description = "Inputs in the SNIP batch", DefaultValueFactory = _ => 100 };
        var classes = new Option<int>("--classes") { Description = "Outputs (label classes) of the network", DefaultValueFactory = _ => 10 };
        var shrink = new Option<double>("--first-layer-shrink") { Description = "Divide the first layer's weights by γ (seed 001 Prop. 4's setting, with γ the std ratio); with magnitude and γ > 1 the Prop. 4 bound is shown", DefaultValueFactory = _ => 1.0 };
        var outDir = s.Out("./initprune-out/theory/s-cr");
        var cmd = new Command("s-cr", "Critical sparsity s_cr (the smallest sparsity that empties a layer): seed 001 Theorem 1 (SBP, ln and log10) and Prop. 4 (MBP) bounds beside exact s_cr of sampled random MLPs; writes s-cr.json and s-cr.png");
        foreach (var o in new Option[] { layers, width, activation, sigmaW, sigmaB, chi, method, samples, batch, classes, shrink, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var spec = new CriticalSparsitySpec(0, r.GetValue(width), r.GetValue(activation)!, r.GetValue(sigmaW), r.GetValue(sigmaB), r.GetValue(method)!,
                r.GetValue(samples), r.GetValue(batch), r.GetValue(classes), r.GetValue(shrink), r.GetValue(s.Seed));
            var ls = Shared.ParseList(r.GetValue(layers), "--layers", int.Parse) ?? throw new InitPruneException("--layers is empty: give depths such as 10,50,100");
            var result = SparsityReports.CriticalSparsity(spec, ls, r.GetValue(chi));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "s-cr.json"), result);
            SparsityReports.PlotCriticalSparsity(Path.Combine(dir, "s-cr.png"), result);
            if (json)
            {
                Output.Json(result);
                return 0;
            }
            var console = Output.Human(json);
            console.WriteLine($"{spec.Method}, {spec.Activation}, σw = {spec.SigmaW:0.####}, σb = {spec.SigmaB:0.####}, N = {spec.Width}: χ = {result.Chi:0.####}, κ = |log χ|/8 = {result.Kappa:0.####}; {spec.Samples} networks per depth");
            var t = new Table().AddColumns("L", "bound (ln)", "bound (log10)", "Prop. 4 bound", "s_cr mean", "s_cr sd", "emptied first");
            foreach (var row in result.Rows)
                t.AddRow($"{row.Layers}", Pct(row.SbpBoundLn), Pct(row.SbpBoundLog10), Pct(row.MbpBound?.Value), Pct(row.Mean), Pct(row.StdDev), Markup.Escape(row.MostEmptiedLayer));
            console.Write(t);
            console.WriteLine($"wrote s-cr.json, s-cr.png to {dir}");
            return 0;
        }));
        return cmd;
    }

    static Command RescalingCommand()
    {
        var s = new Shared();
        var widths = new Option<string>("--widths") { Description = "Layer widths n (n × n weights), comma-separated", DefaultValueFactory = _ => "10,30,100,256,1000" };
        var sparsities = new Option<string>("--sparsities") { Description = "Sparsities s in [0, 1), comma-separated", DefaultValueFactory = _ => "0,0.5,0.8,0.9,0.95,0.99" };
        var exactMax = new Option<int>("--exact-max-width") { Description = "Compute the exact t_n (order-statistic integral) only up to this width; wider layers get the large-n value", DefaultValueFactory = _ => 256 };
        var outDir = s.Out("./initprune-out/theory/tn");
        var cmd = new Command("tn", "Seed 002 rescaling factors after pruning an n × n layer: random (1 − s)^(−1/2) and magnitude t_n (Eq. 5, exact and large-n), plus the edges of stability 1 − log(n)^5/n and 1 − log(n)^4/n; writes tn.json and tn.png");
        foreach (var o in new Option[] { widths, sparsities, exactMax, outDir }) cmd.Add(o);
        s.AddRun(cmd, seed: false, device: false);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            bool json = r.GetValue(s.Json);
            var ns = Shared.ParseList(r.GetValue(widths), "--widths", int.Parse) ?? throw new InitPruneException("--widths is empty: give widths such as 10,100");
            var ss = Shared.ParseList(r.GetValue(sparsities), "--sparsities", double.Parse) ?? throw new InitPruneException("--sparsities is empty: give sparsities such as 0.5,0.9");
            var result = SparsityReports.Rescaling(ns, ss, r.GetValue(exactMax));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "tn.json"), result);
            SparsityReports.PlotRescaling(Path.Combine(dir, "tn.png"), result);
            if (json)
            {
                Output.Json(result);
                return 0;
            }
            var console = Output.Human(json);
            var t = new Table().AddColumns("n", "s", "kept r", "random", "t_n exact", "t_n large-n", "rel. gap");
            foreach (var row in result.Rows)
                t.AddRow($"{row.Width}", $"{row.ActualSparsity:0.####}", $"{row.Kept:N0}", $"{row.Random:0.00000}", row.MagnitudeExact is { } e ? $"{e:0.00000}" : "—", $"{row.MagnitudeLargeN:0.00000}", row.RelativeGap is { } g ? $"{g:0.0e+0}" : "—");
            console.Write(t);
            var et = new Table().AddColumns("n", "edge random (ln)", "edge random (log10)", "edge magnitude (ln)", "edge magnitude (log10)");
            foreach (var e in result.Edges)
                et.AddRow($"{e.Width}", Edge(e.RandomLn), Edge(e.RandomLog10), Edge(e.MagnitudeLn), Edge(e.MagnitudeLog10));
            console.Write(et);
            console.WriteLine($"edge = 1 − log(n)^k/n: stability needs 1 − s ≫ log(n)^k/n; \"vacuous\" means no sparsity satisfies it at this width. Wrote tn.json, tn.png to {dir}");
            return 0;
        }));
        return cmd;
    }

    static Command KeepProbabilityCommand()
    {
        var s = new Shared();
        var sigmaW = new Option<string>("--sigma-w") { Description = "sigma_w of each layer, comma-separated (each ≥ sigma_w,EOC)", DefaultValueFactory = _ => "1.5,2,3" };
        var activation = new Option<string>("--activation") { Description = "Activation whose Edge of Chaos gives sigma_w,EOC", DefaultValueFactory = _ => "tanh" };
        var sigmaB = new Option<double>("--sigma-b") { Description = "sigma_b (the EOC point is taken at this sigma_b)", DefaultValueFactory = _ => 0.2 };
        var eoc = new Option<double?>("--sigma-w-eoc") { Description = "Use this sigma_w,EOC instead of solving the Edge of Chaos of (activation, sigma_b)" };
        var outDir = s.Out("./initprune-out/theory/keep-prob");
        var cmd = new Command("keep-prob", "Seed 001 Theorem 3/4 (seed 000 Prop. 5): keep each weight of layer l with probability p_l = σ²_w,EOC/σ²_w,l to obtain a subnetwork on the Edge of Chaos; writes keep-prob.json");
        foreach (var o in new Option[] { sigmaW, activation, sigmaB, eoc, outDir }) cmd.Add(o);
        s.AddRun(cmd, seed: false, device: false);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            bool json = r.GetValue(s.Json);
            var sw = Shared.ParseList(r.GetValue(sigmaW), "--sigma-w", double.Parse) ?? throw new InitPruneException("--sigma-w is empty: give one sigma_w per layer, e.g. 2,3");
            var result = SparsityReports.KeepProbability(r.GetValue(activation)!, r.GetValue(sigmaB), sw, r.GetValue(eoc));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "keep-prob.json"), result);
            if (json)
            {
                Output.Json(result);
                return 0;
            }
            var console = Output.Human(json);
            console.WriteLine($"σw,EOC = {result.SigmaWEoc:0.######} ({(result.SigmaWEocGiven ? "given" : $"{result.Activation}, σb = {result.SigmaB}")})");
            var t = new Table().AddColumns("layer", "σw,l", "keep p_l", "sparsity 1 − p_l", "σw·√p_l");
            foreach (var l in result.Layers)
                t.AddRow($"{l.Layer}", $"{l.SigmaW:0.####}", $"{l.KeepProbability:0.######}", $"{l.Sparsity:0.######}", $"{l.EffectiveSigmaW:0.######}");
            console.Write(t);
            console.WriteLine($"wrote keep-prob.json to {dir}");
            return 0;
        }));
        return cmd;
    }

    static string Pct(double? v) => v is { } x ? $"{100 * x:0.0}%" : "—";

    static string Edge(double v) => v > 0 ? $"{v:0.####}" : "vacuous";
}
