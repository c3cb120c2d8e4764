using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using InitPrune.Experiments.Sweeps;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

internal static class SweepCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var spec = new Argument<string>("SPEC") { Description = "Experiment spec (YAML; see docs/specs.md and configs/)" };
        var scale = new Option<string>("--scale") { Description = "full (the spec as written) or the name of one of its scales, e.g. smoke", DefaultValueFactory = _ => "full" };
        var workers = new Option<int>("--workers") { Description = "Worker processes sharing the store on this machine (each claims runs; none is computed twice)", DefaultValueFactory = _ => 1 };
        var threads = new Option<int?>("--threads") { Description = "Threads per worker (default: cores / workers)" };
        var outDir = new Option<string>("--out") { Description = $"Results folder: the default store (<out>/store.sqlite) and artefact folder (default {Sweep.DefaultOut})", DefaultValueFactory = _ => Sweep.DefaultOut };
        var store = new Option<string?>("--store") { Description = "Results store: a SQLite file path or sqlite:PATH (default <out>/store.sqlite), or a PostgreSQL database shared by many machines: postgres://user@host[:port]/database (password from PGPASSWORD or ~/.pgpass)" };
        var artifacts = new Option<string?>("--artifacts") { Description = "Folder for checkpoints, final weights and the summary (default: the --out folder)" };
        var tensorboard = new Option<string?>("--tensorboard") { Description = "Write TensorBoard event files to this folder, one subfolder per run (DIR/<run id>)" };
        var lease = new Option<double?>("--lease") { Description = $"Seconds after which a run whose worker stopped renewing its claim is taken over by another worker (default {SweepOptions.DefaultLease.TotalSeconds:0}; workers renew every lease/3, at most every 30 s)" };
        var retry = new Option<bool>("--retry-failed") { Description = "Run the sweep's failed runs again" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check and expand the spec, list its runs, compute nothing" };
        var worker = new Option<bool>("--worker") { Description = "Run as one worker: claim runs from the store until none is left (what --workers and --slurm start)", Hidden = true };
        var slurm = new Option<bool>("--slurm") { Description = "Register the runs, write an sbatch job-array script (one worker per array task) to <artifacts>/slurm/ and submit it; with --dry-run only write it. Use a PostgreSQL --store and a shared --artifacts folder" };
        var array = new Option<int?>("--array") { Description = $"With --slurm: array tasks (default: one per run left, at most {SlurmSettings.MaxDefaultArray})" };
        var partition = new Option<string?>("--partition") { Description = "With --slurm: the Slurm partition" };
        var time = new Option<string?>("--time") { Description = "With --slurm: each task's time limit (minutes, HH:MM:SS or D-HH:MM:SS)" };
        var cpus = new Option<int>("--cpus-per-task") { Description = "With --slurm: CPUs of each task, its worker's threads", DefaultValueFactory = _ => 1 };
        var gpus = new Option<int>("--gpus-per-task") { Description = "With --slurm: GPUs of each task (its worker then runs with --device cuda)", DefaultValueFactory = _ => 0 };
        var extra = new Option<string[]>("--sbatch-extra") { Description = "With --slurm: one more sbatch option for the script, e.g. --sbatch-extra=--account=lab (repeat for several)" };
        var cmd = new Command("sweep", "Run every run of an experiment spec (grid of datasets, models, inits, methods, sparsities, recipes, seeds), storing results in a crash-safe store; rerun to resume");
        cmd.Add(spec);
        foreach (var o in new Option[] { scale, workers, threads, outDir, store, artifacts, s.DataDir, tensorboard, lease, retry, dryRun, worker, slurm, array, partition, time, cpus, gpus, extra }) cmd.Add(o);
        cmd.Add(Status(spec, scale, outDir, store, s));
        cmd.Add(s.Device);
        cmd.Add(s.Json);
        cmd.SetAction(r => Output.Guard(r, s.Device, () =>
        {
            bool json = r.GetValue(s.Json);
            var console = Output.Human(json);
            var request = new SweepRequest(r.GetValue(spec)!, r.GetValue(scale)!, r.GetValue(outDir)!, r.GetValue(store), r.GetValue(artifacts),
                r.GetValue(s.DataDir), r.GetValue(tensorboard), r.GetValue(workers), r.GetValue(threads), r.GetValue(retry),
                r.GetValue(lease) is { } seconds ? Seconds(seconds) : null);
            if (r.GetValue(slurm))
            {
                var settings = new SlurmSettings(r.GetValue(array), r.GetValue(partition), r.GetValue(time), r.GetValue(cpus), r.GetValue(gpus),
                    r.GetValue(extra), r.GetValue(dryRun));
                var device = settings.GpusPerTask > 0 ? "cuda" : r.GetValue(s.Device)!;
                var submitted = Slurm.Submit(request, settings, WorkerCommand(request, device, settings.CpusPerTask));
                if (json) Output.Json(submitted);
                else
                {
                    foreach (var note in submitted.Notes) Output.Warn(console, note);
                    console.WriteLine($"sweep {submitted.Sweep}: {submitted.RunsLeft} runs left; store {submitted.Store}");
                    console.WriteLine($"wrote {submitted.Script} ({submitted.ArrayTasks} array tasks)");
                    console.WriteLine(submitted.JobId is { } id ? $"submitted job {id}; watch it with: initprune sweep status {request.SpecPath} --scale {request.Scale}{ReportOptions(request)}" : $"not submitted (--dry-run): sbatch {submitted.Script}");
                }
                return 0;
            }
            foreach (var (option, given) in new (string, bool)[] { ("--array", r.GetValue(array) is not null), ("--partition", r.GetValue(partition) is not null), ("--time", r.GetValue(time) is not null),
                ("--cpus-per-task", r.GetResult(cpus) is { Implicit: false }), ("--gpus-per-task", r.GetResult(gpus) is { Implicit: false }), ("--sbatch-extra", r.GetValue(extra) is { Length: > 0 }) })
                if (given) throw new Engine.InitPruneException($"{option} is an option of --slurm: add --slurm to submit the sweep to Slurm");
            if (r.GetValue(dryRun))
            {
                var plan = Sweep.Plan(request);
                if (json) Output.Json(plan.Runs);
                else foreach (var e in plan.Runs) console.WriteLine($"{e.Id}  {plan.Describe(e.Id)}");
                return 0;
            }
            // SIGTERM (Slurm's preemption, scancel, kill): finish the checkpoint in progress, give the run back, exit.
            using var stop = new CancellationTokenSource();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                stop.Cancel();
            });
            if (r.GetValue(worker))
            {
                Console.Out.WriteLine($"worker {WorkerInfo.Current} claims runs of {request.SpecPath} from {ResultsStores.Parse(request.StoreLocation).Display}");
                Sweep.Work(request, new SweepCallbacks { RunFinished = e => Console.Out.WriteLine(Line(e)) }, stop.Token);
                return 0;
            }
            var lines = new SweepCallbacks
            {
                Registered = start => Started(console, start),
                RunFinished = e => console.WriteLine($"[{e.Done}/{e.Runs}] {Line(e)}"),
                WorkerOutput = console.WriteLine,
                WorkerCommand = (_, t) => WorkerCommand(request, r.GetValue(s.Device)!, t),
            };
            var result = request.Workers == 1 && Output.Interactive(json) ? WithProgress(console, request, stop.Token) : Sweep.Run(request, lines, stop.Token);
            var summary = result.Summary;
            if (result.WorkersCrashed) Output.Warn(console, $"worker exit codes: {string.Join(", ", result.WorkerExitCodes)}; rerun the same command to finish the sweep");
            if (json) Output.Json(summary);
            else
            {
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"sweep {summary.Sweep}: {summary.Done}/{summary.Runs} done, {summary.Failed} failed, {summary.Pending} left, {summary.Seconds:0.0} s"));
                foreach (var f in summary.Failures) Output.Warn(console, f);
                if (stop.IsCancellationRequested)
                    Output.Warn(console, $"stopped (SIGTERM): {summary.Pending} runs left, each resumes from its last checkpoint; rerun the same command to finish the sweep");
                else if (summary.Pending > 0 && !result.WorkersCrashed)
                    Output.Warn(console, $"{summary.Pending} runs are being computed by another live sweep ({string.Join(", ", result.HeldBy)}); rerun this command when it has finished to report them");
                console.WriteLine($"report: initprune report {request.SpecPath} --scale {r.GetValue(scale)}{ReportOptions(request)}");
            }
            return stop.IsCancellationRequested && summary.Pending > 0 ? ExitCodes.Stopped : ExitCodes.ForSweep(summary.Failed, summary.Pending, result.WorkersCrashed);
        }));
        return cmd;
    }

    /// <summary><c>sweep status SPEC</c>: the sweep's counts, running runs with their workers, failures, and its Slurm jobs.</summary>
    static Command Status(Argument<string> spec, Option<string> scale, Option<string> outDir, Option<string?> store, Shared s)
    {
        var cmd = new Command("status", "Show a sweep's runs in its store: done, running (worker, heartbeat age), failed, pending, and its Slurm jobs still queued or running");
        cmd.Add(spec);
        foreach (var o in new Option[] { scale, outDir, store, s.Json }) cmd.Add(o);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            var status = Sweep.Status(new SweepRequest(r.GetValue(spec)!, r.GetValue(scale)!, r.GetValue(outDir)!, r.GetValue(store)));
            if (r.GetValue(s.Json))
            {
                Output.Json(status);
                return 0;
            }
            Console.WriteLine($"sweep {status.Sweep} in {status.Store}: {status.Done}/{status.Runs} done, {status.Running} running, {status.Failed} failed, {status.Pending} pending");
            foreach (var run in status.RunningRuns)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  running {run.RunId} {run.Description}: worker {run.Worker}, {run.Epochs} epoch{(run.Epochs == 1 ? "" : "s")} recorded, heartbeat {(run.HeartbeatAgeSeconds is { } a ? $"{a:0} s ago" : "never")}"));
            foreach (var failure in status.Failures) Console.WriteLine($"  failed {failure}");
            if (status.SlurmJobs is null) Console.WriteLine($"slurm: {status.SlurmNote}");
            else if (status.SlurmJobs.Count == 0) Console.WriteLine($"slurm: no job named {Slurm.JobName(status.Sweep)} queued or running");
            else foreach (var job in status.SlurmJobs) Console.WriteLine($"slurm: job {job.Id} {job.State} {job.Elapsed}");
            return 0;
        }));
        return cmd;
    }

    static TimeSpan Seconds(double seconds) => double.IsFinite(seconds) && seconds is > 0 and < 1e9
        ? TimeSpan.FromSeconds(seconds)
        : throw new Engine.InitPruneException($"--lease {seconds.ToString(CultureInfo.InvariantCulture)} is not a number of seconds: use e.g. --lease 120");

    static void Started(IAnsiConsole console, SweepStart start)
    {
        var c = start.Counts;
        console.WriteLine($"sweep {c.Sweep}: {c.Runs} runs ({c.Done} done, {c.Failed} failed, {c.Pending} to run); store {start.Store}");
        foreach (var note in start.Notes) Output.Warn(console, note);
    }

    /// <summary>The options <c>report</c> needs to find this sweep's store and artefacts (none for the defaults).</summary>
    static string ReportOptions(SweepRequest r) =>
        (r.StoreLocation == ResultsStores.DefaultIn(Sweep.DefaultOut) ? "" : $" --store {r.StoreLocation}") +
        (r.ArtifactRoot == Sweep.DefaultOut ? "" : $" --artifacts {r.ArtifactRoot}");

    /// <summary>One worker in this process with live bars: the sweep's runs and the current run's steps.</summary>
    static SweepResult WithProgress(IAnsiConsole console, SweepRequest request, CancellationToken stop)
    {
        SweepResult result = null!;
        console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                ProgressTask? overall = null;
                ProgressTask? current = null;
                result = Sweep.Run(request, new SweepCallbacks
                {
                    Registered = start =>
                    {
                        Started(console, start);
                        overall = ctx.AddTask("runs", maxValue: Math.Max(1, start.Counts.Runs));
                        overall.Value = start.Counts.Done;
                    },
                    RunStarted = c => current = ctx.AddTask(Markup.Escape(c.Description), maxValue: 1),
                    Step = p =>
                    {
                        if (current is null) return;
                        current.MaxValue = Math.Max(1, (double)p.Epochs * p.StepsPerEpoch);
                        current.Value = (double)(p.Epoch - 1) * p.StepsPerEpoch + p.Step;
                    },
                    RunFinished = e =>
                    {
                        current?.StopTask();
                        current = null;
                        if (e.Outcome.Done) overall?.Increment(1);
                        console.MarkupLine(Markup.Escape($"[{e.Done}/{e.Runs}] {Line(e)}"));
                    },
                }, stop);
                overall?.StopTask();
            });
        return result;
    }

    static string Line(RunEnd e)
    {
        var o = e.Outcome;
        if (o.Stopped) return $"{o.RunId} {e.Description}: stopped after its last checkpoint, given back to the store";
        return $"{o.RunId} {e.Description}: " + (o.Done
            ? (o.TestAccuracy is { } a ? string.Create(CultureInfo.InvariantCulture, $"test accuracy {100 * a:0.00}%") : "done") + (o.Resumed ? $" (resumed at {o.ResumedAt})" : "")
            : $"failed: {o.Error}");
    }

    /// <summary>The command line of a worker process: this program with the sweep's options (full paths) and --worker.</summary>
    static ProcessStartInfo WorkerCommand(SweepRequest r, string device, int threads)
    {
        var self = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(SweepCommand).Assembly.Location);
        var o = r.Options;
        foreach (var a in new[] { "sweep", Path.GetFullPath(r.SpecPath), "--worker", "--scale", r.Scale, "--device", device, "--store", ResultsStores.Parse(o.Store).Absolute, "--artifacts", Path.GetFullPath(o.Artifacts),
            "--threads", threads.ToString(CultureInfo.InvariantCulture) })
            info.ArgumentList.Add(a);
        if (o.DataDir is { } d) { info.ArgumentList.Add("--data-dir"); info.ArgumentList.Add(Path.GetFullPath(d)); }
        if (o.TensorBoard is { } tb) { info.ArgumentList.Add("--tensorboard"); info.ArgumentList.Add(Path.GetFullPath(tb)); }
        if (o.Lease is { } l) { info.ArgumentList.Add("--lease"); info.ArgumentList.Add(l.TotalSeconds.ToString("R", CultureInfo.InvariantCulture)); }
        return info;
    }
}
