using System.CommandLine;
using InitPrune.Engine;
using InitPrune.Theory;
using Spectre.Console;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory` subcommands for seed 004 (strong lottery tickets with non-zero biases).</summary>
internal static class StrongTicketsCommands
{
    public static IEnumerable<Command> Create() => [Width(), Norm(), SubsetSumCommand()];

    static Command Width()
    {
        var s = new Shared();
        var architecture = new Option<string>("--architecture") { Description = "Target network widths n_0,...,n_L (input first)", DefaultValueFactory = _ => "2,100,100,1" };
        var epsilon = new Option<double>("--epsilon") { Description = "Approximation error ε of the ticket, in (0, 1)", DefaultValueFactory = _ => 0.01 };
        var delta = new Option<double>("--delta") { Description = "Failure probability δ, in (0, 1)", DefaultValueFactory = _ => 0.01 };
        var c = new Option<double>("--c") { Description = "The universal constant C of Theorem 5 (> 0)", DefaultValueFactory = _ => 1.0 };
        var maxWeight = new Option<double>("--max-weight") { Description = "Bound on the target's |w| (‖W‖_∞ of every layer)", DefaultValueFactory = _ => 1.0 };
        var variant = new Option<string>("--variant") { Description = "Which statement: main (§4), appendix (B.3/B.4) or both", DefaultValueFactory = _ => "both" };
        var targetFile = new Option<string?>("--target") { Description = "A target MLP as .safetensors (layers.0.weight, layers.0.bias, ...; ReLU on every layer): reads n_l, k_l,max, ‖W‖_∞ and sup-norm bounds off it instead of --architecture/--max-weight, and checks Lemma 4 by shifting every non-zero parameter by +ε_l" };
        var probes = new Option<int>("--probe-samples") { Description = "Random inputs in [-1,1]^n_0 (plus the corners when n_0 ≤ 10) for the Lemma 4 check of --target", DefaultValueFactory = _ => 4096 };
        var outDir = s.Out("./initprune-out/theory/slt-width");
        var cmd = new Command("slt-width", "Seed 004 Lemma 4 tolerances ε_l and Theorem 5 widths of a random network of depth 2L that contains a strong ticket for a dense target (neurons in [0, 1], non-zero biases); writes slt-width.json");
        foreach (var o in new Option[] { architecture, epsilon, delta, c, maxWeight, variant, targetFile, probes, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var file = r.GetValue(targetFile);
            var summary = StrongTicketReports.Width(new(
                file is null ? Shared.ParseList(r.GetValue(architecture), "--architecture", int.Parse) ?? [] : [],
                r.GetValue(epsilon), r.GetValue(delta), r.GetValue(c), ParseVariants(r.GetValue(variant)!),
                r.GetValue(maxWeight), file, r.GetValue(probes), r.GetValue(s.Seed)));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "slt-width.json"), summary);
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            var console = Output.Human(json);
            foreach (var res in summary.Results)
            {
                var t = new Table().Title($"{res.Variant}: ε = {res.Epsilon}, δ = {res.Delta}, C = {res.C}")
                    .AddColumns("l", "n_{l-1}", "n_l", "k_l,max", "ε_l", "δ_l", "log term", "n_{2l-1,0}", "n_{2l,0}");
                foreach (var l in res.Layers)
                    t.AddRow($"{l.Layer}", $"{l.InputWidth}", $"{l.Width}", $"{l.MaxInDegree}", $"{l.EpsilonL:0.000E+00}", $"{l.DeltaL:0.000E+00}", $"{l.LogTerm:0.000}", $"{l.WideWidth:N0}", $"{l.NarrowWidth:N0}");
                console.Write(t);
                console.WriteLine($"mother network: {res.MotherParameters:N0} parameters for a target of {res.TargetParameters:N0} (ratio {(double)res.MotherParameters / res.TargetParameters:0.0})");
            }
            foreach (var check in summary.Lemma4Checks ?? [])
                console.WriteLine($"Lemma 4 check ({check.Variant}): max ‖f − f_ε‖₂ over the probes = {check.MaxShiftError:0.000E+00} {(check.Holds ? "≤" : ">")} ε = {check.Epsilon}");
            console.WriteLine($"wrote slt-width.json to {dir}");
            return 0;
        }));
        return cmd;
    }

    static Command Norm()
    {
        var s = new Shared();
        var input = new Option<string>("--input") { Description = "The input x0, comma-separated", DefaultValueFactory = _ => "1,0.5,-0.5" };
        var widths = new Option<string>("--widths") { Description = "Layer widths n_1,...,n_L (a ReLU on every layer, the output included)", DefaultValueFactory = _ => "100,100,100" };
        var sigmaW = new Option<string?>("--sigma-w") { Description = "Weight standard deviations σ_w,l, comma-separated (default He: √(2/n_l), the paper's σ_w,l² = 2/n_l)" };
        var sigmaB = new Option<string?>("--sigma-b") { Description = "Bias standard deviations σ_b,l, comma-separated (default the paper's σ_b,l = Π_{m≤l} σ_w,m)" };
        var distribution = new Option<string>("--distribution") { Description = "Symmetric law of the parameters, with the given standard deviation: normal or uniform", DefaultValueFactory = _ => "normal" };
        var scheme = new Option<string>("--scheme") { Description = "iid (Lemma 3), looks-linear (§3.2: orthogonal W₀, even non-decreasing widths) or both", DefaultValueFactory = _ => "both" };
        var draws = new Option<int>("--draws") { Description = "Independent networks drawn for the Monte-Carlo mean", DefaultValueFactory = _ => 2000 };
        var outDir = s.Out("./initprune-out/theory/slt-norm");
        var cmd = new Command("slt-norm", "Seed 004 Lemma 3 (and its looks-linear variant): E‖f(x0)‖² by formula and by the mean over freshly drawn MLPs, with standard error and z-score; writes slt-norm.json");
        foreach (var o in new Option[] { input, widths, sigmaW, sigmaB, distribution, scheme, draws, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var x = Shared.ParseList(r.GetValue(input), "--input", double.Parse) ?? [];
            var n = Shared.ParseList(r.GetValue(widths), "--widths", int.Parse) ?? [];
            var sw = Shared.ParseList(r.GetValue(sigmaW), "--sigma-w", double.Parse);
            var sb = Shared.ParseList(r.GetValue(sigmaB), "--sigma-b", double.Parse);
            var dist = r.GetValue(distribution)!.ToLowerInvariant() switch
            {
                "normal" => ParameterDistribution.Normal,
                "uniform" => ParameterDistribution.Uniform,
                var other => throw new InitPruneException($"unknown distribution '{other}': use normal or uniform"),
            };
            bool[] looksLinear = r.GetValue(scheme)!.ToLowerInvariant() switch
            {
                "iid" => [false],
                "looks-linear" => [true],
                "both" => [false, true],
                var other => throw new InitPruneException($"unknown scheme '{other}': use iid, looks-linear or both"),
            };
            var report = StrongTicketReports.Norm(x, n, sw, sb, dist, looksLinear, r.GetValue(draws), r.GetValue(s.Seed));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "slt-norm.json"), report.Rows);
            if (json)
            {
                Output.Json(report.Rows);
                return 0;
            }
            var console = Output.Human(json);
            var t = new Table().Title(Markup.Escape($"E‖f(x0)‖², ‖x0‖² = {report.InputNormSq:0.####}, widths [{string.Join(",", report.Widths)}], {report.Distribution}"))
                .AddColumns("scheme", "formula", "simulated mean", "std. error", "z", "draws");
            foreach (var row in report.Rows)
                t.AddRow(row.Scheme, $"{row.Estimate.Formula:0.00000}", $"{row.Estimate.Mean:0.00000}", $"{row.Estimate.StandardError:0.00000}", $"{row.Estimate.ZScore:0.00}", $"{row.Estimate.Draws}");
            console.Write(t);
            console.WriteLine($"wrote slt-norm.json to {dir}");
            return 0;
        }));
        return cmd;
    }

    static Command SubsetSumCommand()
    {
        var s = new Shared();
        var sizes = new Option<string>("--sizes") { Description = $"Numbers n of random products w1·w2, comma-separated (at most {SubsetSum.MaxItems})", DefaultValueFactory = _ => "4,6,8,10,12,14,16,18,20,22,24" };
        var targets = new Option<string>("--targets") { Description = "Targets θ in [-1, 1] \\ {0}, comma-separated", DefaultValueFactory = _ => "-0.9,-0.5,-0.1,0.2,0.6,1" };
        var trials = new Option<int>("--trials") { Description = "Independent draws of the n products per target and n", DefaultValueFactory = _ => 50 };
        var outDir = s.Out("./initprune-out/theory/subset-sum");
        var cmd = new Command("subset-sum", "Seed 004 Theorem 5's subset-sum step: exact best error |θ − Σ_S w1·w2| of n random products (w1 ~ U[0,1], w2 ~ U[-1,1]) vs n, its exponential decay and a Poisson prediction; writes subset-sum.json and subset-sum.png");
        foreach (var o in new Option[] { sizes, targets, trials, outDir }) cmd.Add(o);
        s.AddRun(cmd, device: false);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            bool json = r.GetValue(s.Json);
            var result = SubsetSumStudy.Run(Shared.ParseList(r.GetValue(sizes), "--sizes", int.Parse) ?? [],
                Shared.ParseList(r.GetValue(targets), "--targets", double.Parse) ?? [], r.GetValue(trials), r.GetValue(s.Seed));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "subset-sum.json"), result);
            StrongTicketReports.PlotSubsetSum(Path.Combine(dir, "subset-sum.png"), result);
            if (json)
            {
                Output.Json(result);
                return 0;
            }
            var console = Output.Human(json);
            var t = new Table().Title($"best error over {result.Targets.Length} targets × {result.Trials} trials")
                .AddColumns("n", "median", "lower quartile", "upper quartile", "Poisson median", "median / Poisson");
            foreach (var row in result.Rows)
                t.AddRow($"{row.N}", $"{row.MedianError:0.000E+00}", $"{row.LowerQuartile:0.000E+00}", $"{row.UpperQuartile:0.000E+00}", $"{row.PoissonMedian:0.000E+00}", $"{row.MedianError / row.PoissonMedian:0.00}");
            console.Write(t);
            console.WriteLine($"ln(median) ≈ {result.Intercept:0.000} {result.Slope:+0.0000;-0.0000}·n (log10 slope {result.Log10Slope:0.0000}); Poisson slope {result.PoissonSlope:0.0000}; −ln 2 = {-Math.Log(2):0.0000}");
            console.WriteLine($"wrote subset-sum.json, subset-sum.png to {dir}");
            return 0;
        }));
        return cmd;
    }

    static TicketBoundVariant[] ParseVariants(string text) => text.ToLowerInvariant() switch
    {
        "main" => [TicketBoundVariant.MainText],
        "appendix" => [TicketBoundVariant.Appendix],
        "both" => [TicketBoundVariant.MainText, TicketBoundVariant.Appendix],
        _ => throw new InitPruneException($"unknown variant '{text}': use main, appendix or both"),
    };
}
