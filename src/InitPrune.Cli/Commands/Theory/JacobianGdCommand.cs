using System.CommandLine;
using System.Globalization;
using InitPrune.Engine;
using InitPrune.Theory.Jacobian;
using Spectre.Console;

namespace InitPrune.Cli.Commands.Theory;

/// <summary>`initprune theory jacobian-gd`: seed 002 Theorems 2–3 by experiment (full-batch GD on one pair, ‖J‖ tracked).</summary>
internal static class JacobianGdCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var scale = ProbabilisticCommands.Scale();
        var widths = new Option<string?>("--widths") { Description = "Widths n (default smoke 32,64,128; full 64,128,256,512)" };
        var depths = new Option<string?>("--depths") { Description = "Depths L: hidden-to-hidden weight matrices W_1 … W_L trained by GD (default smoke 5,10; full 5,10,20)" };
        var rule = new Option<string>("--rate") { Description = "Learning rate: theorem2 (γ = c/(nL³), seed 002 Theorem 2), theorem3 (γ = c/(n log(n)^1.5), Theorem 3's stagnation bound for c < 1) or mu (γ = c/n, feature learning)", DefaultValueFactory = _ => "theorem2" };
        var c = new Option<double>("--c") { Description = "The constant c of the learning-rate rule (> 0)", DefaultValueFactory = _ => 1.0 };
        var steps = new Option<int?>("--steps") { Description = "Full-batch GD steps (default smoke 50; full 200)" };
        var every = new Option<int?>("--every") { Description = "Measure ‖J‖ every this many steps (default steps/10)" };
        var seeds = new Option<int?>("--seeds") { Description = "Draws of (x, z, W) per width × depth (default smoke 2; full 5)" };
        var sigma = new Option<double>("--sigma-w2") { Description = "σw² of W_1 … W_L ~ N(0, σw²/n) (2: the Edge of Chaos of ReLU)", DefaultValueFactory = _ => 2.0 };
        var outDir = s.Out("./initprune-out/theory/jacobian-gd");
        var cmd = new Command("jacobian-gd", "Seed 002 Theorems 2–3 by experiment: a ReLU MLP Y_0 = W_in x, Y_k = W_k φ(Y_(k−1)) trained by full-batch GD on one pair (x, z) with L = (2n)⁻¹‖Y_L − z‖²; ‖J_1^t‖ (hidden Jacobian ∏ W_l D_(l−1), exact SVD) tracked; the change max_t |‖J^t‖ − ‖J^0‖| against width; writes jacobian-gd.json and two plots");
        foreach (var o in new Option[] { scale, widths, depths, rule, c, steps, every, seeds, sigma, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json), full = ProbabilisticCommands.IsFull(r.GetValue(scale)!);
            var ruleText = r.GetValue(rule)!;
            var parsed = ruleText.ToLowerInvariant() switch
            {
                "theorem2" => RateRule.Theorem2,
                "theorem3" => RateRule.Theorem3,
                "mu" => RateRule.Mu,
                _ => throw new InitPruneException($"unknown --rate '{ruleText}': use theorem2, theorem3 or mu"),
            };
            int stepCount = r.GetValue(steps) ?? (full ? 200 : 50);
            var request = new SinglePairRequest(
                Shared.ParseList(r.GetValue(widths), "--widths", int.Parse) ?? (full ? [64, 128, 256, 512] : [32, 64, 128]),
                Shared.ParseList(r.GetValue(depths), "--depths", int.Parse) ?? (full ? [5, 10, 20] : [5, 10]),
                parsed, r.GetValue(c), stepCount, r.GetValue(every) ?? Math.Max(1, stepCount / 10), r.GetValue(seeds) ?? (full ? 5 : 2),
                r.GetValue(sigma), r.GetValue(s.Seed));
            var console = Output.Human(json);
            var dir = Artifacts.PrepareOutput(r.GetValue(outDir)!);
            var report = SinglePairDynamics.Run(request, row => console.WriteLine(Invariant(
                $"n = {row.Width}, L = {row.Depth}, γ = {row.Rate:g3}: ‖J^0‖ {row.J0:g4} ± {row.J0Std:g2}, max change {row.MaxChange:g3} ± {row.MaxChangeStd:g2}, loss {row.LossStart:g3} → {row.LossEnd:g3}")));
            Artifacts.WriteJson(Path.Combine(dir, "jacobian-gd.json"), report);
            var plots = SinglePairDynamics.Plot(dir, report);
            if (json)
            {
                Output.Json(report);
                return 0;
            }
            foreach (var (depth, slope) in report.ChangeSlope)
                console.WriteLine(Invariant($"L = {depth}: log(max change) ∝ {slope:0.00} · log n (Theorem 3: < 0 for γ below its bound; Theorem 2: bounded)"));
            console.WriteLine(Invariant($"{report.Seconds:0.0} s; wrote jacobian-gd.json, {string.Join(", ", plots.Select(Path.GetFileName))} to {dir}"));
            return 0;
        }));
        return cmd;
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
