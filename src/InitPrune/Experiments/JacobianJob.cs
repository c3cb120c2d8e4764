using System.Diagnostics;
using System.Globalization;
using InitPrune.Data;
using InitPrune.Engine;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Theory.Jacobian;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Experiments;

/// <summary>Everything <c>initprune jacobian</c> takes; <paramref name="Prune"/> null (or method none) measures the dense network.</summary>
public sealed record JacobianJobOptions(
    string Dataset,
    ModelSpec Model,
    InitSpec Init,
    PruneSpec? Prune,
    JacobianOptions Jacobian,
    int Inputs = 16,
    long Seed = 0,
    int ScoreBatchSize = 100,
    int ScoreBatches = 1,
    string? DataDir = null,
    string? InitFrom = null);

/// <summary>Seed 002 Theorem 1 for this network (ReLU MLP, iid Gaussian weights, hidden span): theory, not a measurement.</summary>
public sealed record JacobianPrediction(string Claim, int SpanDepth, double SigmaW2, double LogSlopePerLayer, double PaperLogSlopePerLayer, double LogNormUpToConstant);

/// <summary>What <c>initprune jacobian</c> reports (summary.json); the per-input estimates are also in norms.csv.</summary>
public sealed record JacobianReport(
    string Dataset,
    string DataSource,
    string Model,
    string Init,
    double SigmaW,
    string Method,
    double Sparsity,
    string? Rescale,
    string Span,
    int? SpanDepth,
    int Inputs,
    double Mean,
    double Std,
    double Min,
    double Max,
    int NotConverged,
    double Tolerance,
    long Seed,
    double Seconds,
    JacobianPrediction? Theory,
    IReadOnlyList<JacobianEstimate> PerInput,
    IReadOnlyDictionary<string, string> Files);

/// <summary>
/// Build, initialize (or load), optionally prune once at initialization, then measure ‖J‖ at <see cref="JacobianJobOptions.Inputs"/>
/// test inputs (a seeded draw) in float64, and write summary.json and norms.csv.
/// </summary>
public static class JacobianJob
{
    public static JacobianReport Run(JacobianJobOptions o, string outDir)
    {
        o.Jacobian.Validate();
        if (o.Inputs < 1) throw new InitPruneException($"--inputs {o.Inputs} is impossible: average over at least 1 input");
        var prune = o.Prune is { Method: not "none" } p ? p : null;
        if (prune is not null)
        {
            var info = PrunerRegistry.Get(prune.Method);
            if (info.Trains || Tickets.EdgePopupMethod.Is(info.Name))
                throw new InitPruneException($"method '{info.Name}' trains: prune with `initprune prune --out DIR`, then measure with `initprune jacobian --init-from DIR/weights.pruned.safetensors`");
            MaskBuilder.CheckSparsity(prune.Sparsity);
            Pruner.CheckAblation(info, prune);
        }
        Setup.Check(o.Dataset, o.Model, o.Init, o.InitFrom, prune);
        var clock = Stopwatch.StartNew();
        using var data = DatasetRegistry.Load(o.Dataset, o.DataDir, (int)o.Seed);
        using var model = Setup.Model(data, o.Model, o.Init, o.Seed, o.InitFrom);
        if (o.Jacobian.Span == JacobianSpan.Hidden) JacobianSpans.Require(model);
        if (prune is not null) Prune(model, data, prune, o);
        model.to(float64);
        data.Test.RequireSamples("test");
        var (x, y) = new DataLoader(data.Test, (int)Math.Min(o.Inputs, data.Test.Count), shuffle: true, seed: Seeds.For(o.Seed, "jacobian inputs")).Epoch(0).First();
        JacobianSummary summary;
        using (x)
        using (y)
            summary = JacobianNorm.Average(model, x, o.Jacobian);
        var dir = Artifacts.PrepareOutput(outDir);
        var files = new Dictionary<string, string> { ["summary"] = "summary.json", ["norms"] = "norms.csv" };
        int? depth = o.Jacobian.Span == JacobianSpan.Hidden ? JacobianSpans.Require(model).Depth : null;
        var report = new JacobianReport(o.Dataset, data.Source, o.Model.Name, o.Init.Name, o.Init.SigmaW, prune?.Method ?? "none", prune?.Sparsity ?? 0,
            prune?.Rescale is { } r ? $"{r.Method} ({r.Target})" : null, o.Jacobian.Span.ToString().ToLowerInvariant(), depth, summary.PerInput.Count,
            summary.Mean, summary.Std, summary.PerInput.Min(e => e.Norm), summary.PerInput.Max(e => e.Norm), summary.PerInput.Count(e => !e.Converged),
            o.Jacobian.Tolerance, o.Seed, clock.Elapsed.TotalSeconds, prune is null ? Prediction(model, o, depth) : null, summary.PerInput, files);
        File.WriteAllLines(Path.Combine(dir, "norms.csv"), ["input,norm,iterations,relative_change,converged",
            .. summary.PerInput.Select((e, i) => string.Create(CultureInfo.InvariantCulture, $"{i},{e.Norm:R},{e.Iterations},{e.RelativeChange:R},{(e.Converged ? "true" : "false")}"))]);
        Artifacts.WriteJson(Path.Combine(dir, "summary.json"), report);
        return report;
    }

    static void Prune(nn.Module<Tensor, Tensor> model, DatasetSplit data, PruneSpec spec, JacobianJobOptions o)
    {
        var batches = Setup.ScoringBatches(data.Train, o.ScoreBatchSize, o.ScoreBatches, o.Seed);
        try
        {
            var (x, y) = batches[0];
            using var result = Pruner.Prune(model, spec, new ScoringContext(x, y, data.Train.Kind, Seeds.For(o.Seed, "prune"), batches.Count == 1 ? null : batches));
        }
        finally
        {
            foreach (var (bx, by) in batches)
            {
                bx.Dispose();
                by.Dispose();
            }
        }
    }

    /// <summary>Theorem 1's law where it applies: the hidden span of a dense ReLU MLP with iid Gaussian ("normal") weights.</summary>
    static JacobianPrediction? Prediction(nn.Module<Tensor, Tensor> model, JacobianJobOptions o, int? depth)
    {
        if (depth is not { } l || model is not Mlp { Activation: "relu" } || o.Init.Name != "normal" || o.InitFrom is not null) return null;
        double s2 = o.Init.SigmaW * o.Init.SigmaW;
        return new JacobianPrediction("seed 002 Theorem 1: ‖J_1‖² ≈ Θ(L(σw²/2)^L)", l, s2, JacobianTheory.LogSlope(s2), JacobianTheory.PaperLogSlope(s2), JacobianTheory.LogNorm(l, s2));
    }
}
