using System.Diagnostics;
using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary>
/// A sweep on a real single-node Slurm (Debian's slurm-wlm and MUNGE, started by ./test) against a real PostgreSQL: a
/// 24-run sweep submitted as a 4-task array, one task cancelled with <c>scancel</c> while it computes a run. Every run
/// is done exactly once, none is lost, and the results are those of a single process.
/// </summary>
public sealed class SlurmArrayTests : IDisposable
{
    /// <summary>The slurm.conf of the test cluster ./test starts (never a SLURM_CONF of the user's: no job goes to a real cluster).</summary>
    public const string Variable = "INITPRUNE_TEST_SLURM_CONF";

    readonly TempDir dir = new();
    readonly TestDatabase database = new();

    public void Dispose()
    {
        database.Dispose();
        dir.Dispose();
    }

    static Dictionary<string, string?> Slurm()
    {
        var conf = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(conf) || !File.Exists(conf))
            throw new InvalidOperationException($"this test needs a Slurm cluster and {Variable} names none: run ./test as root (it installs Debian's slurm-wlm and munge and starts a private single-node cluster), or set {Variable} to a test cluster's slurm.conf");
        return new() { ["SLURM_CONF"] = conf };
    }

    static string Slurm(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in Slurm()) info.Environment[k] = v;
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{command} {string.Join(' ', args)}: {stderr}");
        return stdout.Result;
    }

    /// <summary>Waits for a state of the cluster or the store (never for a time): fails after <paramref name="limit"/> with what was awaited.</summary>
    static T Await<T>(Func<T?> probe, string what, TimeSpan limit) where T : class
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (probe() is { } found) return found;
            Thread.Sleep(100);
        }
        throw new TimeoutException($"waited {limit.TotalMinutes:0} min for {what}");
    }

    IReadOnlyList<StoredRun> Runs()
    {
        using var store = ResultsStores.Open(database.Location);
        return store.Load();
    }

    void AwaitJobGone(string job) =>
        Await(() => Slurm("squeue", "--noheader", "--jobs", job, "--format", "%i").Trim().Length == 0 ? "" : null, $"job {job} to leave the queue", TimeSpan.FromMinutes(10));

    [Fact]
    public void A_24_run_sweep_as_a_4_task_array_with_a_task_cancelled_mid_run_computes_every_run_once_as_one_process_does()
    {
        var spec = dir.File("spec.yaml");
        File.WriteAllText(spec, """
            name: array
            data: {name: ellipse, train_subset: 6000, test_subset: 200}
            model: {name: mlp, depth: 2, width: 48}
            prune: {method: [random, snip, synflow], sparsity: [0.5, 0.8, 0.9, 0.95]}
            train: {lr: 0.05, momentum: 0.9, epochs: 6, batch_size: 20}
            seeds: [0, 1]
            """);
        var results = dir.File("results");
        var env = Slurm();
        var submitted = CliRunner.RunIn(env, "sweep", spec, "--slurm", "--array", "4", "--store", database.Location, "--out", results, "--json");
        Assert.True(submitted.ExitCode == 0, submitted.Stderr);
        var job = submitted.Json.GetProperty("job_id").GetString()!;
        Assert.Equal(24, submitted.Json.GetProperty("runs_left").GetInt32());
        var script = File.ReadAllText(submitted.Json.GetProperty("script").GetString()!);
        Assert.Contains("#SBATCH --array=0-3", script);
        Assert.Contains("--worker", script);

        // Epochs take ~0.3 s here. Task 1's worker names itself on its first line; once it holds a run with 1 to 3 of its
        // 6 epochs recorded, it is mid-run: SIGTERM lets it finish the epoch in progress (at most the 4th), then it gives
        // the run back. (A run whose last epoch is done is finished rather than given back.)
        var output = Path.Combine(results, "slurm", $"{SweepSpec.FileName("array@full")}-{job}_1.out");
        var worker = Await(() => File.Exists(output) && File.ReadLines(output).FirstOrDefault() is { } line && line.StartsWith("worker ") ? line.Split(' ')[1] : null,
            "task 1's worker to start", TimeSpan.FromMinutes(5));
        var victim = Await(() => Runs().FirstOrDefault(r => r.Status == RunStatus.Running && r.Worker == worker && r.Epochs.Count is >= 1 and <= 3),
            $"worker {worker} to be in the middle of a run", TimeSpan.FromMinutes(5));
        Slurm("scancel", $"{job}_1");
        AwaitJobGone(job);

        // Runs the cancelled task gave back after the other tasks had run out of work wait for the array to be
        // resubmitted, as a user would (a resubmitted array resumes).
        if (Runs().Any(r => r.Status != RunStatus.Done))
        {
            var again = CliRunner.RunIn(env, "sweep", spec, "--slurm", "--array", "1", "--store", database.Location, "--out", results, "--json");
            Assert.True(again.ExitCode == 0, again.Stderr);
            AwaitJobGone(again.Json.GetProperty("job_id").GetString()!);
        }

        var runs = Runs();
        Assert.Equal(24, runs.Count);
        Assert.All(runs, r => Assert.Equal(RunStatus.Done, r.Status));
        Assert.All(runs, r => Assert.Equal([1, 2, 3, 4, 5, 6], r.Epochs.Select(e => e.Epoch)));
        var cancelled = runs.Single(r => r.Id == victim.Id);
        Assert.Equal(2, cancelled.Attempts);
        Assert.All(runs.Where(r => r.Id != victim.Id), r => Assert.Equal(1, r.Attempts));
        var outputs = Directory.GetFiles(Path.Combine(results, "slurm"), "*.out").Select(File.ReadAllText).ToList();
        Assert.Contains("stopped after its last checkpoint, given back to the store", File.ReadAllText(output));
        var finished = outputs.SelectMany(o => o.Split('\n')).Where(l => l.Contains(": test accuracy ")).Select(l => l.Split(' ')[0]).ToList();
        Assert.Equal(runs.Select(r => r.Id).Order(), finished.Order());
        Assert.Contains(outputs, o => o.Contains($"{victim.Id} ") && o.Contains("(resumed at epoch"));

        var control = CliRunner.Run("sweep", spec, "--out", dir.File("control"), "--workers", "2", "--threads", "1");
        Assert.True(control.ExitCode == 0, control.Stderr);
        using var single = ResultsStores.Open(dir.File("control/store.sqlite"));
        var expected = single.Load().ToDictionary(r => r.Id);
        foreach (var r in runs)
        {
            Assert.Equal(expected[r.Id].Epochs.Select(e => e.TrainLoss), r.Epochs.Select(e => e.TrainLoss));
            Assert.Equal(expected[r.Id].Result!.TestAccuracy, r.Result!.TestAccuracy);
        }
    }
}
