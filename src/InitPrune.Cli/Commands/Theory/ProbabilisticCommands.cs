using System.CommandLine;
using InitPrune.Engine;
using InitPrune.Reporting;
using InitPrune.Theory;
using Spectre.Console;
using static TorchSharp.torch;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory` subcommands for seed 003 (probabilistic pruning bounds).</summary>
internal static class ProbabilisticCommands
{
    public static IEnumerable<Command> Create() => [QkBounds(), Table2(), Table3(), ConvNorm()];

    static Option<string> Scale() => new("--scale") { Description = "smoke (small sizes and trials, seconds) or full (the paper's sizes and trials, minutes)", DefaultValueFactory = _ => "smoke" };

    static bool IsFull(string scale) => scale.ToLowerInvariant() switch
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
            if (which is not ("1" or "2" or "3" or "all")) throw new InitPruneException($"unknown --theorem '{which}': use 1, 2, 3 or all");
            var w = Shared.ParseList(r.GetValue(widths), "--widths", int.Parse) ?? [];
            var lip = Shared.ParseList(r.GetValue(lipschitz), "--lipschitz", double.Parse) ?? [];
            double a = r.GetValue(alpha), eps = r.GetValue(epsilon), del = r.GetValue(delta);
            var t1 = which is "1" or "all" ? MagnitudePruningBound.Evaluate(new(w, a, eps, del, lip, r.GetValue(k), r.GetValue(c0), r.GetValue(delta0), r.GetValue(latala))) : null;
            var t2 = which is "2" or "all" ? RandomPruningBound.Evaluate(new(w, a, eps, del, lip,
                Shared.ParseList(r.GetValue(normBounds), "--norm-bounds", double.Parse) ?? [], Shared.ParseList(r.GetValue(normDeltas), "--norm-deltas", double.Parse) ?? [],
                r.GetValue(k1), r.GetValue(k2), r.GetValue(latala))) : null;
            var t3 = which is "3" or "all" ? ConvPruningBound.Evaluate(new(w.Length - 1, r.GetValue(channels), r.GetValue(inputChannels), r.GetValue(outputs),
                r.GetValue(spatial), r.GetValue(inputSpatial), r.GetValue(kernel), lip.FirstOrDefault(1), a, r.GetValue(beta1), r.GetValue(beta2), eps,
                r.GetValue(mc1), r.GetValue(mc2), r.GetValue(latala), r.GetValue(c5))) : null;
            var summary = new { Widths = w, Alpha = a, Epsilon = eps, Delta = del, Theorem1 = t1, Theorem2 = t2, Theorem3 = t3 };
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
            var rows = new List<Table2Row>();
            foreach (var (n1, n2) in n.Distinct().Order().SelectMany((a, i) => n.Distinct().Order().Skip(i).Select(b => (a, b))))
            {
                rows.AddRange(UniformNormStudy.Rows(n1, n2, [1, Math.Sqrt(3)], count, r.GetValue(s.Seed)));
                console.WriteLine($"{n1}×{n2} done");
            }
            var paired = rows.Select(x => new { Ours = x, Paper = Seed003Tables.Table2.FirstOrDefault(p => p.N1 == x.N1 && p.N2 == x.N2 && Math.Abs(p.K - x.K) < 1e-9) }).ToList();
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            var ones = paired.Where(p => p.Ours.K == 1).ToList();
            var x = ones.Select((_, i) => (double)i).ToArray();
            var withPaper = ones.Select((p, i) => (p, i)).Where(t => t.p.Paper is not null).ToList();
            Plots.Lines(Path.Combine(dir, "table2.png"), "Seed 003 Table 2: E‖B‖₂, K = 1", "n1×n2", "E‖B‖₂",
                [new("ours", x, [.. ones.Select(p => p.Ours.Mean)], [.. ones.Select(p => p.Ours.Std)]),
                 new("paper", [.. withPaper.Select(t => (double)t.i)], [.. withPaper.Select(t => t.p.Paper!.Mean)])],
                xTickLabels: [.. ones.Select(p => $"{p.Ours.N1}×{p.Ours.N2}")]);
            var summary = new { Trials = count, Seed = r.GetValue(s.Seed), Rows = paired };
            Artifacts.WriteJson(Path.Combine(dir, "table2.json"), summary);
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            var t = new Table().Title($"Lemma 3: ours ({count} matrices) / paper (1000)").AddColumns("n1", "n2", "K", "E‖B‖₂", "std", "c0 95%", "c0 99%", "c0 99.9%", "c0 99.99%", "δ0 95…99.99%");
            foreach (var p in paired)
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
            var settings = new[] { Lemma4Distribution.Uniform, Lemma4Distribution.Normal1, Lemma4Distribution.Normal3 }
                .SelectMany(dist => ds.Select(d => (D: d, Dist: dist, Alpha: (double?)null)))
                .Concat(alist.SelectMany(a => ds.Select(d => (D: d, Dist: Lemma4Distribution.PrunedNormal1, Alpha: (double?)a)))).ToList();
            var console = Output.Human(json);
            var paired = settings.Select(st =>
            {
                var row = LatalaStudy.Row(st.D, st.Dist, st.Alpha, count, r.GetValue(s.Seed));
                console.WriteLine($"d = {row.D}, {Name(row.Distribution, row.Alpha)} done");
                var paper = Seed003Tables.Table3.FirstOrDefault(p => p.D == row.D && p.Distribution == row.Distribution && p.Alpha == row.Alpha);
                return new { Ours = row, Paper = paper };
            }).ToList();
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            var groups = paired.GroupBy(p => Name(p.Ours.Distribution, p.Ours.Alpha)).ToList();
            Plots.Lines(Path.Combine(dir, "table3.png"), "Seed 003 Table 3: implied Latała constant C = E‖A‖₂ / (sum of terms)", "d", "C",
                [.. groups.Select(g => new Series(g.Key, [.. g.Select(p => (double)p.Ours.D)], [.. g.Select(p => p.Ours.C)]))]);
            var summary = new { Trials = count, Seed = r.GetValue(s.Seed), Rows = paired };
            Artifacts.WriteJson(Path.Combine(dir, "table3.json"), summary);
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            var t = new Table().Title($"Lemma 4: ours ({count} matrices) / paper (500); C_exact uses the closed-form moments")
                .AddColumns("d", "distribution", "max row", "max col", "4th", "E‖A‖₂ ± se", "C", "C_exact");
            foreach (var p in paired)
                t.AddRow($"{p.Ours.D}", Markup.Escape(Name(p.Ours.Distribution, p.Ours.Alpha)), Pair(p.Ours.Empirical.Rows, p.Paper?.Rows), Pair(p.Ours.Empirical.Columns, p.Paper?.Columns),
                    Pair(p.Ours.Empirical.Fourth, p.Paper?.Fourth), $"{Pair(p.Ours.MeanNorm, p.Paper?.MeanNorm)} ± {p.Ours.MeanNormStdErr:0.000}", Pair(p.Ours.C, p.Paper?.C), $"{p.Ours.CExact:0.000}");
            console.Write(t);
            console.WriteLine($"wrote table3.json, table3.png to {dir}");
            return 0;
        }));
        return cmd;
    }

    static string Name(Lemma4Distribution d, double? alpha) => d switch
    {
        Lemma4Distribution.Uniform => "U[−√(3/d), √(3/d)]",
        Lemma4Distribution.Normal1 => "N(0, 1/d)",
        Lemma4Distribution.Normal3 => "N(0, 3/d)",
        _ => $"N(0, 1/d) pruned, α = {alpha}",
    };

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
        var cmd = new Command("conv-norm", "Seed 003 Eqs. 7–9 and Lemma 7: spectral norm of a circular (wrap-around, stride 1) convolution by the FFT formula and by the SVD of its doubly block circulant matrix, and the matrix checked against torch's conv2d; writes conv-norm.json");
        foreach (var o in new Option[] { size, kernelSize, inCh, outCh, kernel, noDense, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            int n = r.GetValue(size), dIn = r.GetValue(inCh), dOut = r.GetValue(outCh);
            if (n < 1 || dIn < 1 || dOut < 1) throw new InitPruneException("--size, --in-channels and --out-channels must be positive");
            using var gen = new Generator((ulong)Seeds.For(r.GetValue(s.Seed), "conv-norm"));
            using var k = KernelFrom(Shared.ParseList(r.GetValue(kernel), "--kernel", double.Parse), r.GetValue(kernelSize), dOut, dIn, gen);
            double fftNorm = CircularConvolution.SpectralNormFft(k, n);
            double? denseNorm = null, convError = null;
            if (!r.GetValue(noDense))
            {
                if ((long)n * n * Math.Max(dIn, dOut) > 4096) throw new InitPruneException($"the dense matrix would be {dOut * n * n}×{dIn * n * n}: too large for an SVD here; pass --no-dense or a smaller --size");
                denseNorm = CircularConvolution.SpectralNormDense(k, n);
                using var img = randn([dIn, n, n], dtype: ScalarType.Float64, generator: gen);
                using var w = CircularConvolution.Matrix(k, n);
                using var viaMatrix = w.matmul(img.flatten()).view(dOut, n, n);
                using var viaConv = CircularConvolution.Apply(k, img);
                using var diff = viaMatrix.sub(viaConv).abs().max();
                convError = diff.item<double>();
            }
            var summary = new { Size = n, KernelSize = k.shape[^1], InChannels = dIn, OutChannels = dOut, FftNorm = fftNorm, DenseNorm = denseNorm, AbsDifference = denseNorm is { } dn ? Math.Abs(dn - fftNorm) : (double?)null, MaxConvError = convError };
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            Artifacts.WriteJson(Path.Combine(dir, "conv-norm.json"), summary);
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            var console = Output.Human(json);
            console.Write(Quantities($"{dOut}×{dIn} channels, {k.shape[^1]}×{k.shape[^1]} kernel on {n}×{n} circular images", [
                ("‖W‖₂ by FFT (Lemma 7)", $"{fftNorm:g10}"),
                ("‖W‖₂ by SVD of the dense matrix (Eqs. 7–9)", denseNorm is { } d2 ? $"{d2:g10}" : "skipped"),
                ("|difference|", summary.AbsDifference is { } ad ? $"{ad:g3}" : "–"),
                ("max |W·vec(X) − conv2d(X)|, random X", convError is { } ce ? $"{ce:g3}" : "–")]));
            console.WriteLine($"wrote conv-norm.json to {dir}");
            return 0;
        }));
        return cmd;
    }

    static Tensor KernelFrom(double[]? values, int k, int dOut, int dIn, Generator gen)
    {
        if (values is null)
        {
            if (k < 1) throw new InitPruneException($"--kernel-size {k} must be positive");
            return randn([dOut, dIn, k, k], dtype: ScalarType.Float64, generator: gen);
        }
        int side = (int)Math.Round(Math.Sqrt(values.Length / (double)(dOut * dIn)));
        if (side < 1 || side * side * dOut * dIn != values.Length)
            throw new InitPruneException($"--kernel has {values.Length} values: need d'·d·k² = {dOut}·{dIn}·k² for a square k×k kernel");
        return tensor(values, dtype: ScalarType.Float64).view(dOut, dIn, side, side);
    }
}
