using System.Diagnostics;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary>The sbatch script <c>sweep --slurm</c> writes, the options it refuses, and <c>sweep status</c>; no Slurm needed.</summary>
public sealed class SlurmScriptTests : IDisposable
{
    readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    string Spec()
    {
        var path = dir.File("my spec's.yaml");
        File.WriteAllText(path, """
            name: slurm-script
            data: {name: ellipse, train_subset: 200, test_subset: 100}
            model: {name: mlp, depth: 1, width: 8}
            prune: {method: random, sparsity: [0.5, 0.9]}
            train: {lr: 0.05, epochs: 1, batch_size: 50}
            seeds: [0, 1, 2]
            """);
        return path;
    }

    static ProcessStartInfo Worker(params string[] args)
    {
        var info = new ProcessStartInfo("/opt/init prune/initprune");
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("/a/b-c_d.yaml", "/a/b-c_d.yaml")]
    [InlineData("postgres://u@h:5432/db", "postgres://u@h:5432/db")]
    [InlineData("with space", "'with space'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("$HOME;rm -rf /", "'$HOME;rm -rf /'")]
    [InlineData("", "''")]
    public void Each_word_of_the_worker_command_is_one_shell_word(string word, string quoted) => Assert.Equal(quoted, Slurm.Quote(word));

    [Fact]
    public void The_script_asks_for_the_array_and_resources_and_execs_one_worker_per_task()
    {
        var script = Slurm.Script("fig@smoke", new SlurmSettings(Partition: "gpu", Time: "1-00:00:00", CpusPerTask: 4, GpusPerTask: 1, SbatchExtra: ["--account=lab", "--signal=B:TERM@120"]),
            8, "/shared/out/slurm", Worker("sweep", "/shared/my spec.yaml", "--worker", "--threads", "4"));
        var lines = script.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("#!/bin/bash", lines[0]);
        Assert.Equal(["#SBATCH --job-name=initprune-fig@smoke", "#SBATCH --array=0-7", "#SBATCH --ntasks=1", "#SBATCH --cpus-per-task=4", "#SBATCH --gpus-per-task=1",
            "#SBATCH --partition=gpu", "#SBATCH --time=1-00:00:00", "#SBATCH --output=/shared/out/slurm/fig@smoke-%A_%a.out", "#SBATCH --account=lab", "#SBATCH --signal=B:TERM@120"],
            lines.Where(l => l.StartsWith("#SBATCH")));
        Assert.Equal("exec '/opt/init prune/initprune' sweep '/shared/my spec.yaml' --worker --threads 4", lines[^1]);
        Assert.DoesNotContain("--gpus", Slurm.Script("a@full", new SlurmSettings(), 1, "/o", Worker()));
    }

    [Theory]
    [InlineData(0, null, null, 1, 0, null, "--array 0 is impossible")]
    [InlineData(null, "gpu\n#SBATCH --x", null, 1, 0, null, "--partition 'gpu?#SBATCH --x' is not a partition name")]
    [InlineData(null, null, "soon", 1, 0, null, "--time 'soon' is not a Slurm time limit")]
    [InlineData(null, null, null, 0, 0, null, "--cpus-per-task 0 is impossible")]
    [InlineData(null, null, null, 1, -1, null, "--gpus-per-task -1 is impossible")]
    [InlineData(null, null, null, 1, 0, "account=lab", "--sbatch-extra 'account=lab' is not one sbatch option")]
    [InlineData(null, null, null, 1, 0, "--a\n--b", "--sbatch-extra '--a?--b' is not one sbatch option")]
    public void Bad_Slurm_options_are_refused_in_one_line_before_anything_is_written(int? array, string? partition, string? time, int cpus, int gpus, string? extra, string expected)
    {
        var request = new SweepRequest(Spec(), Out: dir.File("out"));
        var e = Assert.Throws<InitPruneException>(() => Slurm.Submit(request, new SlurmSettings(array, partition, time, cpus, gpus, extra is null ? null : [extra], DryRun: true), Worker()));
        Assert.StartsWith(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public void A_dry_run_writes_the_script_only_and_the_CLI_names_it()
    {
        var spec = Spec();
        var r = CliRunner.Run("sweep", spec, "--slurm", "--dry-run", "--out", dir.File("out"), "--cpus-per-task", "2", "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.False(r.Json.TryGetProperty("job_id", out _));
        Assert.Equal(6, r.Json.GetProperty("array_tasks").GetInt32());
        Assert.Contains(r.Json.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("for many machines use PostgreSQL"));
        var script = File.ReadAllText(dir.File("out/slurm/slurm-script@full.sbatch"));
        Assert.Contains("#SBATCH --array=0-5", script);
        Assert.Contains($"sweep {Slurm.Quote(spec)} --worker --scale full --device cpu --store sqlite:{dir.File("out/store.sqlite")} --artifacts {dir.File("out")} --threads 2", script);
        Assert.False(File.Exists(dir.File("out/store.sqlite")));

        Assert.Contains("--partition is an option of --slurm", CliRunner.AssertOneLineError(CliRunner.Run("sweep", spec, "--partition", "gpu", "--out", dir.File("out")), 2));
        Assert.Contains("--cpus-per-task is an option of --slurm", CliRunner.AssertOneLineError(CliRunner.Run("sweep", spec, "--cpus-per-task", "1", "--out", dir.File("out")), 2));
        CliRunner.AssertOneLineError(CliRunner.Run("sweep", spec, "--lease", "0.5", "--out", dir.File("out")), 2);
    }

    [Fact]
    public void Status_counts_the_runs_of_a_sweep_and_refuses_a_store_without_it()
    {
        var spec = Spec();
        var store = dir.File("out/store.sqlite");
        CliRunner.AssertOneLineError(CliRunner.Run("sweep", "status", spec, "--store", store), 2);
        Assert.Equal(0, CliRunner.Run("sweep", spec, "--out", dir.File("out"), "--threads", "1").ExitCode);
        using (var s = ResultsStores.Open(store))
        {
            var runs = s.Load();
            s.Fail(runs[0].Id, "diverged");
            s.ResetFailed("slurm-script@full");
            s.Fail(runs[1].Id, "out of memory");
            s.Claim("slurm-script@full", new WorkerInfo("node-7", 4242, 1), TimeSpan.FromHours(1));
        }
        var status = CliRunner.Run("sweep", "status", spec, "--out", dir.File("out"), "--json");
        Assert.Equal(0, status.ExitCode);
        var j = status.Json;
        Assert.Equal((6, 4, 1, 1, 0), (j.GetProperty("runs").GetInt32(), j.GetProperty("done").GetInt32(), j.GetProperty("running").GetInt32(),
            j.GetProperty("failed").GetInt32(), j.GetProperty("pending").GetInt32()));
        var running = j.GetProperty("running_runs")[0];
        Assert.Equal("node-7:4242", running.GetProperty("worker").GetString());
        Assert.InRange(running.GetProperty("heartbeat_age_seconds").GetDouble(), 0, 3600);
        Assert.EndsWith("out of memory", j.GetProperty("failures")[0].GetString());
        var text = CliRunner.Run("sweep", "status", spec, "--out", dir.File("out"));
        Assert.Contains("sweep slurm-script@full in ", text.Stdout);
        Assert.Contains(": 4/6 done, 1 running, 1 failed, 0 pending", text.Stdout);
        Assert.Contains("worker node-7:4242, 1 epoch recorded, heartbeat", text.Stdout);
        Assert.Contains("slurm:", text.Stdout);
    }
}
