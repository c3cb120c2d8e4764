using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Cli;

/// <summary>
/// Bad input met by the real program: each case is one "error: what is wrong; what to do" line on stderr with its
/// documented exit code (docs/specs.md, "Exit codes"), never an exception name, a native stack or a hang.
/// </summary>
public sealed class BadInputCliTests : IDisposable
{
    readonly TempDir root = new();

    public void Dispose() => root.Dispose();

    const string Small = """
        name: bad-input
        data: {name: ellipse, train_subset: 200, test_subset: 100}
        model: {name: mlp, depth: 1, width: 8}
        prune: {method: random, sparsity: [0, 0.5]}
        train: {lr: 0.05, epochs: 1, batch_size: 50}
        """;

    string Spec(string yaml, string name = "spec.yaml")
    {
        var path = root.File(name);
        File.WriteAllText(path, yaml);
        return path;
    }

    /// <summary>A regular file: a folder "under" it can never be created, as with a read-only disk (the tests run as root).</summary>
    string RegularFile()
    {
        var path = root.File("a-file");
        File.WriteAllText(path, "not a folder");
        return path;
    }

    static string Error(CliRunner.Result r, int exitCode, params string[] fragments)
    {
        var line = CliRunner.AssertOneLineError(r, exitCode);
        foreach (var f in fragments) Assert.Contains(f, line);
        Assert.DoesNotContain("frame #", line);
        return line;
    }

    [Fact]
    public void An_absurd_powers_of_ten_range_is_refused_up_front_with_its_size()
    {
        var spec = Spec(Small.Replace("lr: 0.05", "lr: {powers_of_ten: [-1e8, 1e8]}"));
        Error(CliRunner.Run("sweep", spec, "--dry-run"), 2, "train.lr", "powers_of_ten", "200000001 values", "[-30, 30]");
    }

    [Fact]
    public void A_grid_of_more_runs_than_the_documented_maximum_is_refused_with_its_run_count()
    {
        var spec = Spec(Small + "\nseeds: 100000\n");
        Error(CliRunner.Run("sweep", spec, "--dry-run"), 2, "200000 runs", $"more than {SpecLoader.MaxEntries}");
    }

    [Fact]
    public void Theory_propagate_refuses_a_billion_layers_instead_of_running_out_of_memory()
    {
        Error(CliRunner.Run("theory", "propagate", "--depth", "1000000000", "--out", root.File("p")), 2, "between 1 and 10000", "1000000000", "--depth");
    }

    [Fact]
    public void A_model_too_large_for_memory_is_refused_before_allocating_with_the_estimate_and_the_available_memory()
    {
        var line = Error(CliRunner.Run("prune", "--method", "snip", "--sparsity", "0.5", "--dataset", "ellipse", "--model", "mlp", "--width", "1000000000", "--out", root.File("p")), 2,
            "model 'mlp'", "1E+18 parameters", "EiB", "memory is available", "smaller width");
        Assert.DoesNotContain("allocate", line);
    }

    [Fact]
    public void In_a_sweep_a_model_too_large_for_memory_fails_its_run_with_the_reason_and_the_others_finish()
    {
        var spec = Spec(Small.Replace("width: 8", "width: [8, 1000000000]").Replace("sparsity: [0, 0.5]", "sparsity: 0"));
        var store = root.File("out/store.sqlite");
        var r = CliRunner.Run("sweep", spec, "--out", root.File("out"), "--json");
        Assert.True(r.ExitCode == 4, r.Stderr);
        Assert.Equal(1, r.Json.GetProperty("done").GetInt32());
        Assert.Equal(1, r.Json.GetProperty("failed").GetInt32());
        using var s = SqliteResultsStore.Open(store);
        var failed = Assert.Single(s.Load(), x => x.Status == RunStatus.Failed);
        Assert.Contains("memory is available", failed.Error);
        Assert.Equal(1000000000, failed.Config.Model.Width);
    }

    public static TheoryData<string[]> CommandsWithOut => new()
    {
        new[] { "prune", "--method", "snip", "--sparsity", "0.5", "--dataset", "ellipse" },
        new[] { "train", "--dataset", "ellipse", "--epochs", "1" },
        new[] { "quickstart", "--epochs", "1", "--train-subset", "100" },
        new[] { "theory", "propagate", "--depth", "3" },
        new[] { "bench", "--batches", "1" },
    };

    [Theory]
    [MemberData(nameof(CommandsWithOut))]
    public void An_out_folder_that_cannot_be_created_is_one_line(string[] command)
    {
        var under = Path.Combine(RegularFile(), "sub");
        Error(CliRunner.Run([.. command, "--out", under]), 2, "cannot create output folder", under);
        Error(CliRunner.Run([.. command, "--out", RegularFile()]), 2, "is a file, not a folder");
    }

