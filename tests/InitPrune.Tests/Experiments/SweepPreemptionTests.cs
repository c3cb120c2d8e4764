using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary>
/// SIGTERM (Slurm's preemption, <c>scancel</c>) on a sweep sharing a PostgreSQL store: the worker finishes the checkpoint
/// it is writing, gives the run back and exits; a worker on another machine (another artefact path onto the same files)
/// resumes the run from that checkpoint, bit for bit.
/// </summary>
public sealed class SweepPreemptionTests : IDisposable
{
    readonly TempDir dir = new();
    readonly TestDatabase database = new();

    public void Dispose()
    {
        database.Dispose();
        dir.Dispose();
    }

    string Spec(int epochs = 3, int trainSubset = 600)
    {
        var path = dir.File("spec.yaml");
        File.WriteAllText(path, """
            name: preempt
            data: {name: ellipse, train_subset: SUBSET, test_subset: 100}
            model: {name: mlp, depth: 2, width: 32}
            prune: {method: snip, sparsity: [0.5, 0.9]}
            train: {lr: 0.05, momentum: 0.9, epochs: EPOCHS, batch_size: 30}
            """.Replace("EPOCHS", $"{epochs}").Replace("SUBSET", $"{trainSubset}"));
        return path;
    }

    IReadOnlyList<StoredRun> Runs(string store)
    {
        using var s = ResultsStores.Open(store);
        return s.Load();
    }

    static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Fact]
    public void A_worker_sent_SIGTERM_gives_its_run_back_after_its_checkpoint_and_another_machine_resumes_it_bit_for_bit()
    {
        var spec = Spec();
        var machineA = dir.File("a");
        // The process sends itself SIGTERM right after the checkpoint of epoch 1 (a point the test controls).
        var stopped = CliRunner.RunIn(new Dictionary<string, string?> { [CrashPoint.TermVariable] = "1" },
            "sweep", spec, "--store", database.Location, "--artifacts", machineA, "--threads", "1", "--lease", "60");
        Assert.Equal(7, stopped.ExitCode);
        Assert.Contains("stopped after its last checkpoint, given back to the store", stopped.Stdout + stopped.Stderr);
        Assert.Contains("stopped (SIGTERM): 2 runs left", stopped.Stdout + stopped.Stderr);
        var runs = Runs(database.Location);
        Assert.All(runs, r => Assert.Equal(RunStatus.Pending, r.Status));
        Assert.All(runs, r => Assert.Null(r.Worker));
        Assert.Equal([1], runs[0].Epochs.Select(e => e.Epoch));
        Assert.Empty(runs[1].Epochs);

        // Another machine sees the shared artefact root under another path.
        var machineB = dir.File("b");
        CopyTree(machineA, machineB);
        var finish = CliRunner.Run("sweep", spec, "--store", database.Location, "--artifacts", machineB, "--threads", "1");
        Assert.Equal(0, finish.ExitCode);
        Assert.Contains("(resumed at epoch 2)", finish.Stdout);
        var done = Runs(database.Location);
        Assert.All(done, r => Assert.Equal(RunStatus.Done, r.Status));
        Assert.Equal([2, 1], done.Select(r => r.Attempts));

        var control = Sweep.Run(new SweepRequest(spec, Out: dir.File("control"), Threads: 1));
        Assert.Equal(2, control.Summary.Done);
        var expected = Runs(dir.File("control/store.sqlite")).ToDictionary(r => r.Id);
        foreach (var r in done)
        {
            Assert.Equal(expected[r.Id].Epochs.Select(e => e.TrainLoss), r.Epochs.Select(e => e.TrainLoss));
            Assert.Equal(expected[r.Id].Epochs.Select(e => e.TestAccuracy), r.Epochs.Select(e => e.TestAccuracy));
            Assert.Equal(expected[r.Id].Result!.TestAccuracy, r.Result!.TestAccuracy);
        }
    }

    [Fact]
    public async Task SIGTERM_to_a_sweep_with_two_workers_reaches_both_and_the_sweep_exits_7_with_every_run_resumable()
    {
        // Epochs of ~0.3 s, so that the signal comes while both workers are inside their runs.
        var spec = Spec(epochs: 8, trainSubset: 6000);
        var results = dir.File("workers");
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "InitPrune.Cli.dll"), "sweep", spec, "--out", results, "--workers", "2", "--threads", "1" })
            info.ArgumentList.Add(a);
        using var sweep = System.Diagnostics.Process.Start(info)!;
        var stdout = sweep.StandardOutput.ReadToEndAsync();
        var stderr = sweep.StandardError.ReadToEndAsync();
        // Once a worker has recorded an epoch (a state of the store, not a time), the sweep is asked to stop.
        var store = Path.Combine(results, "store.sqlite");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(File.Exists(store) && Runs(store).Any(r => r.Status == RunStatus.Running && r.Epochs.Count >= 1)))
        {
            Assert.False(sweep.HasExited, "the sweep ended before any epoch was recorded");
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "no worker recorded an epoch in 3 minutes");
            Thread.Sleep(50);
        }
        Assert.True(InitPrune.Engine.Signals.Terminate(sweep.Id));
        Assert.True(sweep.WaitForExit(TimeSpan.FromMinutes(3)));
        var output = await stdout + await stderr;
        var runs = Runs(store);
        Assert.True(sweep.ExitCode == 7, output);
        Assert.Contains("stopped (SIGTERM)", output);
        Assert.DoesNotContain(runs, r => r.Status == RunStatus.Running);
        Assert.Contains("given back to the store", output);

        var finish = CliRunner.Run("sweep", spec, "--out", results, "--threads", "1");
        Assert.Equal(0, finish.ExitCode);
        Assert.All(Runs(store), r => Assert.Equal(Enumerable.Range(1, 8), r.Epochs.Select(e => e.Epoch)));
    }
}
