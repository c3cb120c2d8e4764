using System.CommandLine;
using InitPrune.Engine;
using InitPrune.Theory;
using Spectre.Console;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory` subcommands for seed 003 (probabilistic pruning bounds).</summary>
internal static class ProbabilisticCommands
{
    public static IEnumerable<Command> Create() => [QkBounds(), Table2(), Table3(), ConvNorm()];

    internal static Option<string> Scale() => new("--scale") { Description = "smoke (small sizes and trials, seconds) or full (the paper's sizes and trials, minutes)", DefaultValueFactory = _ => "smoke" };

    internal static bool IsFull(string scale) => scale.ToLowerInvariant() switch
    {
        "smoke" => false,
        "full" => true,
        _ => throw new InitPruneException($"unknown --scale '{scale}': use smoke or full"),
    };

    static Command QkBounds()
    {
        var s = new Shared();
        var theorem = new Option<string>("--theorem") { Description = "Which calculator: 1 (magnitude, FCN), 2 (random, FCN), 3 (random filters, CNN) or all", DefaultValueFactory = _ => "all" };
        var widths = new Option<string>("--widths") { Description = "Widths d_0,...,d_l (depth l ≥ 3; d = min hidden width); Theorem 3 takes its depth l from here", DefaultValueFactory = _ => "784,1024,1024,1024,10" };
        var alpha = new Option<double>("--alpha") { Description = "Pruning exponent α: ⌊D_k^{1−α}⌋ weights (Thm 1, 2) or ⌊d^{2−α}⌋ filters (Thm 3) pruned per inner layer", DefaultValueFactory = _ => 0.3 };
        var epsilon = new Option<double>("--epsilon") { Description = "Target gap ε: sup over the unit ball of ‖f(x) − F(x)‖₂", DefaultValueFactory = _ => 1.0 };
        var delta = new Option<double>("--delta") { Description = "Failure probability δ, in (0, 1)", DefaultValueFactory = _ => 0.1 };
        var lipschitz = new Option<string>("--lipschitz") { Description = "Lipschitz constants L_1,...,L_{l−1} of the activations (one value is repeated; Thm 3 uses the first)", DefaultValueFactory = _ => "1" };
        var k = new Option<double>("--k") { Description = "Thm 1: weights U[−K/√max(d_k,d_{k−1}), +K/√…]", DefaultValueFactory = _ => 1.0 };
        var c0 = new Option<double?>("--c0") { Description = "Thm 1: Lemma 3's bound ‖W_k‖₂ ≤ c0 (default 1.218·K, Table 2's largest for K = 1)" };
        var delta0 = new Option<double>("--delta0") { Description = "Thm 1: Lemma 3's rate δ0 in 1 − 2e^{−4δ0 d} (default Table 2's smallest)", DefaultValueFactory = _ => ProbabilisticConstants.Table2Delta0 };
        var latala = new Option<double>("--latala-c") { Description = "The universal constant C of Lemma 4 (default Table 3's largest)", DefaultValueFactory = _ => ProbabilisticConstants.Table3C };
        var k1 = new Option<double>("--k1") { Description = "Thm 2: E W² ≤ K1/max(d_k, d_{k−1})", DefaultValueFactory = _ => 1.0 };
        var k2 = new Option<double>("--k2") { Description = "Thm 2: E W⁴ ≤ K2/max(d_k, d_{k−1})² (3 for Gaussian weights of variance 1/d)", DefaultValueFactory = _ => 3.0 };
        var normBounds = new Option<string>("--norm-bounds") { Description = "Thm 2: N_1,...,N_l with P(‖W_k‖₂ ≤ N_k) ≥ 1 − δ_k (one value is repeated)", DefaultValueFactory = _ => "2.5" };
        var normDeltas = new Option<string>("--norm-deltas") { Description = "Thm 2: δ_1,...,δ_l (one value is repeated)", DefaultValueFactory = _ => "0.001" };
        var channels = new Option<int>("--channels") { Description = "Thm 3: channels d of every inner convolution", DefaultValueFactory = _ => 512 };
        var inputChannels = new Option<int>("--input-channels") { Description = "Thm 3: input channels d_0", DefaultValueFactory = _ => 3 };
        var outputs = new Option<int>("--outputs") { Description = "Thm 3: outputs d_l of the final fully-connected layer", DefaultValueFactory = _ => 10 };
        var spatial = new Option<int>("--spatial") { Description = "Thm 3: side p of the inner feature maps", DefaultValueFactory = _ => 32 };
        var inputSpatial = new Option<int>("--input-spatial") { Description = "Thm 3: side p_0 of the input image", DefaultValueFactory = _ => 32 };
        var kernel = new Option<int>("--kernel-size") { Description = "Thm 3: kernel side q", DefaultValueFactory = _ => 3 };
        var beta1 = new Option<double>("--beta1") { Description = "Thm 3: β1 in (0, 1)", DefaultValueFactory = _ => 0.1 };
        var beta2 = new Option<double>("--beta2") { Description = "Thm 3: β2 in (0, α/4)", DefaultValueFactory = _ => 0.05 };
        var mc1 = new Option<double>("--moment-c1") { Description = "Thm 3: E F² ≤ C1/(p²d)", DefaultValueFactory = _ => 1.0 };
        var mc2 = new Option<double>("--moment-c2") { Description = "Thm 3: E F⁴ ≤ C2/(p⁴d²)", DefaultValueFactory = _ => 3.0 };
        var c5 = new Option<double?>("--c5") { Description = "Thm 3: C5 of P(‖W_l‖ ≤ p^{−β1}) ≥ 1 − C5/p^{1−β1} (unspecified in the paper; default C3)" };
        var outDir = s.Out("./initprune-out/theory/qk-bounds");
        var cmd = new Command("qk-bounds", "Seed 003 Theorems 1–3: required minimum width, gap bound, success probability and admissibility of α for magnitude/random pruning of FCNs and random filter pruning of CNNs; writes qk-bounds.json");
        foreach (var o in new Option[] { theorem, widths, alpha, epsilon, delta, lipschitz, k, c0, delta0, latala, k1, k2, normBounds, normDeltas, channels, inputChannels, outputs, spatial, inputSpatial, kernel, beta1, beta2, mc1, mc2, c5, outDir }) cmd.Add(o);
        s.AddRun(cmd, seed: false, device: false);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            bool json = r.GetValue(s.Json);
            var which = r.GetValue(theorem)!.ToLowerInvariant();
            var theorems = which switch
            {
                "1" => QkTheorems.Magnitude,
                "2" => QkTheorems.Random,
                "3" => QkTheorems.Convolution,
                "all" => QkTheorems.All,
                _ => throw new InitPruneException($"unknown --theorem '{which}': use 1, 2, 3 or all"),
            };
            var summary = ProbabilisticReports.QkBounds(new(
                Shared.ParseList(r.GetValue(widths), "--widths", int.Parse) ?? [], r.GetValue(alpha), r.GetValue(epsilon), r.GetValue(delta),
                Shared.ParseList(r.GetValue(lipschitz), "--lipschitz", double.Parse) ?? [],
                theorems.HasFlag(QkTheorems.Random) ? Shared.ParseList(r.GetValue(normBounds), "--norm-bounds", double.Parse) ?? [] : [],
                theorems.HasFlag(QkTheorems.Random) ? Shared.ParseList(r.GetValue(normDeltas), "--norm-deltas", double.Parse) ?? [] : [],
                r.GetValue(channels), r.GetValue(inputChannels), r.GetValue(outputs), r.GetValue(spatial), r.GetValue(inputSpatial), r.GetValue(kernel),
                r.GetValue(beta1), r.GetValue(beta2), theorems, K: r.GetValue(k), C0: r.GetValue(c0), Delta0: r.GetValue(delta0), LatalaC: r.GetValue(latala),
                K1: r.GetValue(k1), K2: r.GetValue(k2), MomentC1: r.GetValue(mc1), MomentC2: r.GetValue(mc2), C5: r.GetValue(c5)));
            var (a, t1, t2, t3) = (summary.Alpha, summary.Theorem1, summary.Theorem2, summary.Theorem3);
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "qk-bounds.json"), summary);
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            var console = Output.Human(json);
            if (t1 is not null)
                console.Write(Quantities($"Theorem 1 (magnitude pruning, FCN), d = {t1.D}, α = {a}", [
                    ("pruned per inner layer ⌊D_k^(1−α)⌋", string.Join(", ", t1.PrunedPerLayer.Select(v => v.ToString("N0")))),
                    ("d ≥ max(d_0, d_l) (assumption ii)", Yes(t1.WidthAssumption)),
                    ("c0, c2", $"{t1.C0:g4}, {t1.SmallC2:g4}"),
                    ("C1..C5", $"{t1.C1:g4}, {t1.C2:g4}, {t1.C3:g4}, {t1.C4:g4}, {t1.C5:g4}"),
                    ("required width d_min", Width(t1.Log10RequiredWidth)),
                    ("d ≥ d_min", Yes(t1.WidthSufficient)),
                    ("gap bound at d", $"{t1.GapBound:g4} (d^−α ≤ c0: {Yes(t1.GapConditionHolds)})"),
                    ("success probability p0 at d", Probability(t1.SuccessProbability))]));
            if (t2 is not null)
                console.Write(Quantities($"Theorem 2 (random pruning, FCN), d = {t2.D}, α = {a}", [
                    .. t2.Layers.Select(c => ($"layer {c.Layer}: pruned, α_max rows/cols", $"{c.Pruned:N0}, {c.AlphaMaxRows:0.0000}/{c.AlphaMaxColumns:0.0000} ({Yes(c.RowsHold && c.ColumnsHold)})")),
                    ("α admissible (conditions 3, 4)", Yes(t2.AlphaAdmissible)),
                    ("δ0 = δ − [δ_l + Σ(l−i)δ_i] (condition 5)", $"{t2.SmallDelta0:g4} ({Yes(t2.DeltaBudgetHolds)})"),
                    ("c2; C1..C4", $"{t2.SmallC2:g4}; {t2.C1:g4}, {t2.C2:g4}, {t2.C3:g4}, {t2.C4:g4}"),
                    ("required width d_min", Width(t2.Log10RequiredWidth)),
                    ("d ≥ d_min", Yes(t2.WidthSufficient)),
                    ("gap bound at d", $"{t2.GapBound:g4} (d^−α/4 ≤ N_k: {Yes(t2.GapConditionHolds)})"),
                    ("mask probability (1 − d^−1/3)^2(l−2)", $"{t2.MaskProbability:g4}"),
                    ("success probability p0 at d", Probability(t2.SuccessProbability))]));
            if (t3 is not null)
                console.Write(Quantities($"Theorem 3 (random filter pruning, CNN), l = {t3.Depth}, α = {a}", [
                    ("filters pruned ⌊d^(2−α)⌋", $"{t3.PrunedFilters:N0}"),
                    ("α_max = 2 − (log(d+1) + log log d)/log d", $"{t3.AlphaMax:0.0000} (admissible: {Yes(t3.AlphaAdmissible)}, ⌊d^(2−α)⌋ ≥ d log d: {Yes(t3.BallsIntoBinsHolds)})"),
                    ("d ≥ max(d_0, d_l)", Yes(t3.WidthAssumption)),
                    ("C3, C4, C5", $"{t3.C3:g4}, {t3.C4:g4}, {t3.C5:g4}"),
                    ("gap bound (11)", $"{t3.GapBound:g4}" + (t3.EpsilonMet is { } met ? $" (≤ ε: {Yes(met)})" : "")),
                    ("mask probability", $"{t3.MaskProbability:g4}"),
                    ("weight probability p̄", Probability(t3.WeightProbability)),
                    ("success probability", Probability(t3.SuccessProbability))]));
            console.WriteLine($"wrote qk-bounds.json to {dir}");
            return 0;
        }));
        return cmd;
    }

    static string Probability(double p) => p > 0 ? $"{p:g4}" : $"{p:g4} (vacuous)";

    static string Yes(bool b) => b ? "yes" : "no";

    static string Width(double log10) => double.IsPositiveInfinity(log10) ? "∞ (δ0 ≤ 0)" : log10 < 9 ? $"{Math.Ceiling(Math.Pow(10, log10)):N0}" : $"10^{log10:0.00}";

    static Table Quantities(string title, IEnumerable<(string Name, string Value)> rows)
    {
        var t = new Table().Title(Markup.Escape(title)).AddColumns("quantity", "value");
        foreach (var (n, v) in rows) t.AddRow(Markup.Escape(n), Markup.Escape(v));
        return t;
    }

    static Command Table2()
    {
        var s = new Shared();
        var scale = Scale();
        var sizes = new Option<string?>("--sizes") { Description = "Matrix sides; every pair n1 ≤ n2 is a row (default smoke 32,64,128; full 32,64,128,256,512 as the paper)" };
        var trials = new Option<int?>("--trials") { Description = "Matrices per row (default smoke 200; full 1000 as the paper)" };
        var outDir = s.Out("./initprune-out/theory/table2");
        var cmd = new Command("table2", "Seed 003 Table 2 (Lemma 3) by Monte Carlo: ‖B‖₂ of n1×n2 matrices with U[−K/√n, K/√n] entries, K = 1 and √3: mean, std, c0 and δ0 at q = 95…99.99%, beside the paper's values; writes table2.json and table2.png");
        foreach (var o in new Option[] { scale, sizes, trials, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json), full = IsFull(r.GetValue(scale)!);
            var n = Shared.ParseList(r.GetValue(sizes), "--sizes", int.Parse) ?? (full ? [32, 64, 128, 256, 512] : [32, 64, 128]);
            int count = r.GetValue(trials) ?? (full ? 1000 : 200);
            var console = Output.Human(json);
            var summary = ProbabilisticReports.Table2(n, count, r.GetValue(s.Seed), (n1, n2) => console.WriteLine($"{n1}×{n2} done"));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            ProbabilisticReports.PlotTable2(Path.Combine(dir, "table2.png"), summary);
            Artifacts.WriteJson(Path.Combine(dir, "table2.json"), summary);
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            var t = new Table().Title($"Lemma 3: ours ({count} matrices) / paper (1000)").AddColumns("n1", "n2", "K", "E‖B‖₂", "std", "c0 95%", "c0 99%", "c0 99.9%", "c0 99.99%", "δ0 95…99.99%");
            foreach (var p in summary.Rows)
                t.AddRow($"{p.Ours.N1}", $"{p.Ours.N2}", p.Ours.K == 1 ? "1" : "√3", Pair(p.Ours.Mean, p.Paper?.Mean), Pair(p.Ours.Std, p.Paper?.Std),
                    Pair(p.Ours.C0[0], p.Paper?.C0[0]), Pair(p.Ours.C0[1], p.Paper?.C0[1]), Pair(p.Ours.C0[2], p.Paper?.C0[2]), Pair(p.Ours.C0[3], p.Paper?.C0[3]),
                    string.Join(" ", p.Ours.Delta0.Select(v => v.ToString("0.000"))));
            console.Write(t);
            console.WriteLine($"wrote table2.json, table2.png to {dir}");
            return 0;
        }));
        return cmd;
    }

    static string Pair(double ours, double? paper) => paper is { } p ? $"{ours:0.000} / {p:0.000}" : $"{ours:0.000} / –";

    static Command Table3()
    {
        var s = new Shared();
        var scale = Scale();
        var sizes = new Option<string?>("--sizes") { Description = "Matrix sides d (default smoke 32,64,128; full 32,64,128,256,512 as the paper)" };
        var trials = new Option<int?>("--trials") { Description = "Matrices per row (default smoke 100; full 500 as the paper)" };
        var alphas = new Option<string>("--alphas") { Description = "α of the randomly pruned N(0, 1/d) rows (⌊d^(2−α)⌋ entries zeroed with replacement); the paper has them up to d = 256", DefaultValueFactory = _ => "0.01,0.1,0.5" };
        var outDir = s.Out("./initprune-out/theory/table3");
        var cmd = new Command("table3", "Seed 003 Table 3 (Lemma 4, Latała) by Monte Carlo: the three Latała terms (empirical as the paper, and exact), E‖A‖₂ and the implied constant C, for U, N(0,1/d), N(0,3/d) and randomly pruned N(0,1/d), beside the paper's values; writes table3.json and table3.png");
        foreach (var o in new Option[] { scale, sizes, trials, alphas, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json), full = IsFull(r.GetValue(scale)!);
            var ds = Shared.ParseList(r.GetValue(sizes), "--sizes", int.Parse) ?? (full ? [32, 64, 128, 256, 512] : [32, 64, 128]);
            var alist = Shared.ParseList(r.GetValue(alphas), "--alphas", double.Parse) ?? [];
            int count = r.GetValue(trials) ?? (full ? 500 : 100);
            var console = Output.Human(json);
            var summary = ProbabilisticReports.Table3(ds, alist, count, r.GetValue(s.Seed),
                row => console.WriteLine($"d = {row.D}, {ProbabilisticReports.DistributionName(row.Distribution, row.Alpha)} done"));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            ProbabilisticReports.PlotTable3(Path.Combine(dir, "table3.png"), summary);
            Artifacts.WriteJson(Path.Combine(dir, "table3.json"), summary);
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            var t = new Table().Title($"Lemma 4: ours ({count} matrices) / paper (500); C_exact uses the closed-form moments")
                .AddColumns("d", "distribution", "max row", "max col", "4th", "E‖A‖₂ ± se", "C", "C_exact");
            foreach (var p in summary.Rows)
                t.AddRow($"{p.Ours.D}", Markup.Escape(ProbabilisticReports.DistributionName(p.Ours.Distribution, p.Ours.Alpha)), Pair(p.Ours.Empirical.Rows, p.Paper?.Rows), Pair(p.Ours.Empirical.Columns, p.Paper?.Columns),
                    Pair(p.Ours.Empirical.Fourth, p.Paper?.Fourth), $"{Pair(p.Ours.MeanNorm, p.Paper?.MeanNorm)} ± {p.Ours.MeanNormStdErr:0.000}", Pair(p.Ours.C, p.Paper?.C), $"{p.Ours.CExact:0.000}");
            console.Write(t);
            console.WriteLine($"wrote table3.json, table3.png to {dir}");
            return 0;
        }));
        return cmd;
    }

    static Command ConvNorm()
    {
        var s = new Shared();
        var size = new Option<int>("--size") { Description = "Side n of the n×n circular image", DefaultValueFactory = _ => 8 };
        var kernelSize = new Option<int>("--kernel-size") { Description = "Side k of the k×k kernel (ignored with --kernel)", DefaultValueFactory = _ => 3 };
        var inCh = new Option<int>("--in-channels") { Description = "Input channels d", DefaultValueFactory = _ => 1 };
        var outCh = new Option<int>("--out-channels") { Description = "Output channels d'", DefaultValueFactory = _ => 1 };
        var kernel = new Option<string?>("--kernel") { Description = "Kernel values, row-major [d', d, k, k], comma-separated (k from the count); default N(0, 1) from --seed" };
        var noDense = new Option<bool>("--no-dense") { Description = "Skip the dense matrix and its SVD (for large images)" };
        var outDir = s.Out("./initprune-out/theory/conv-norm");
        var cmd = new Command("conv-norm", "Seed 003 Eqs. 7–9 and Lemma 7: spectral norm of a circular (wrap-around, stride 1) convolution by the FFT formula and by the SVD of its doubly block circulant matrix, and the matrix checked against a direct conv2d; writes conv-norm.json");
        foreach (var o in new Option[] { size, kernelSize, inCh, outCh, kernel, noDense, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var summary = ProbabilisticReports.ConvNorm(r.GetValue(size), r.GetValue(kernelSize), r.GetValue(inCh), r.GetValue(outCh),
                Shared.ParseList(r.GetValue(kernel), "--kernel", double.Parse), !r.GetValue(noDense), r.GetValue(s.Seed));
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "conv-norm.json"), summary);
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            var console = Output.Human(json);
            console.Write(Quantities($"{summary.OutChannels}×{summary.InChannels} channels, {summary.KernelSize}×{summary.KernelSize} kernel on {summary.Size}×{summary.Size} circular images", [
                ("‖W‖₂ by FFT (Lemma 7)", $"{summary.FftNorm:g10}"),
                ("‖W‖₂ by SVD of the dense matrix (Eqs. 7–9)", summary.DenseNorm is { } d2 ? $"{d2:g10}" : "skipped"),
                ("|difference|", summary.AbsDifference is { } ad ? $"{ad:g3}" : "–"),
                ("max |W·vec(X) − conv2d(X)|, random X", summary.MaxConvError is { } ce ? $"{ce:g3}" : "–")]));
            console.WriteLine($"wrote conv-norm.json to {dir}");
            return 0;
        }));
        return cmd;
    }
}
