using System.CommandLine;
using System.Globalization;
using InitPrune.Engine;
using InitPrune.Experiments;
using InitPrune.Experiments.Sweeps;
using InitPrune.Pruning;
using InitPrune.Theory.Jacobian;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

/// <summary>
/// <c>initprune jacobian</c>: ‖J‖ of a network at initialization (seed 002 §2), dense or pruned once with the options
/// of <c>prune</c> (<see cref="PruneSettings"/> and the methods' options); the work is <see cref="JacobianJob.Run"/>.
/// </summary>
internal sealed class JacobianCommand
{
    readonly Shared s = new();
    readonly Declared prune = new(Param.Of(typeof(PruneSettings)), "", "sparsity");
    readonly Declared methodOptions = new(PrunerRegistry.AllOptions,
        p => $"{string.Join(", ", PrunerRegistry.Declaring(p).Select(m => m.Name))}: " + (PrunerRegistry.DefaultsByMethod(p.Key) is { } d ? $"(default {d}) " : ""),
        [.. PrunerRegistry.AllOptions.Where(p => PrunerRegistry.DefaultsByMethod(p.Key) is not null).Select(p => p.Key)]);
    readonly Option<string> span = new("--span") { Description = "hidden: seed 002's J_1 = ∂Y_L/∂Y_0, first to last hidden pre-activation (docs/theory.md, \"Jacobian norm\"); full: ∂output/∂input", DefaultValueFactory = _ => "hidden" };
    readonly Option<int> inputs = new("--inputs") { Description = "Test inputs (a seeded draw) at which ‖J‖ is measured and averaged", DefaultValueFactory = _ => 16 };
    readonly Option<double> tolerance = new("--tolerance") { Description = "Power iteration stops when ‖JᵀJv − σ²v‖ ≤ tolerance·σ² (σ then within ≈ tolerance/2 of a singular value)", DefaultValueFactory = _ => 1e-6 };
    readonly Option<int> maxIterations = new("--max-iterations") { Description = "Power-iteration steps per input before giving up (reported as not converged)", DefaultValueFactory = _ => 1000 };
    readonly Option<string> outDir;

    public Command Command { get; }

    public JacobianCommand()
    {
        outDir = s.Out("./initprune-out/jacobian");
        Command = new Command("jacobian", "Spectral norm ‖J‖ of the Jacobian at initialization (seed 002), dense or pruned once at initialization (--method, as in prune; a pruned file via --init-from), by power iteration in float64 over test inputs; prints mean ± std and seed 002 Theorem 1's slope where it applies; writes summary.json and norms.csv");
        s.AddData(Command);
        s.AddModel(Command);
        prune.AddTo(Command);
        prune.Options.First().Description = $"Pruning method (default none: the dense network): {string.Join("; ", PrunerRegistry.Methods.Select(m => $"{m.Name}: {m.Summary}"))}; see docs/methods.md";
        methodOptions.AddTo(Command);
        foreach (var o in new Option[] { span, inputs, tolerance, maxIterations, outDir }) Command.Add(o);
        s.AddRun(Command);
        Command.SetAction(r => Output.Guard(r, s.Device, () => Run(r)));
    }

    public static Command Create() => new JacobianCommand().Command;

    JacobianJobOptions Read(ParseResult r)
    {
        var settings = prune.Build<PruneSettings>(r);
        var given = methodOptions.Values(r, givenOnly: true);
        var init = s.InitSpec(r);
        var kind = r.GetValue(span) switch
        {
            "hidden" => JacobianSpan.Hidden,
            "full" => JacobianSpan.Full,
            var v => throw new InitPruneException($"--span '{v}' is unknown: use hidden or full"),
        };
        var jacobian = new JacobianOptions(kind, r.GetValue(tolerance), r.GetValue(maxIterations), r.GetValue(s.Seed));
        if (settings.Method == "none")
        {
            var stray = PrunerRegistry.AllOptions.FirstOrDefault(p => given.ContainsKey(p.Key)) ?? prune.Params.FirstOrDefault(p => p.Key != "method" && prune.Given(r, p.Key));
            if (stray is not null) throw new InitPruneException($"{stray.Flag} needs --method: without it the dense network is measured");
            return new JacobianJobOptions(s.DatasetName(r), s.ModelSpec(r), init, null, jacobian, r.GetValue(inputs), r.GetValue(s.Seed),
                DataDir: r.GetValue(s.DataDir), InitFrom: r.GetValue(s.InitFrom));
        }
        var method = PrunerRegistry.Get(settings.Method);
        foreach (var key in given.Keys.Where(k => !method.Options.Any(p => p.Key == k)))
            throw new InitPruneException($"{PrunerRegistry.AllOptions.First(o => o.Key == key).Flag} does nothing for method '{method.Name}'");
        if (!method.IgnoresSparsity && !prune.Given(r, "sparsity"))
            throw new InitPruneException($"method '{method.Name}' needs --sparsity, the fraction of weights to remove (e.g. --sparsity 0.9)");
        settings = settings with { Options = new MethodOptions(given.Select(kv => new KeyValuePair<string, object>(kv.Key, kv.Value!))).Complete(method) };
        return new JacobianJobOptions(s.DatasetName(r), s.ModelSpec(r), init, settings.ToSpec(init), jacobian, r.GetValue(inputs), r.GetValue(s.Seed),
            settings.ScoreBatchSize, settings.ScoreBatches, r.GetValue(s.DataDir), r.GetValue(s.InitFrom));
    }

    int Run(ParseResult r)
    {
        bool json = r.GetValue(s.Json);
        var report = JacobianJob.Run(Read(r), r.GetValue(outDir)!);
        if (json)
        {
            Output.Json(report);
            return ExitCodes.Ok;
        }
        var console = Output.Human(json);
        var net = report.Method == "none" ? "dense" : $"{report.Method} at sparsity {report.Sparsity:G4}{(report.Rescale is { } rs ? $", rescaled {rs}" : "")}";
        var layers = report.SpanDepth is { } l ? $", L = {l} layers inside the span" : "";
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{report.Model} ({net}), {report.Init} σw = {report.SigmaW:G4}, {report.Span} span{layers}, {report.Dataset}:"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"‖J‖ = {report.Mean:G6} ± {report.Std:G3} over {report.Inputs} test inputs (min {report.Min:G4}, max {report.Max:G4}, log mean {Math.Log(report.Mean):F3})"));
        if (report.NotConverged > 0)
            Output.Warn(console, $"{report.NotConverged} of {report.Inputs} estimates did not reach --tolerance {report.Tolerance:G3} in --max-iterations (they are lower bounds); see norms.csv");
        if (report.Theory is { } t)
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"theory ({t.Claim}): log‖J‖ grows by ½log(σw²/2) = {t.LogSlopePerLayer:F4} per layer (the paper prints log(σw²/2) = {t.PaperLogSlopePerLayer:F4}, for ‖J‖²); at L = {t.SpanDepth}: log‖J‖ = {t.LogNormUpToConstant:F3} + const"));
        console.WriteLine($"wrote {string.Join(", ", report.Files.Values)} to {Path.GetFullPath(r.GetValue(outDir)!)}");
        return ExitCodes.Ok;
    }
}
