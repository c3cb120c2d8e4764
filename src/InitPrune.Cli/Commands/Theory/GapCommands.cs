using System.CommandLine;
using InitPrune.Engine;
using InitPrune.Theory;
using Spectre.Console;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory gap` and `weight-stats`: seed 003's pruned-vs-target gap by experiment, and its weight-statistics check.</summary>
internal static class GapCommands
{
    public static IEnumerable<Command> Create() => [Gap(), WeightStatsCommand.Create()];

    /// <summary>Defaults per theorem and scale: widths, alphas, depths, draws, ε.</summary>
    static (int[] D, double[] A, int[] L, int Draws, double Eps) Defaults(int theorem, bool full) => (theorem, full) switch
    {
        (3, false) => ([4, 8, 16], [0.3, 0.5], [3, 4], 6, 0.05),
        (3, true) => ([4, 8, 16, 32], [0.3, 0.5], [3, 4, 5], 20, 0.05),
        (_, false) => ([16, 32, 64, 128], [0.3, 0.6], [3, 4], 12, theorem == 1 ? 0.3 : 0.5),
        (_, true) => ([16, 32, 64, 128, 256], [0.3, 0.6, 0.9], [3, 4, 5], 25, theorem == 1 ? 0.3 : 0.5),
    };

    static T ParseEnum<T>(string text, string option) where T : struct, Enum =>
        Enum.TryParse<T>(text, ignoreCase: true, out var v) && !int.TryParse(text, out _)
            ? v : throw new InitPruneException($"unknown {option} '{text}': use {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");

    static Command Gap()
    {
        var s = new Shared();
        var scale = ProbabilisticCommands.Scale();
        var theorem = new Option<int>("--theorem") { Description = "1: magnitude pruning of an FCN with uniform weights; 2: random pruning (with replacement) of an FCN, any --law; 3: random kernel pruning of a circular CNN", DefaultValueFactory = _ => 1 };
        var widths = new Option<string?>("--widths") { Description = "Hidden widths d (Thm 1, 2) or channels d (Thm 3) to sweep (default smoke 16,32,64,128 / 4,8,16; full adds 256 / 32)" };
        var alphas = new Option<string?>("--alphas") { Description = "α values: ⌊D_k^(1−α)⌋ weights or ⌊d^(2−α)⌋ kernels pruned per inner layer (default smoke 0.3,0.6 / 0.3,0.5; full 0.3,0.6,0.9 / 0.3,0.5)" };
        var depths = new Option<string?>("--depths") { Description = "Depths l ≥ 3 (default smoke 3,4; full 3,4,5)" };
        var draws = new Option<int?>("--draws") { Description = "Target and mask draws per setting (default smoke 12 / 6; full 25 / 20)" };
        var epsilon = new Option<double?>("--epsilon") { Description = "ε of P(sup ‖f − F‖ ≤ ε) (default 0.3 for Thm 1, 0.5 for Thm 2, 0.05 for Thm 3)" };
        var law = new Option<string?>("--law") { Description = "Law of the target's entries at scale K·s, s = 1/√max(d_k, d_{k−1}) (CNN: 1/(p√d)): uniform U[−Ks, Ks], normal N(0, K²s²) or rademacher ±Ks (default uniform for Thm 1, normal otherwise)" };
        var k = new Option<double>("--k") { Description = "Scale K of the weights", DefaultValueFactory = _ => 1.0 };
        var activation = new Option<string>("--activation") { Description = "relu, tanh or identity (all 1-Lipschitz with σ(0) = 0)", DefaultValueFactory = _ => "relu" };
        var inputSet = new Option<string?>("--input-set") { Description = "ball (radius --radius; default for Thm 1, 2) or cube [0, 1]^n (default for Thm 3)" };
        var radius = new Option<double>("--radius") { Description = "Radius of the input ball", DefaultValueFactory = _ => 1.0 };
        var inputDim = new Option<int?>("--input-dim") { Description = "d_0: input width (FCN, default 8) or input channels (CNN, default 2)" };
        var outputs = new Option<int>("--outputs") { Description = "d_l: outputs", DefaultValueFactory = _ => 4 };
        var spatial = new Option<int>("--spatial") { Description = "Thm 3: side p of the circular maps", DefaultValueFactory = _ => 8 };
        var kernel = new Option<int>("--kernel-size") { Description = "Thm 3: kernel side q < p", DefaultValueFactory = _ => 3 };
        var samples = new Option<int?>("--samples") { Description = "Random feasible inputs per draw for the lower estimate (default 2048; Thm 3: 512)" };
        var starts = new Option<int>("--starts") { Description = "Best samples the projected gradient ascent starts from", DefaultValueFactory = _ => 8 };
        var steps = new Option<int?>("--steps") { Description = "Projected gradient ascent steps (default 100; Thm 3: 60)" };
        var beta1 = new Option<double>("--beta1") { Description = "Thm 3: β1 in (0, 1)", DefaultValueFactory = _ => 0.1 };
        var beta2 = new Option<double?>("--beta2") { Description = "Thm 3: β2 in (0, α/4) (default α/8)" };
        var outDir = s.Out("./initprune-out/theory/gap");
        var cmd = new Command("gap", "Seed 003 by experiment: the gap sup ‖f(x) − F(x)‖ between a seed-003-pruned network and its target, over many weight and mask draws: a lower estimate (samples + projected gradient ascent) and an upper certificate (layer recurrence with the actual spectral norms), P(gap ≤ ε) beside Theorems 1–3's guarantee; writes gap.json and gap-theoremN.png");
        foreach (var o in new Option[] { scale, theorem, widths, alphas, depths, draws, epsilon, law, k, activation, inputSet, radius, inputDim, outputs, spatial, kernel, samples, starts, steps, beta1, beta2, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json), full = ProbabilisticCommands.IsFull(r.GetValue(scale)!);
            int t = r.GetValue(theorem);
            if (t is not (1 or 2 or 3)) throw new InitPruneException($"unknown --theorem {t}: use 1, 2 or 3");
            var def = Defaults(t, full);
            var request = new GapStudyRequest(t,
                Shared.ParseList(r.GetValue(widths), "--widths", int.Parse) ?? def.D,
                Shared.ParseList(r.GetValue(alphas), "--alphas", double.Parse) ?? def.A,
                Shared.ParseList(r.GetValue(depths), "--depths", int.Parse) ?? def.L,
                r.GetValue(draws) ?? def.Draws, r.GetValue(epsilon) ?? def.Eps,
                r.GetValue(law) is { } lw ? ParseEnum<GapLaw>(lw, "--law") : null, r.GetValue(k),
                ParseEnum<GapActivation>(r.GetValue(activation)!, "--activation"),
                r.GetValue(inputSet) is { } set ? ParseEnum<GapInputSet>(set, "--input-set") : null, r.GetValue(radius),
                r.GetValue(inputDim) ?? (t == 3 ? 2 : 8), r.GetValue(outputs), r.GetValue(spatial), r.GetValue(kernel),
                new GapSearch(r.GetValue(samples) ?? (t == 3 ? 512 : 2048), r.GetValue(starts), r.GetValue(steps) ?? (t == 3 ? 60 : 100)), r.GetValue(s.Seed), r.GetValue(beta1), r.GetValue(beta2));
            var console = Output.Human(json);
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            var report = GapStudy.Run(request, row => console.WriteLine($"d = {row.D}, α = {row.Alpha}, l = {row.Depth}: P(lower ≤ ε) {row.ProbabilityLower:0.00}, P(certificate ≤ ε) {row.ProbabilityCertificate:0.00}"));
            Artifacts.WriteJson(Path.Combine(dir, "gap.json"), report);
            var png = Path.Combine(dir, $"gap-theorem{t}.png");
            GapStudy.Plot(png, report);
            if (json)
            {
                Output.Json(report);
                return 0;
            }
            var table = new Table().Title(Markup.Escape($"Theorem {t} ({report.Method}, {report.Law} weights, {report.Activation}, {report.InputSet}), ε = {report.Epsilon:g3}, {report.Draws} draws; bounds: lower ≤ gap ≤ certificate"))
                .AddColumns("d", "α", "l", "pruned/layer", "mean lower", "mean cert.", "cert./lower", "P(lower≤ε)", "P(cert≤ε)", "thm gap", "thm prob.", "guaranteed", "thm gap / quantile (lower, cert.)");
            foreach (var row in report.Rows)
                table.AddRow($"{row.D}", $"{row.Alpha:g3}", $"{row.Depth}", row.PrunedPerLayer.Length > 0 ? $"{row.PrunedPerLayer[0]:N0}" : "–",
                    $"{row.MeanLower:g3}", $"{row.MeanCertificate:g3}", $"{row.MeanCertificateOverLower:0.00}", $"{row.ProbabilityLower:0.00}", $"{row.ProbabilityCertificate:0.00}",
                    $"{row.TheoremGap:g3}", Markup.Escape(row.Vacuous ? $"{row.TheoremProbability:g3} (vacuous)" : $"{row.TheoremProbability:g3}"), $"{row.GuaranteedProbability:0.00}",
                    $"{row.LoosenessLower:g3}×, {row.LoosenessCertificate:g3}× (q={row.QuantileLevel:0.00})");
            console.Write(table);
            console.WriteLine($"{report.Seconds:0.0} s; wrote gap.json, gap-theorem{t}.png to {dir}");
            return 0;
        }));
        return cmd;
    }
}
