using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary>
/// <c>store export|import</c>: a finished sweep moved SQLite → PostgreSQL → SQLite keeps every row, and its report is
/// the same to the byte from each store; refusals write nothing.
/// </summary>
public sealed class StoreTransferTests : IDisposable
{
    readonly TempDir dir = new();
    readonly TestDatabase database = new();

    public void Dispose()
    {
        database.Dispose();
        dir.Dispose();
    }

    const string Spec = """
        name: transfer
        description: "a sweep with a \"quoted\" note, | pipes | and <b>markup</b>"
        data: {name: ellipse, train_subset: 400, test_subset: 100}
        model: {name: mlp, depth: 2, width: 16}
        prune: {method: [random, snip], sparsity: [0, 0.8]}
        train: {lr: 0.05, epochs: 2, batch_size: 50, jacobian_every: 4}
        seeds: [0, 1]
        """;

    string SpecFile()
    {
        var path = dir.File("spec.yaml");
        File.WriteAllText(path, Spec);
        return path;
    }

    Dictionary<string, byte[]> Report(string store, string name)
    {
        var reports = SweepReport.Build(new ReportRequest(store, Artifacts: dir.File("results"), Out: dir.File(name)));
        var files = Assert.Single(reports).Files;
        return new[] { files.Markdown, files.Csv, files.Html }.ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
    }

    static void SameRows(StoreDump expected, StoreDump actual)
    {
        Assert.Equal(expected.Sweeps, actual.Sweeps);
        Assert.Equal(expected.Runs, actual.Runs);
        Assert.Equal(expected.SweepRuns, actual.SweepRuns);
        Assert.Equal(expected.Epochs, actual.Epochs);
        Assert.Equal(expected.Jacobian, actual.Jacobian);
    }

    [Fact]
    public void A_finished_sweep_moved_to_PostgreSQL_and_back_keeps_every_row_and_reports_the_same_bytes()
    {
        var spec = SpecFile();
        var sqlite = dir.File("results/store.sqlite");
        var result = Sweep.Run(new SweepRequest(spec, Out: dir.File("results"), Threads: 1));
        Assert.Equal((6, 0), (result.Summary.Done, result.Summary.Failed));
        var before = Report(sqlite, "from-sqlite");

        var there = StoreTransfer.Copy(sqlite, database.Location);
        Assert.Equal(["transfer@full"], there.Sweeps);
        Assert.Equal((6, 0, 12), (there.Runs, there.RunsAlreadyThere, there.Epochs));
        Assert.True(there.JacobianPoints > 0);
        Assert.Equal(before, Report(database.Location, "from-postgres"));

        var back = dir.File("back/store.sqlite");
        StoreTransfer.Copy(database.Location, back, fromOption: "SOURCE", toOption: "--store");
        Assert.Equal(before, Report(back, "back-again"));

        using var original = ResultsStores.Open(sqlite);
        using var postgres = ResultsStores.Open(database.Location);
        using var returned = ResultsStores.Open(back);
        SameRows(original.Dump(), postgres.Dump());
        SameRows(original.Dump(), returned.Dump());
        Assert.Equal(6, original.Dump().Runs.Count(r => r.ResultJson is not null && r.PruningJson is not null));
    }

    [Fact]
    public void A_copy_the_target_refuses_writes_nothing_and_a_new_SQLite_target_is_not_left_behind()
    {
        using (var store = ResultsStores.Open(dir.File("a.sqlite")))
            store.Register(new SweepInfo("s@full", "", "", new ReportLayout(), [], ""), []);
        StoreTransfer.Copy(dir.File("a.sqlite"), database.Location);

        var twice = Assert.Throws<InitPruneException>(() => StoreTransfer.Copy(dir.File("a.sqlite"), database.Location));
        Assert.Equal($"the store {database.Location} already holds sweep 's@full': import into another store, or delete the sweep there first", twice.Message);
        var missing = Assert.Throws<InitPruneException>(() => StoreTransfer.Copy(database.Location, dir.File("new.sqlite"), ["t@full"]));
        Assert.Equal($"the store {database.Location} holds no sweep 't@full'; its sweeps: s@full", missing.Message);
        Assert.False(File.Exists(dir.File("new.sqlite")));
        var same = Assert.Throws<InitPruneException>(() => StoreTransfer.Copy(dir.File("a.sqlite"), "sqlite:" + dir.File("a.sqlite")));
        Assert.Contains("name the same store", same.Message);
        Assert.Contains("no results store at", Assert.Throws<InitPruneException>(() => StoreTransfer.Copy(dir.File("none.sqlite"), dir.File("b.sqlite"))).Message);
        Assert.False(File.Exists(dir.File("b.sqlite")));
    }

    [Fact]
    public void The_store_commands_copy_both_ways_and_print_JSON()
    {
        using (var store = ResultsStores.Open(dir.File("a.sqlite")))
            store.Register(new SweepInfo("s@full", "", "", new ReportLayout(), [], ""), []);
        var export = CliRunner.Run("store", "export", "--store", dir.File("a.sqlite"), "--to", database.Location, "--json");
        Assert.Equal(0, export.ExitCode);
        Assert.Equal(database.Location, export.Json.GetProperty("to").GetString());
        Assert.Equal("s@full", export.Json.GetProperty("sweeps")[0].GetString());
        var import = CliRunner.Run("store", "import", database.Location, "--store", dir.File("b.sqlite"), "--sweep", "s@full");
        Assert.Equal(0, import.ExitCode);
        Assert.Contains($"copied 1 sweep(s) (s@full), 0 runs, 0 epochs and 0 ‖J‖ points from {database.Location} to {dir.File("b.sqlite")}", import.Stdout);
        CliRunner.AssertOneLineError(CliRunner.Run("store", "import", database.Location, "--store", dir.File("b.sqlite")), 2);
    }
}
