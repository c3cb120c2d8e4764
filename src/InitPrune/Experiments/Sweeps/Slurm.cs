using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using InitPrune.Engine;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// How <c>sweep --slurm</c> asks Slurm for workers: <see cref="Array"/> array tasks (default: one per run left, at most
/// <see cref="MaxDefaultArray"/>), each one worker with <see cref="CpusPerTask"/> threads and <see cref="GpusPerTask"/>
/// GPUs (then <c>--device cuda</c>); <see cref="SbatchExtra"/> are further <c>#SBATCH</c> options, one per line.
/// With <see cref="DryRun"/> the script is written and not submitted.
/// </summary>
public sealed record SlurmSettings(
    int? Array = null,
    string? Partition = null,
    string? Time = null,
    int CpusPerTask = 1,
    int GpusPerTask = 0,
    IReadOnlyList<string>? SbatchExtra = null,
    bool DryRun = false)
{
    /// <summary>The largest array the default asks for.</summary>
    public const int MaxDefaultArray = 64;
}

/// <summary>What <c>sweep --slurm</c> did: the script written, its array size, the runs left, and the job id (null for a dry run).</summary>
public sealed record SlurmSubmission(string Sweep, string Store, string Script, int ArrayTasks, int RunsLeft, string? JobId, IReadOnlyList<string> Notes);

/// <summary>A Slurm job of the sweep still known to <c>squeue</c>: its id (<c>job_task</c> for array tasks), state and time used.</summary>
public sealed record SlurmJob(string Id, string State, string Elapsed);

/// <summary>
/// Sweeps on a Slurm cluster through <c>sbatch</c> job arrays, without a scheduler of our own: the runs are registered
/// in the store, and each array task is one worker (<c>initprune sweep SPEC --worker</c>) claiming runs until none is
/// left, so tasks never need run indices and a resubmitted array resumes. SIGTERM (preemption, <c>scancel</c>) makes a
/// worker give its run back after the checkpoint in progress; a SIGKILLed worker's run is taken over when its lease ends.
/// </summary>
public static partial class Slurm
{
    /// <summary>The job name of a sweep's arrays (what <c>sweep status</c> asks <c>squeue</c> for).</summary>
    public static string JobName(string sweepKey) => "initprune-" + SweepSpec.FileName(sweepKey);

    /// <summary>
    /// Registers the sweep's runs, writes its sbatch script to <c>&lt;artifacts&gt;/slurm/</c> and submits it (unless a dry
    /// run). <paramref name="worker"/> is the command one array task runs (this program, <c>sweep SPEC --worker</c> and the
    /// sweep's options), built by the caller, which knows its own executable.
    /// </summary>
    public static SlurmSubmission Submit(SweepRequest r, SlurmSettings s, ProcessStartInfo worker)
    {
        Check(s);
        var plan = Sweep.Plan(r);
        var o = r.Options;
        var location = ResultsStores.Parse(o.Store);
        var artifactsOption = r.Artifacts is null ? "--out" : "--artifacts";
        Artifacts.CheckPath(o.Artifacts, artifactsOption);
        var notes = new List<string>(plan.Spec.Notes);
        if (location.Kind == StoreKind.Sqlite)
            notes.Add($"the store is a SQLite file ({location.Display}): safe only when every node sees it on a disk with working locks; for many machines use PostgreSQL (--store postgres://user@host/database)");
        int left;
        if (s.DryRun)
            left = plan.Runs.Select(e => e.Id).Distinct().Count();
        else
        {
            using var store = ResultsStores.Open(o.Store);
            SweepRunner.Register(store, plan.Spec, o);
            var counts = SweepRunner.Summarize(store, plan.Spec, 0, 0);
            left = counts.Pending;
        }
        int tasks = s.Array ?? Math.Clamp(left, 1, SlurmSettings.MaxDefaultArray);
        var folder = Path.Combine(Path.GetFullPath(o.Artifacts), "slurm");
        Artifacts.PrepareOutput(folder, artifactsOption);
        var script = Path.Combine(folder, SweepSpec.FileName(plan.Spec.Key) + ".sbatch");
        Artifacts.WriteAllTextAtomic(script, Script(plan.Spec.Key, s, tasks, folder, worker));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var job = s.DryRun ? null : Sbatch(script);
        return new SlurmSubmission(plan.Spec.Key, location.Display, script, tasks, left, job, notes);
    }

