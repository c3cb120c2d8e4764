using System.CommandLine;
using InitPrune.Experiments;
using Spectre.Console;
using InitPrune.Pruning;

namespace InitPrune.Cli.Commands;

internal static class PruneCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var method = new Option<string>("--method") { Description = "Pruning method: random, magnitude (|W|), snip (|W ⊙ ∂L/∂W|), grasp (θ ⊙ Hg), synflow (data-free, iterative), sbp-sr / grasp-sr (SNIP / GraSP on a --stable ResNet), wlth (Bernoulli keep σ²_w,EOC/σ²_w; ignores --sparsity), seed003-random / seed003-magnitude (⌊D^(1−α)⌋ per hidden layer; ignore --sparsity), imp (iterative magnitude pruning with rewinding: --rounds of --round-epochs training); see docs/methods.md", DefaultValueFactory = _ => "snip" };
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction of prunable weights removed, in [0, 1)", DefaultValueFactory = _ => 0.9 };
        var scope = new Option<string>("--scope") { Description = "global (one threshold over all layers) or layer-wise (each layer keeps the same fraction)", DefaultValueFactory = _ => "global" };
        var includeBiases = new Option<bool>("--include-biases") { Description = "Prune biases too" };
        var scoreBatch = new Option<int>("--score-batch-size") { Description = "Mini-batch size used by data-driven scores (SNIP)", DefaultValueFactory = _ => 100 };
        var saveScores = new Option<bool>("--save-scores") { Description = "Also write the scores (scores.safetensors)" };
        var temperature = new Option<double>("--temperature") { Description = "GraSP: the logits are divided by this temperature", DefaultValueFactory = _ => 200.0 };
        var iterations = new Option<int>("--iterations") { Description = "SynFlow: pruning rounds of the exponential schedule", DefaultValueFactory = _ => 100 };
        var alpha = new Option<double>("--alpha") { Description = "seed003-*: prune ⌊D^(1−α)⌋ of the D weights of each hidden layer, α in (0, 1]", DefaultValueFactory = _ => 0.5 };
        var rescale = new Option<string>("--rescale") { Description = "Rescale kept weights after pruning: none; eoc (seed 001 Prop. 1, each unit's kept squared norm back to its dense value, folded into the weights); eoc-fixed (the same factors kept as fixed multipliers during training: pass the written rescale.safetensors to train --fixed-multiplier); eoc-unit (to 1, Algorithm 1 as written); eoc-sigma-w (to σ_w²); random ((1−s)^(−1/2), seed 002); magnitude (t_n, seed 002)", DefaultValueFactory = _ => "none" };
        var rounds = new Option<int>("--rounds") { Description = "imp: train-prune-rewind rounds; round r keeps (1 − s)^(r/rounds)", DefaultValueFactory = _ => 3 };
        var roundEpochs = new Option<int>("--round-epochs") { Description = "imp: training epochs per round (SGD, momentum 0.9, cosine)", DefaultValueFactory = _ => 1 };
        var lr = new Option<double>("--lr") { Description = "imp: learning rate of each round's training", DefaultValueFactory = _ => 0.05 };
        var outDir = s.Out("./initprune-out/prune");
        var cmd = new Command("prune", "Build and initialize a model, prune it once at initialization, write weights, scoring batch, mask (and scores) as safetensors plus summary.json");
        s.AddData(cmd); s.AddModel(cmd);
        foreach (var o in new Option[] { method, sparsity, scope, includeBiases, scoreBatch, saveScores, temperature, iterations, alpha, rescale, rounds, roundEpochs, lr, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var init = s.InitSpec(r);
            var methodOptions = new MethodOptions(r.GetValue(temperature), r.GetValue(iterations), r.GetValue(alpha), init.SigmaW, init.SigmaB, r.GetValue(s.Activation)!);
            var options = new PruneOptions(r.GetValue(s.Dataset)!, s.ModelSpec(r), init,
                new PruneSpec(r.GetValue(method)!, r.GetValue(sparsity), ParseScope(r.GetValue(scope)!), r.GetValue(includeBiases),
                    methodOptions, RescaleSpec.Parse(r.GetValue(rescale)!, init.SigmaW)),
                r.GetValue(s.Seed), r.GetValue(scoreBatch), r.GetValue(s.DataDir), r.GetValue(s.InitFrom), r.GetValue(saveScores));
            var dir = r.GetValue(outDir)!;
            var console = Output.Human(json);
            var imp = new ImpOptions(r.GetValue(rounds), new Training.TrainConfig(r.GetValue(roundEpochs), LearningRate: r.GetValue(lr), Schedule: "cosine"));
            var summary = Output.WithProgress(console, Output.Interactive(json), hook => PruneJob.Run(options, dir, imp, hook));
            foreach (var w in summary.Warnings) Output.Warn(console, w);
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            console.WriteLine($"{summary.Method} ({summary.Scope}) on {summary.Dataset}: kept {summary.Kept:N0} of {summary.Total:N0} weights, sparsity {summary.ActualSparsity:0.0000}");
            Output.LayerTable(console, summary.Layers);
            console.WriteLine($"s_max = {summary.MaxSparsityWithoutCollapse:0.000000} (beyond it some layer must be empty); per-unit kept fractions are in summary.json");
            console.WriteLine($"wrote {string.Join(", ", summary.Files.Values)} to {Path.GetFullPath(dir)}");
            return 0;
        }));
        return cmd;
    }

    public static PruneScope ParseScope(string text) => text.ToLowerInvariant() switch
    {
        "global" => PruneScope.Global,
        "layer-wise" or "layerwise" or "layer" => PruneScope.LayerWise,
        _ => throw new Engine.InitPruneException($"unknown scope '{text}': use global or layer-wise"),
    };
}
