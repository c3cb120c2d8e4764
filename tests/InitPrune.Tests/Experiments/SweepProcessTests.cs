using System.Diagnostics;
using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary>Real processes: a sweep killed with SIGKILL finishes every run exactly once when rerun; two workers never share a run.</summary>
public class SweepProcessTests
{
    static string Spec(string dir, int epochs, int sparsities)
    {
        var list = string.Join(", ", Enumerable.Range(1, sparsities).Select(i => (0.1 * i).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)));
        var path = Path.Combine(dir, "spec.yaml");
        File.WriteAllText(path, $$"""
            name: crash-test
            data: {name: ellipse, train_subset: 1000, test_subset: 200}
            model: {name: mlp, depth: 3, width: 128, activation: tanh}
            init: {name: normal, sigma_w: 1.2, sigma_b: 0.1}
            prune: {method: snip, sparsity: [{{list}}]}
            train: {lr: 0.05, momentum: 0.9, epochs: {{epochs}}, batch_size: 20}
            seeds: [0]
            """);
        return path;
    }

    static IReadOnlyList<StoredRun> Runs(string store)
    {
        using var s = SqliteResultsStore.Open(store);
        return s.Load();
    }

    [Fact]
    public void A_sweep_killed_twice_with_SIGKILL_completes_every_run_exactly_once_and_resumes_bit_for_bit()
    {
        using var dir = new TempDir();
        var spec = Spec(dir.Path, epochs: 3, sparsities: 3);
        var results = Path.Combine(dir.Path, "results");
        var store = Path.Combine(results, "store.sqlite");
        // Each start dies by SIGKILL right after a checkpoint (CrashPoint): first after epoch 1 of the first run, then,
        // resumed, after its epoch 2. Killed mid-run by the process itself, never a race with the test.
        for (int kill = 1; kill <= 2; kill++)
        {
            var killed = CliRunner.RunIn(new Dictionary<string, string?> { [CrashPoint.Variable] = $"{kill}" }, "sweep", spec, "--out", results, "--threads", "1");
            Assert.Equal(137, killed.ExitCode);
            var runs = Runs(store);
            var running = Assert.Single(runs, r => r.Status == RunStatus.Running);
            Assert.Equal(Enumerable.Range(1, kill), running.Epochs.Select(e => e.Epoch));
            Assert.Equal(kill, running.Attempts);
            Assert.DoesNotContain(runs, r => r.Status == RunStatus.Done);
        }
        var finish = CliRunner.Run("sweep", spec, "--out", results, "--json");
        Assert.Equal(0, finish.ExitCode);
        Assert.Contains("resumed at epoch", finish.Stderr);
        var done = Runs(store);
        Assert.Equal(3, done.Count);
        Assert.All(done, r => Assert.Equal(RunStatus.Done, r.Status));
        Assert.All(done, r => Assert.Equal([1, 2, 3], r.Epochs.Select(e => e.Epoch)));
        Assert.Contains(done, r => r.Attempts > 1);
        Assert.Equal(3, finish.Json.GetProperty("done").GetInt32());

        // The same sweep computed without interruption gives identical numbers.
        var control = Path.Combine(dir.Path, "control", "store.sqlite");
        Assert.Equal(0, CliRunner.Run("sweep", spec, "--out", Path.Combine(dir.Path, "control"), "--threads", "1").ExitCode);
        var expected = Runs(control).ToDictionary(r => r.Id);
        foreach (var r in done)
        {
            Assert.Equal(expected[r.Id].Epochs.Select(e => e.TrainLoss), r.Epochs.Select(e => e.TrainLoss));
            Assert.Equal(expected[r.Id].Result!.TestAccuracy, r.Result!.TestAccuracy);
        }

        // Rerunning a finished sweep computes nothing.
        var again = CliRunner.Run("sweep", spec, "--out", results, "--json");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(0, again.Json.GetProperty("computed_now").GetInt32());
        Assert.Equal(done.Select(r => r.Attempts), Runs(store).Select(r => r.Attempts));
    }

    [Fact]
    public void With_artifacts_elsewhere_checkpoints_and_final_weights_go_there_and_report_finds_them_by_store_and_artifacts()
    {
        using var dir = new TempDir();
        var spec = Spec(dir.Path, epochs: 2, sparsities: 1);
        var id = SpecLoader.Load(spec).Entries.Single().Config.Id;
        var store = Path.Combine(dir.Path, "db", "store.sqlite");
        var artifacts = Path.Combine(dir.Path, "artifacts");
        var unused = Path.Combine(dir.Path, "out");
        string[] sweep = ["sweep", spec, "--store", store, "--artifacts", artifacts, "--out", unused, "--threads", "1"];

        var killed = CliRunner.RunIn(new Dictionary<string, string?> { [CrashPoint.Variable] = "1" }, sweep);
        Assert.Equal(137, killed.ExitCode);
        Assert.True(File.Exists(Path.Combine(artifacts, "checkpoints", id + ".safetensors")));
        Assert.All(Directory.GetFileSystemEntries(Path.GetDirectoryName(store)!), f => Assert.StartsWith("store.sqlite", Path.GetFileName(f)));

        var finish = CliRunner.Run(sweep);
        Assert.True(finish.ExitCode == 0, finish.Stderr);
        Assert.Contains("(resumed at epoch 2)", finish.Stdout);
        Assert.Contains($"report: initprune report {spec} --scale full --store {store} --artifacts {artifacts}", finish.Stdout);
        Assert.True(File.Exists(Path.Combine(artifacts, "runs", id, "final.safetensors")));
        Assert.True(File.Exists(Path.Combine(artifacts, "sweep-crash-test@full.json")));
        Assert.Empty(Directory.GetFiles(Path.Combine(artifacts, "checkpoints")));
        Assert.False(Directory.Exists(unused));

        var report = CliRunner.Run("report", "--store", store, "--artifacts", artifacts, "--json");
        Assert.True(report.ExitCode == 0, report.Stderr);
        var weights = report.Json[0].GetProperty("weights");
        Assert.Equal((1, 1), (weights.GetProperty("found").GetInt32(), weights.GetProperty("done").GetInt32()));
        Assert.Equal(Path.Combine(artifacts, "reports", "crash-test@full"), report.Json[0].GetProperty("folder").GetString());
        Assert.True(File.Exists(Path.Combine(artifacts, "reports", "crash-test@full", "report.html")));
        // Without the artefact folder the report still works from the store, and says where the weights are not.
        var other = CliRunner.Run("report", "--store", store, "--artifacts", Path.Combine(dir.Path, "other"));
        Assert.True(other.ExitCode == 0, other.Stderr);
        Assert.Contains($"final weights of 1 of 1 done runs are not in {Path.Combine(dir.Path, "other", "runs")}", other.Stdout);
    }

    [Fact]
    public void A_store_made_with_the_default_layout_resumes_its_checkpoint_from_out_alone_or_from_store_and_artifacts()
    {
        using var dir = new TempDir();
        var spec = Spec(dir.Path, epochs: 3, sparsities: 1);
        var id = SpecLoader.Load(spec).Entries.Single().Config.Id;
        var results = Path.Combine(dir.Path, "results");
        // The layout sweeps have always used: <out>/store.sqlite and <out>/checkpoints/<run id>.safetensors beside it.
        Assert.Equal(137, CliRunner.RunIn(new Dictionary<string, string?> { [CrashPoint.Variable] = "1" }, "sweep", spec, "--out", results, "--threads", "1").ExitCode);
        Assert.True(File.Exists(Path.Combine(results, "store.sqlite")));
        Assert.True(File.Exists(Path.Combine(results, "checkpoints", id + ".safetensors")));

        var resumed = CliRunner.RunIn(new Dictionary<string, string?> { [CrashPoint.Variable] = "2" }, "sweep", spec, "--out", results, "--threads", "1");
        Assert.Equal(137, resumed.ExitCode);
        Assert.Equal([1, 2], Runs(Path.Combine(results, "store.sqlite")).Single().Epochs.Select(e => e.Epoch));

        var finish = CliRunner.Run("sweep", spec, "--store", "sqlite:" + Path.Combine(results, "store.sqlite"), "--artifacts", results);
        Assert.True(finish.ExitCode == 0, finish.Stderr);
        Assert.Contains("(resumed at epoch 3)", finish.Stdout);
        var run = Runs(Path.Combine(results, "store.sqlite")).Single();
        Assert.Equal([1, 2, 3], run.Epochs.Select(e => e.Epoch));
        Assert.True(File.Exists(Path.Combine(results, "runs", id, "final.safetensors")));
    }

    [Fact]
    public void Two_workers_on_one_store_never_run_the_same_run()
    {
        using var dir = new TempDir();
        var spec = Spec(dir.Path, epochs: 1, sparsities: 9);
        // The store, the artefacts and the TensorBoard logs in three folders: the workers' command line carries all three.
        var store = Path.Combine(dir.Path, "db", "store.sqlite");
        var artifacts = Path.Combine(dir.Path, "artifacts");
        var tensorboard = Path.Combine(dir.Path, "tb");
        var r = CliRunner.Run("sweep", spec, "--store", "sqlite:" + store, "--artifacts", artifacts, "--tensorboard", tensorboard, "--workers", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var runs = Runs(store);
        Assert.Equal(9, runs.Count);
        Assert.All(runs, x => Assert.Equal(RunStatus.Done, x.Status));
        Assert.All(runs, x => Assert.Equal(1, x.Attempts));
        Assert.Equal(2, runs.Select(x => x.Worker).Distinct().Count());
        // Each worker reported only its own runs: together every run exactly once.
        var reported = r.Stderr.Split('\n').Where(l => l.StartsWith("[worker ") && l.Contains("test accuracy")).ToList();
        Assert.Equal(9, reported.Count);
        Assert.Equal(runs.Select(x => x.Id).Order(), reported.Select(l => l.Split(' ')[2]).Order());
        Assert.Equal(runs.Select(x => x.Id).Order(), Directory.GetDirectories(Path.Combine(artifacts, "runs")).Select(Path.GetFileName).Order());
        Assert.Equal(runs.Select(x => SweepFolders.TensorBoardName(x.Id, x.Config)).Order(), Directory.GetDirectories(tensorboard).Select(Path.GetFileName).Order());
        Assert.Equal(["store.sqlite"], Directory.GetFiles(Path.GetDirectoryName(store)!).Select(Path.GetFileName).Where(f => !f!.StartsWith("store.sqlite-")));
    }
}
