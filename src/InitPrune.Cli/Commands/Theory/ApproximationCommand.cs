using System.CommandLine;
using System.Globalization;
using InitPrune.Engine;
using InitPrune.Theory;
using Spectre.Console;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory approximation` (seed 002 App. G, Approximation 1) and `toy-jacobian` (seed 002 Theorem 4).</summary>
internal static class ApproximationCommand
{
    public static IEnumerable<Command> Create() => [Approximation(), ToyJacobianCommand()];

    static string F(double v, string format = "0.###") => v.ToString(format, CultureInfo.InvariantCulture);

    static Command Approximation()
    {
        var s = new Shared();
        var scale = ProbabilisticCommands.Scale();
        var width = new Option<int?>("--width") { Description = "Width n of the ReLU MLP (default smoke 32; full 100 as the paper)" };
        var depth = new Option<int?>("--depth") { Description = "Depth L: D_0 … D_L are recorded (default smoke 12; full 30 as the paper)" };
        var simulations = new Option<int?>("--simulations") { Description = "Networks N drawn per repeat, all at one fixed input (default smoke 200; full 1000 as the paper); with one --weights file, random inputs" };
        var repeats = new Option<int?>("--repeats") { Description = "Independent repeats (fresh seeds) pooled into the p-value distribution (default smoke 2; full 20)" };
        var layer = new Option<int?>("--layer") { Description = "Layer l of the scatter, within-layer tests, frequency and T_W/T_D (default min(10, L), the paper's l = 10)" };
        var pairs = new Option<int?>("--pairs") { Description = "χ² tests per repeat and family: disjoint unit pairs of D_l (at most n/2) and pairs of D_l with another layer (default 50)" };
        var sigmaW2 = new Option<double>("--sigma-w2") { Description = "σw²: weights N(0, σw²/fan_in), no biases (the result does not depend on it: ReLU is positively homogeneous)", DefaultValueFactory = _ => 2.0 };
        var init = new Option<string>("--init") { Description = "iid, or correlated: W_k = W_ind + η·w^k with one scalar w^k ~ N(0, σw²/n) per layer (seed 002 App. F, corr η²/(1+η²))", DefaultValueFactory = _ => "iid" };
        var eta = new Option<double?>("--eta") { Description = "η of --init correlated (default 0.1; the paper's Figs. 8–9 use 0.1 and 0.9)" };
        var weights = new Option<string?>("--weights") { Description = "After training: MLP weights files (comma-separated, or a folder of .safetensors/.pt), one simulation each (≥ 3); a single file is simulated over --simulations random inputs" };
        var inputDim = new Option<int?>("--input-dim") { Description = "Dimension d of the fixed input x ~ N(0, I_d) (default n; with --weights, the first layer's fan-in)" };
        var yates = new Option<bool>("--yates") { Description = "Apply Yates' continuity correction to the 2×2 χ² statistic (scipy's default; off: Pearson's)" };
        var level = new Option<double>("--level") { Description = "Confidence level of the Clopper–Pearson intervals", DefaultValueFactory = _ => 0.95 };
        var outDir = s.Out("./initprune-out/theory/approximation");
        var cmd = new Command("approximation", "Seed 002 Approximation 1 (App. G, Figs. 6–11): are the diagonal entries of D_l = Diag(φ'(Y_l)) i.i.d. Bernoulli(½) and independent of W? Over N simulated ReLU MLPs (i.i.d., correlated, or trained weights files): scatter of three entries, pairwise χ² tests and the KS uniformity of their p-values, the frequency of 1s with its binomial interval, T_W against T_D; writes approximation.json and PNGs");
        foreach (var o in new Option[] { scale, width, depth, simulations, repeats, layer, pairs, sigmaW2, init, eta, weights, inputDim, yates, level, outDir }) cmd.Add(o);
        s.AddRun(cmd, device: false);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            bool json = r.GetValue(s.Json), full = ProbabilisticCommands.IsFull(r.GetValue(scale)!);
            var kind = r.GetValue(init)!.ToLowerInvariant() switch
            {
                "iid" => ApproximationInit.Iid,
                "correlated" => ApproximationInit.Correlated,
                var other => throw new InitPruneException($"unknown --init '{other}': use iid or correlated"),
            };
            if (r.GetValue(eta) is not null && kind != ApproximationInit.Correlated) throw new InitPruneException("--eta applies to --init correlated only");
            var files = WeightFiles(r.GetValue(weights));
            if (files is not null && (kind != ApproximationInit.Iid || r.GetValue(width) is not null || r.GetValue(depth) is not null || r.GetValue(inputDim) is not null))
                throw new InitPruneException("--weights reads the network from the files: drop --init, --width, --depth and --input-dim");
            var request = new ApproximationRequest(r.GetValue(width) ?? (full ? 100 : 32), r.GetValue(depth) ?? (full ? 30 : 12),
                r.GetValue(simulations) ?? (full ? 1000 : 200), r.GetValue(sigmaW2), kind, r.GetValue(eta) ?? 0.1, files, r.GetValue(layer),
                r.GetValue(pairs) ?? 50, r.GetValue(repeats) ?? (full ? 20 : 2), r.GetValue(inputDim), r.GetValue(yates), r.GetValue(level), r.GetValue(s.Seed));
            var console = Output.Human(json);
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            var report = ApproximationStudy.Run(request, k => console.WriteLine($"repeat {k + 1} done"));
            Artifacts.WriteJson(Path.Combine(dir, "approximation.json"), report);
            var pngs = ApproximationStudy.Plot(dir, report);
            if (json)
            {
                Output.Json(report);
                return 0;
            }
            string setting = report.Source switch
            {
                "weights" => $"{report.WeightFiles!.Length} weights file(s), simulated over {report.SimulatedOver}",
                "correlated" => $"correlated weights, η = {F(report.Eta)} (corr {F(report.WeightCorrelation, "0.####")})",
                _ => $"i.i.d. weights, σw² = {F(report.SigmaW2)}",
            };
            console.WriteLine($"Approximation 1 at l = {report.Layer}: {setting}; n = {report.Width}, L = {report.Depth}, {report.Simulations} simulations × {report.Repeats} repeat(s)");
            var fq = report.Frequency;
            console.WriteLine($"  frequency of 1s in D_{report.Layer}: {F(fq.Layer.Fraction, "0.0000")} [{F(fq.Layer.Lower, "0.0000")}, {F(fq.Layer.Upper, "0.0000")}] ({100 * report.Level:0.#}% Clopper–Pearson, {fq.Layer.Trials} entries), contains ½: {(fq.Layer.Contains(0.5) ? "yes" : "no")}; units whose own interval excludes ½: {100 * fq.UnitsExcludingHalf:0.0}%");
            console.WriteLine($"  entries {string.Join(", ", report.Entries.Units)}: frequencies {string.Join(", ", fq.Entries.Select(p => F(p.Fraction)))}; χ² {string.Join("; ", report.Entries.Pairs.Select(p => $"{p.Pair}: {F(p.Statistic, "0.####")} (p {F(p.PValue, "0.###")})"))}");
            foreach (var fam in new[] { report.WithinLayer, report.AcrossLayers })
                console.WriteLine($"  χ² p-values {fam.Family}: {fam.PValues.Length} tests ({fam.Degenerate} degenerate), {100 * fam.FractionBelow005:0.0}% below 0.05, KS against U(0, 1) D = {F(fam.Uniformity.Statistic, "0.0000")}, p = {F(fam.Uniformity.PValue, "0.###")}; randomized conditional p-values: D = {F(fam.RandomizedUniformity.Statistic, "0.0000")}, p = {F(fam.RandomizedUniformity.PValue, "0.###")}");
            var wd = report.Weights;
            console.WriteLine($"  T_W(W_{report.Layer}) against T_D(D_{report.Layer}): r = {F(wd.Same.R)}, p = {wd.Same.PValue.ToString("g3", CultureInfo.InvariantCulture)}"
                + (wd.Next is { } c ? $"; control T_W(W_{report.Layer + 1}) against T_D(D_{report.Layer}): r = {F(c.R)}, p = {c.PValue.ToString("g3", CultureInfo.InvariantCulture)}" : ""));
            var v = report.Verdict;
            console.WriteLine($"  at the 1% level: frequency ½ {Yes(v.FrequencyHalf)}, randomized p-values uniform within {Yes(v.WithinLayerUniform)} and across layers {Yes(v.AcrossLayersUniform)}, T_W ⟂ T_D {(v.WeightsUncorrelated is { } u ? Yes(u) : "n/a")} → {(v.Holds ? "consistent with" : "contradicts")} Approximation 1");
            console.WriteLine($"{report.Seconds:0.0} s; wrote approximation.json, {string.Join(", ", pngs)} to {dir}");
            return 0;
        }));
        return cmd;
    }

    static string Yes(bool b) => b ? "yes" : "no";

    /// <summary>The --weights list: comma-separated files, a folder meaning its .safetensors/.pt/.pth files in name order; null when not given.</summary>
    static IReadOnlyList<string>? WeightFiles(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var files = new List<string>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Directory.Exists(item))
            {
                var found = Directory.GetFiles(item).Where(f => f.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
                    || f.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".pth", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) throw new InitPruneException($"--weights folder '{item}' holds no .safetensors, .pt or .pth file");
                files.AddRange(found);
            }
            else if (File.Exists(item)) files.Add(item);
            else throw new InitPruneException($"--weights '{item}' does not exist");
        }
        return files;
    }

    static Command ToyJacobianCommand()
    {
        var s = new Shared();
        var depth = new Option<int>("--depth") { Description = "Depth L of the width-1 linear network y = (Π w_l) x", DefaultValueFactory = _ => 3 };
        var alpha = new Option<double>("--alpha") { Description = "α > 0 of the oracle y*(x) = αx", DefaultValueFactory = _ => 1.0 };
        var lr = new Option<double>("--lr") { Description = "Learning rate γ of full-batch GD on L = (1/2N) Σ (y(x_i) − αx_i)²", DefaultValueFactory = _ => 1e-3 };
        var samples = new Option<int>("--samples") { Description = "Dataset size N (x_i ~ N(0, 1), drawn once)", DefaultValueFactory = _ => 100 };
        var trials = new Option<int>("--trials") { Description = "Weight draws w_l ~ N(0, σw²)", DefaultValueFactory = _ => 100_000 };
        var steps = new Option<int>("--steps") { Description = "GD steps of the trajectory", DefaultValueFactory = _ => 50 };
        var sigmaW2 = new Option<double>("--sigma-w2") { Description = "σw² of the weights (1 gives the theorem's E[A₀] = 1)", DefaultValueFactory = _ => 1.0 };
        var outDir = s.Out("./initprune-out/theory/toy-jacobian");
        var cmd = new Command("toy-jacobian", "Seed 002 Theorem 4's toy model: a width-1 depth-L linear network learning y = αx by GD; E[A₀] = E[J₀(J₀ − α)] against σw^(2L), the mean first-step change of J² against its closed form −2γ x̄² L σw² (3σw⁴)^(L−1), the fraction of draws where J² falls; writes toy-jacobian.json and toy-jacobian.png");
        foreach (var o in new Option[] { depth, alpha, lr, samples, trials, steps, sigmaW2, outDir }) cmd.Add(o);
        s.AddRun(cmd, device: false);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            bool json = r.GetValue(s.Json);
            var report = ToyJacobian.Run(new ToyJacobianRequest(r.GetValue(depth), r.GetValue(alpha), r.GetValue(lr), r.GetValue(samples), r.GetValue(trials),
                r.GetValue(steps), r.GetValue(sigmaW2), r.GetValue(s.Seed)));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "toy-jacobian.json"), report);
            ToyJacobian.Plot(Path.Combine(dir, "toy-jacobian.png"), report);
            if (json)
            {
                Output.Json(report);
                return 0;
            }
            var console = Output.Human(json);
            string G(double v) => v.ToString("g4", CultureInfo.InvariantCulture);
            console.WriteLine($"Theorem 4 toy model: L = {report.Depth}, α = {G(report.Alpha)}, γ = {G(report.LearningRate)}, σw² = {G(report.SigmaW2)}, x̄² = {G(report.MeanX2)} (N = {report.Samples}), {report.Trials} draws");
            console.WriteLine($"  E[A₀]: measured {G(report.MeanA0)} ± {G(report.StandardErrorA0)}, theory {G(report.TheoryA0)}");
            console.WriteLine($"  first-order change −2γJΓ of J² at step 1: measured {G(report.MeanFirstOrder)} ± {G(report.StandardErrorFirstOrder)}, theory {G(report.TheoryFirstOrder)}; exact change {G(report.MeanExactChange)} ± {G(report.StandardErrorExactChange)}");
            console.WriteLine($"  J² fell at step 1 in {100 * report.FractionDecreasing:0.0}% of the draws; median J² {G(report.MedianJ2[0])} → {G(report.MedianJ2[1])} → {G(report.MedianJ2[^1])} (step {report.Steps})");
            console.WriteLine($"{report.Seconds:0.0} s; wrote toy-jacobian.json, toy-jacobian.png to {dir}");
            return 0;
        }));
        return cmd;
    }
}
