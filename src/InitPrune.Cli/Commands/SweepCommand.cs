using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using InitPrune.Experiments.Sweeps;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

internal static class SweepCommand
{
    public const string DefaultResults = "./initprune-results";

    public static Command Create()
    {
        var s = new Shared();
        var spec = new Argument<string>("SPEC") { Description = "Experiment spec (YAML; see docs/specs.md and configs/)" };
        var scale = new Option<string>("--scale") { Description = "full (the spec as written) or the name of one of its scales, e.g. smoke", DefaultValueFactory = _ => "full" };
        var workers = new Option<int>("--workers") { Description = "Worker processes sharing the store on this machine (each claims runs; none is computed twice)", DefaultValueFactory = _ => 1 };
        var threads = new Option<int?>("--threads") { Description = "Threads per worker (default: cores / workers)" };
        var outDir = s.Out(DefaultResults);
        var store = new Option<string?>("--store") { Description = "Results store (SQLite file; default <out>/store.sqlite). Checkpoints and final weights go beside it" };
        var tensorboard = new Option<bool>("--tensorboard") { Description = "Write TensorBoard event files per run (<out>/tensorboard/<run id>)" };
        var retry = new Option<bool>("--retry-failed") { Description = "Run the sweep's failed runs again" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check and expand the spec, list its runs, compute nothing" };
        var worker = new Option<bool>("--worker") { Description = "Internal: run as one of the worker processes started by --workers", Hidden = true };
        var cmd = new Command("sweep", "Run every run of an experiment spec (grid of datasets, models, inits, methods, sparsities, recipes, seeds), storing results in a crash-safe store; rerun to resume");
        cmd.Add(spec);
        foreach (var o in new Option[] { scale, workers, threads, outDir, store, s.DataDir, tensorboard, retry, dryRun, worker }) cmd.Add(o);
        cmd.Add(s.Device);
        cmd.Add(s.Json);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var console = Output.Human(json);
            int n = r.GetValue(workers);
            if (n < 1) throw new Engine.InitPruneException($"--workers {n} is impossible: use at least 1");
            if (r.GetValue(threads) is < 1) throw new Engine.InitPruneException("--threads must be at least 1");
            var loaded = SpecLoader.Load(r.GetValue(spec)!, r.GetValue(scale)!, r.GetValue(s.DataDir));
            var storePath = r.GetValue(store) ?? Path.Combine(r.GetValue(outDir)!, "store.sqlite");
            var options = new SweepOptions(storePath, n, r.GetValue(s.DataDir), r.GetValue(tensorboard), r.GetValue(retry), r.GetValue(threads));
            var describe = Describer(loaded);
            if (r.GetValue(dryRun))
            {
                if (json) Output.Json(loaded.Entries.Select(e => new { id = e.Config.Id, label = e.Label, coordinates = e.Coordinates, settings = e.Config }));
                else foreach (var e in loaded.Entries) console.WriteLine($"{e.Config.Id}  {describe(e.Config.Id)}");
                return 0;
            }
            Engine.Artifacts.CheckPath(r.GetValue(outDir), "--out");
            Engine.Artifacts.CheckPath(storePath, "--store");
            var clock = Stopwatch.StartNew();
            using var results = SqliteResultsStore.Open(storePath);
            if (r.GetValue(worker))
            {
                SweepRunner.Work(results, loaded.Key, options, finished: o => Console.Out.WriteLine(Line(o, describe)));
                return 0;
            }
            SweepRunner.RemoveStaleTemporaries(options.Folders);
            SweepRunner.Register(results, loaded, options);
            var before = SweepRunner.Summarize(results, loaded, 0, 0);
            console.WriteLine($"sweep {loaded.Key}: {before.Runs} runs ({before.Done} done, {before.Failed} failed, {before.Pending} to run); store {Path.GetFullPath(storePath)}");
            foreach (var note in loaded.Notes) Output.Warn(console, note);
            bool workersCrashed = false;
            if (n == 1 && Output.Interactive(json))
                WithProgress(console, results, loaded, options, before, describe);
            else if (n == 1)
            {
                int done = before.Done;
                SweepRunner.Work(results, loaded.Key, options,
                    finished: o => console.WriteLine($"[{(o.Done ? ++done : done)}/{before.Runs}] {Line(o, describe)}"));
            }
            else
            {
                var codes = SweepRunner.RunWorkers(options, (i, t) => WorkerCommand(r.GetValue(spec)!, r.GetValue(scale)!, r.GetValue(s.Device)!, storePath, t, options), line => console.WriteLine(line));
                if (codes.Any(c => c != 0)) Output.Warn(console, $"worker exit codes: {string.Join(", ", codes)}; rerun the same command to finish the sweep");
                workersCrashed = codes.Any(c => c != 0);
            }
            var after = SweepRunner.Summarize(results, loaded, 0, clock.Elapsed.TotalSeconds);
            var summary = after with { ComputedNow = after.Done + after.Failed - before.Done - before.Failed };
            Engine.Artifacts.WriteJson(Path.Combine(options.Folders.Root, $"sweep-{SweepSpec.FileName(loaded.Key)}.json"), summary);
            if (json) Output.Json(summary);
            else
            {
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"sweep {summary.Sweep}: {summary.Done}/{summary.Runs} done, {summary.Failed} failed, {summary.Pending} left, {summary.Seconds:0.0} s"));
                foreach (var f in summary.Failures) Output.Warn(console, f);
                if (summary.Pending > 0 && !workersCrashed)
                    Output.Warn(console, $"{summary.Pending} runs are being computed by another live sweep ({string.Join(", ", SweepRunner.Holders(results, loaded.Key))}); rerun this command when it has finished to report them");
                console.WriteLine($"report: initprune report {r.GetValue(spec)} --scale {loaded.Scale}{(r.GetValue(store) is null && r.GetValue(outDir) == DefaultResults ? "" : $" --store {storePath}")}");
            }
            return ExitCodes.ForSweep(summary.Failed, summary.Pending, workersCrashed);
        }));
        return cmd;
    }

    /// <summary>One worker in this process with live bars: the sweep's runs and the current run's steps.</summary>
    static void WithProgress(IAnsiConsole console, IResultsStore results, SweepSpec spec, SweepOptions options, SweepSummary before, Func<string, string> describe) =>
        console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var overall = ctx.AddTask("runs", maxValue: Math.Max(1, before.Runs));
                overall.Value = before.Done;
                ProgressTask? current = null;
                int done = before.Done;
                SweepRunner.Work(results, spec.Key, options,
                    started: c => current = ctx.AddTask(Markup.Escape(describe(c.RunId)), maxValue: 1),
                    step: p =>
                    {
                        if (current is null) return;
                        current.MaxValue = Math.Max(1, (double)p.Epochs * p.StepsPerEpoch);
                        current.Value = (double)(p.Epoch - 1) * p.StepsPerEpoch + p.Step;
                    },
                    finished: o =>
                    {
                        current?.StopTask();
                        current = null;
                        if (o.Done) overall.Increment(1);
                        console.MarkupLine(Markup.Escape($"[{(o.Done ? ++done : done)}/{before.Runs}] {Line(o, describe)}"));
                    });
                overall.StopTask();
            });

    /// <summary>"label, axis value, ..." for a run id, naming only the axes that vary under one label.</summary>
    internal static Func<string, string> Describer(SweepSpec spec)
    {
        var varying = spec.Entries.SelectMany(e => e.Coordinates.Keys).Distinct()
            .Where(k => k != "label" && spec.Entries.GroupBy(e => e.Label).Any(g => g.Select(e => e.Coordinates.GetValueOrDefault(k)).Distinct().Count() > 1))
            .ToList();
        var byId = spec.Entries.GroupBy(e => e.Config.Id).ToDictionary(g => g.Key, g => g.First());
        return id => byId.TryGetValue(id, out var e)
            ? string.Join(", ", new[] { e.Label }.Concat(varying.Select(k => $"{k.Split('.').Last()} {e.Coordinates.GetValueOrDefault(k)}")))
            : id;
    }

    static string Line(RunOutcome o, Func<string, string> describe) =>
        $"{o.RunId} {describe(o.RunId)}: " + (o.Done
            ? (o.TestAccuracy is { } a ? string.Create(CultureInfo.InvariantCulture, $"test accuracy {100 * a:0.00}%") : "done") + (o.Resumed ? $" (resumed at epoch {o.FromEpoch})" : "")
            : $"failed: {o.Error}");

    static ProcessStartInfo WorkerCommand(string spec, string scale, string device, string store, int threads, SweepOptions o)
    {
        var self = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(SweepCommand).Assembly.Location);
        foreach (var a in new[] { "sweep", spec, "--worker", "--scale", scale, "--device", device, "--store", store, "--threads", threads.ToString(CultureInfo.InvariantCulture) })
            info.ArgumentList.Add(a);
        if (o.DataDir is { } d) { info.ArgumentList.Add("--data-dir"); info.ArgumentList.Add(d); }
        if (o.TensorBoard) info.ArgumentList.Add("--tensorboard");
        return info;
    }
}