    [Theory]
    [MemberData(nameof(CommandsWithOut))]
    public void An_empty_out_is_one_line(string[] command) =>
        Error(CliRunner.Run([.. command, "--out", ""]), 2, "--out is empty");

    [Fact]
    public void A_sweep_whose_out_or_store_cannot_be_used_is_one_line_and_computes_nothing()
    {
        var spec = Spec(Small);
        var under = Path.Combine(RegularFile(), "sub");
        Error(CliRunner.Run("sweep", spec, "--out", under), 2, "cannot create the folder of the results store", "--out or --store");
        Error(CliRunner.Run("sweep", spec, "--out", RegularFile()), 2, "cannot create the folder of the results store");
        Error(CliRunner.Run("sweep", spec, "--out", ""), 2, "--out is empty");
        Error(CliRunner.Run("sweep", spec, "--store", ""), 2, "--store is empty");
        Assert.False(File.Exists("store.sqlite"), "an empty --out must not put the store in the current folder");
    }

    [Theory]
    [InlineData("postgres://user:pw@db.example/initprune", "holds a password; put it in PGPASSWORD or ~/.pgpass")]
    [InlineData("postgresql://user@127.0.0.1:1/initprune", "cannot reach the PostgreSQL server of postgres://user@127.0.0.1:1/initprune")]
    [InlineData("mysql://db.example/initprune", "unknown store scheme 'mysql:'")]
    [InlineData("results:v2.sqlite", "unknown store scheme 'results:'")]
    public void A_store_location_that_names_no_usable_store_is_one_line_for_sweep_and_report_and_creates_nothing(string location, string expected)
    {
        var spec = Spec(Small);
        Error(CliRunner.Run("sweep", spec, "--store", location, "--out", root.File("out")), 2, expected);
        Error(CliRunner.Run("report", spec, "--store", location, "--artifacts", root.File("out")), 2, expected);
        Error(CliRunner.Run("report", location, "--artifacts", root.File("out")), 2, expected);
        Assert.False(Directory.Exists(root.File("out")));
    }

    [Fact]
    public void A_sweep_whose_artifacts_or_tensorboard_folder_cannot_be_used_is_one_line()
    {
        var spec = Spec(Small);
        Error(CliRunner.Run("sweep", spec, "--out", root.File("out"), "--artifacts", RegularFile()), 2, "--artifacts", "is a file, not a folder");
        Error(CliRunner.Run("sweep", spec, "--out", root.File("out"), "--tensorboard", RegularFile()), 2, "--tensorboard", "is a file, not a folder");
        Error(CliRunner.Run("sweep", spec, "--out", root.File("out"), "--artifacts", ""), 2, "--artifacts is empty");
    }

    [Fact]
    public void Train_tensorboard_naming_a_regular_file_is_one_line()
    {
        var file = RegularFile();
        Error(CliRunner.Run("train", "--dataset", "ellipse", "--epochs", "1", "--out", root.File("t"), "--tensorboard", file), 2, "--tensorboard", "is a file, not a folder");
        Assert.Equal("not a folder", File.ReadAllText(file));
    }

    [Fact]
    public void Report_names_a_missing_spec_and_refuses_an_out_that_is_a_file()
    {
        Error(CliRunner.Run("report", root.File("nope.yaml")), 2, "nope.yaml: no such spec file");

        var spec = Spec(Small);
        var store = root.File("out/store.sqlite");
        Assert.Equal(0, CliRunner.Run("sweep", spec, "--out", root.File("out")).ExitCode);
        Error(CliRunner.Run("report", spec, "--store", store, "--out", RegularFile()), 2, "--out", "is a file, not a folder");
        Error(CliRunner.Run("report", spec, "--store", store, "--out", Path.Combine(RegularFile(), "sub")), 2, "cannot create output folder");
        Error(CliRunner.Run("report", spec, "--store", store, "--out", ""), 2, "--out is empty");
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("0")]
    public void Quickstart_train_subset_below_one_names_its_own_option(string n)
    {
        var line = Error(CliRunner.Run("quickstart", "--train-subset", n, "--epochs", "1", "--out", root.File("q")), 2, $"--train-subset {n} is impossible", "at least 1");
        Assert.DoesNotContain("--batch-size", line);
    }