    static void Check(SlurmSettings s)
    {
        if (s.Array is < 1) throw new InitPruneException($"--array {s.Array} is impossible: ask for at least 1 task");
        if (s.CpusPerTask < 1) throw new InitPruneException($"--cpus-per-task {s.CpusPerTask} is impossible: use at least 1");
        if (s.GpusPerTask < 0) throw new InitPruneException($"--gpus-per-task {s.GpusPerTask} is impossible: use 0 or more");
        if (s.Partition is { } p && !Name().IsMatch(p))
            throw new InitPruneException($"--partition '{Printable(p)}' is not a partition name (letters, digits, '_', '-', '.', ',')");
        if (s.Time is { } t && !TimeLimit().IsMatch(t))
            throw new InitPruneException($"--time '{Printable(t)}' is not a Slurm time limit: write minutes, MM:SS, HH:MM:SS or D-HH[:MM[:SS]]");
        foreach (var extra in s.SbatchExtra ?? [])
            if (!extra.StartsWith('-') || extra.Any(char.IsControl))
                throw new InitPruneException($"--sbatch-extra '{Printable(extra)}' is not one sbatch option: give one option per --sbatch-extra, e.g. --sbatch-extra=--account=lab");
    }

    /// <summary>The sbatch script: one worker per array task, its threads the task's CPUs, its output beside the script.</summary>
    internal static string Script(string sweepKey, SlurmSettings s, int tasks, string folder, ProcessStartInfo worker)
    {
        var name = SweepSpec.FileName(sweepKey);
        var b = new StringBuilder();
        b.Append("#!/bin/bash\n");
        b.Append($"# InitPrune sweep {Printable(sweepKey)}: each array task is one worker claiming runs from the store until none is left.\n");
        b.Append("# Resubmit this script to resume (finished runs are not computed again); scancel or preemption: each worker\n");
        b.Append("# finishes its checkpoint and gives its run back (SIGTERM), and the runs of killed workers are taken over.\n");
        b.Append($"#SBATCH --job-name={JobName(sweepKey)}\n");
        b.Append(CultureInfo.InvariantCulture, $"#SBATCH --array=0-{tasks - 1}\n");
        b.Append("#SBATCH --ntasks=1\n");
        b.Append(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={s.CpusPerTask}\n");
        if (s.GpusPerTask > 0) b.Append(CultureInfo.InvariantCulture, $"#SBATCH --gpus-per-task={s.GpusPerTask}\n");
        if (s.Partition is { } p) b.Append($"#SBATCH --partition={p}\n");
        if (s.Time is { } t) b.Append($"#SBATCH --time={t}\n");
        b.Append($"#SBATCH --output={Path.Combine(folder, name)}-%A_%a.out\n");
        foreach (var extra in s.SbatchExtra ?? []) b.Append($"#SBATCH {extra}\n");
        b.Append("exec");
        foreach (var word in new[] { worker.FileName }.Concat(worker.ArgumentList)) b.Append(' ').Append(Quote(word));
        b.Append('\n');
        return b.ToString();
    }

    /// <summary><paramref name="word"/> as one word of a POSIX shell command.</summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "@%+=:,./_-".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";

    static string Sbatch(string script)
    {
        var info = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("--parsable");
        info.ArgumentList.Add(script);
        try
        {
            using var p = Process.Start(info)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            var id = stdout.Result.Trim().Split(';')[0];
            if (p.ExitCode != 0 || id.Length == 0)
                throw new InitPruneException($"sbatch refused the job ({FirstLine(stderr)}); the script is {script}: fix the Slurm options and rerun, or submit it with sbatch yourself");
            return id;
        }
        catch (Win32Exception e)
        {
            throw new InitPruneException($"sbatch was not found: run this on a machine with Slurm (a login node), or submit the script written to {script} with sbatch there", inner: e);
        }
    }

    /// <summary>The sweep's jobs still in <c>squeue</c>; null, with the reason in <paramref name="why"/>, when Slurm is not installed or not reachable here.</summary>
    public static IReadOnlyList<SlurmJob>? Jobs(string sweepKey, out string? why)
    {
        why = null;
        var info = new ProcessStartInfo("squeue") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--noheader", "--name", JobName(sweepKey), "--format", "%i|%T|%M" }) info.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(info)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                why = $"squeue failed ({FirstLine(stderr.Result)}): no Slurm controller reachable from here";
                return null;
            }
            return [.. lines.Select(l => l.Split('|')).Where(f => f.Length == 3).Select(f => new SlurmJob(f[0], f[1], f[2]))];
        }
        catch (Win32Exception)
        {
            why = "Slurm is not installed here (no squeue)";
            return null;
        }
    }

    static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no message";

    static string Printable(string text) => new([.. text.Select(c => char.IsControl(c) ? '?' : c)]);

    [GeneratedRegex(@"^[A-Za-z0-9_.,-]+$")]
    private static partial Regex Name();

    [GeneratedRegex(@"^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$", RegexOptions.IgnoreCase)]
    private static partial Regex TimeLimit();
}
