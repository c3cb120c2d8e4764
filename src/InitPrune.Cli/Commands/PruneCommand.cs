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
        var method = new Option<string>("--method") { Description = "Pruning method: random, magnitude (|W|), snip (|W ⊙ ∂L/∂W|)", DefaultValueFactory = _ => "snip" };
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction of prunable weights removed, in [0, 1)", DefaultValueFactory = _ => 0.9 };
        var scope = new Option<string>("--scope") { Description = "global (one threshold over all layers) or layer-wise (each layer keeps the same fraction)", DefaultValueFactory = _ => "global" };
        var includeBiases = new Option<bool>("--include-biases") { Description = "Prune biases too" };
        var scoreBatch = new Option<int>("--score-batch-size") { Description = "Mini-batch size used by data-driven scores (SNIP)", DefaultValueFactory = _ => 100 };
        var saveScores = new Option<bool>("--save-scores") { Description = "Also write the scores (scores.safetensors)" };
        var outDir = s.Out("./initprune-out/prune");
        var cmd = new Command("prune", "Build and initialize a model, prune it once at initialization, write weights, scoring batch, mask (and scores) as safetensors plus summary.json");
        s.AddData(cmd); s.AddModel(cmd);
        foreach (var o in new Option[] { method, sparsity, scope, includeBiases, scoreBatch, saveScores, outDir }) cmd.Add(o);
        s.AddRun(cmd);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var options = new PruneOptions(r.GetValue(s.Dataset)!, s.ModelSpec(r), s.InitSpec(r),
                new PruneSpec(r.GetValue(method)!, r.GetValue(sparsity), ParseScope(r.GetValue(scope)!), r.GetValue(includeBiases)),
                r.GetValue(s.Seed), r.GetValue(scoreBatch), r.GetValue(s.DataDir), r.GetValue(s.InitFrom), r.GetValue(saveScores));
            var dir = r.GetValue(outDir)!;
            var summary = PruneJob.Run(options, dir);
            var console = Output.Human(json);
            foreach (var w in summary.Warnings) Output.Warn(console, w);
            if (json)
            {
                Output.Json(summary);
                return 0;
            }
            console.WriteLine($"{summary.Method} ({summary.Scope}) on {summary.Dataset}: kept {summary.Kept:N0} of {summary.Total:N0} weights, sparsity {summary.ActualSparsity:0.0000}");
            Output.LayerTable(console, summary.Layers);
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