    [Fact]
    public void Test_images_of_another_size_than_the_training_images_name_both_sizes()
    {
        var data = root.Sub("mnist");
        File.WriteAllBytes(Path.Combine(data, "train-images-idx3-ubyte"), DataFiles.IdxImages(3, 28, 28, DataFiles.Pixels(0, 3, 28 * 28)));
        File.WriteAllBytes(Path.Combine(data, "train-labels-idx1-ubyte"), DataFiles.IdxLabels([1, 2, 3]));
        File.WriteAllBytes(Path.Combine(data, "t10k-images-idx3-ubyte"), DataFiles.IdxImages(2, 14, 14, DataFiles.Pixels(0, 2, 14 * 14)));
        File.WriteAllBytes(Path.Combine(data, "t10k-labels-idx1-ubyte"), DataFiles.IdxLabels([4, 5]));
        Error(CliRunner.Run("train", "--dataset", "mnist", "--data-dir", data, "--epochs", "1", "--out", root.File("t")), 2,
            "14x14", "28x28", "t10k-images-idx3-ubyte", "train-images-idx3-ubyte", "same dataset release");
    }

    [Fact]
    public void A_store_with_a_corrupt_page_names_the_file_and_what_to_do()
    {
        var spec = Spec(Small);
        var store = root.File("out/store.sqlite");
        Assert.Equal(0, CliRunner.Run("sweep", spec, "--out", root.File("out")).ExitCode);
        // Overwrite every page but the first (the header and the schema) with garbage: the tables' pages are damaged.
        var bytes = File.ReadAllBytes(store);
        int pageSize = (bytes[16] << 8) | bytes[17];
        Assert.True(bytes.Length > 2 * pageSize, "the store should span several pages");
        for (int i = pageSize; i < bytes.Length; i++) bytes[i] = 0x5A;
        File.WriteAllBytes(store, bytes);

        foreach (var r in new[] { CliRunner.Run("report", store), CliRunner.Run("sweep", spec, "--out", root.File("out")) })
            Error(r, 2, $"store {store} is corrupt (database disk image is malformed)", "move it aside and rerun the sweep", "restore a backup");
    }

    [Fact]
    public void A_corrupt_checkpoint_fails_its_run_saying_to_rerun_it_from_scratch_and_retry_failed_does()
    {
        var spec = Spec(Small.Replace("sparsity: [0, 0.5]", "sparsity: 0.5"));
        var id = SpecLoader.Load(spec).Entries.Single().Config.Id;
        var checkpoint = new SweepFolders(root.File("out")).CheckpointOf(id);
        Directory.CreateDirectory(Path.GetDirectoryName(checkpoint)!);
        File.WriteAllBytes(checkpoint, [1, 2, 3]);

        var first = CliRunner.Run("sweep", spec, "--out", root.File("out"), "--json");
        Assert.Equal(4, first.ExitCode);
        var reason = first.Json.GetProperty("failures")[0].GetString()!;
        // No checkpoint of this run was ever recorded, so the store's hash check refuses it before it is parsed.
        Assert.Contains($"the checkpoint of run {id} was changed or replaced", reason);
        Assert.Contains("from scratch", reason);
        Assert.Contains("--retry-failed", reason);
        Assert.DoesNotContain("safetensors writer", reason);

        var retry = CliRunner.Run("sweep", spec, "--out", root.File("out"), "--retry-failed", "--json");
        Assert.True(retry.ExitCode == 0, retry.Stderr);
        Assert.Equal(1, retry.Json.GetProperty("done").GetInt32());
        Assert.False(File.Exists(checkpoint));
    }

    [Fact]
    public void A_sweep_that_leaves_runs_to_another_live_sweep_exits_5_not_4_and_says_so()
    {
        var spec = Spec(Small);
        var store = root.File("out/store.sqlite");
        var loaded = SpecLoader.Load(spec);
        string held;
        using (var s = SqliteResultsStore.Open(store))
        {
            s.Register(loaded.Info, loaded.Entries);
            // This test process is the other live sweep: it holds the first run.
            held = s.Claim(loaded.Key, WorkerInfo.Current, SweepOptions.DefaultLease)!.RunId;
        }
        var r = CliRunner.Run("sweep", spec, "--out", root.File("out"));
        Assert.True(r.ExitCode == 5, r.Stdout + r.Stderr);
        Assert.Contains("1 left", r.Stdout);
        Assert.Contains($"1 runs are being computed by another live sweep ({WorkerInfo.Current})", r.Stdout);
        using var after = SqliteResultsStore.Open(store);
        Assert.Equal(RunStatus.Running, after.Load().Single(x => x.Id == held).Status);
        Assert.All(after.Load().Where(x => x.Id != held), x => Assert.Equal(RunStatus.Done, x.Status));
    }
}
