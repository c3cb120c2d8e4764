using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Experiments;

/// <summary>The store factory (a --store location to a store), the artefact folders, and the sweep and report library calls behind the commands.</summary>
public sealed class ResultsStoresTests : IDisposable
{
    readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    static readonly SweepInfo Info = new("f@full", "", "", new ReportLayout(), [], "");

    static readonly RunConfig Config = new(new DataSettings("ellipse"), new ModelSettings(), new InitSettings(), new PruneSettings("none", 0), new TrainSettings(), 0);

    [Fact]
    public void A_file_path_opens_a_SQLite_store_at_that_path_and_another_store_sees_what_it_wrote()
    {
        var path = dir.File("a/b/results.db");
        using (var store = ResultsStores.Open(path))
        {
            Assert.IsType<SqliteResultsStore>(store);
            store.Register(Info, [new SweepEntry(Config, "dense", new Dictionary<string, string>())]);
        }
        Assert.True(File.Exists(path));
        using var again = SqliteResultsStore.Open(path);
        Assert.Equal(["f@full"], again.Sweeps().Select(s => s.Key));
    }

    [Fact]
    public void A_sqlite_prefix_names_the_same_file_as_the_bare_path()
    {
        var path = dir.File("store.sqlite");
        using (var store = ResultsStores.Open("sqlite:" + path))
            store.Register(Info, [new SweepEntry(Config, "dense", new Dictionary<string, string>())]);
        Assert.True(File.Exists(path));
        using var again = ResultsStores.Open(path, mustExist: true);
        Assert.Single(again.Load());
        Assert.Equal(new StoreLocation(StoreKind.Sqlite, path), ResultsStores.Parse("SQLite:" + path));
        Assert.Equal("sqlite:" + path, ResultsStores.Parse(path).Absolute);
        Assert.Equal(Path.GetFullPath("rel/store.sqlite"), ResultsStores.Parse("sqlite:rel/store.sqlite").Display);
    }

    [Theory]
    [InlineData("postgres://alice@db.example:5433/sweeps", "postgres://alice@db.example:5433/sweeps")]
    [InlineData("postgresql://db.example/sweeps", "postgres://db.example:5432/sweeps")]
    [InlineData("PostgreSQL://alice@%2Frun%2Fpostgresql/my%20sweeps", "postgres://alice@%2Frun%2Fpostgresql:5432/my%20sweeps")]
    [InlineData("postgres://alice@/sweeps?host=/run/postgresql&sslmode=disable", "postgres://alice@%2Frun%2Fpostgresql:5432/sweeps")]
    [InlineData("postgres://alice@[::1]:6000/sweeps", "postgres://alice@::1:6000/sweeps")]
    [InlineData("Host=db.example;Username=alice;Database=sweeps", "postgres://alice@db.example:5432/sweeps")]
    [InlineData("host=db.example; port=7000; database=sweeps", "postgres://db.example:7000/sweeps")]
    public void A_PostgreSQL_location_names_a_database_and_is_shown_without_secrets(string location, string display)
    {
        var at = ResultsStores.Parse(location);
        Assert.Equal(StoreKind.Postgres, at.Kind);
        Assert.Equal(display, at.Display);
        Assert.Equal(location, at.Absolute);
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(at.Path);
        Assert.True(string.IsNullOrEmpty(builder.Password));
        Assert.Equal(ResultsStores.Parse(display).Path, ResultsStores.Parse(at.Display).Path);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Theory]
    [InlineData("postgres://alice:s3cret@db.example/sweeps", "holds a password; put it in PGPASSWORD or ~/.pgpass")]
    [InlineData("Host=db.example;Username=alice;Password=s3cret;Database=sweeps", "holds a password; put it in PGPASSWORD or ~/.pgpass")]
    [InlineData("postgres://alice@db.example", "names no database")]
    [InlineData("postgres://db.example:99999/sweeps", "port '99999' is not a port number")]
    [InlineData("postgres://db.example/sweeps?s3cret=1", "parameter 's3cret' is not supported")]
    [InlineData("postgres://db.example/sweeps?sslmode=sometimes", "sslmode 'sometimes' is unknown")]
    [InlineData("Host=db.example;Colour=blue;Database=sweeps", "the PostgreSQL location is malformed")]
    public void A_bad_PostgreSQL_location_is_refused_in_one_line_with_the_bad_input_code(string location, string expected)
    {
        var e = Assert.Throws<InitPruneException>(() => ResultsStores.Open(location));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(2, e.ExitCode);
        if (!expected.Contains("s3cret")) Assert.DoesNotContain("s3cret", e.Message);
    }

    [Theory]
    [InlineData("mysql://db.example/x", "mysql")]
    [InlineData("file:store.sqlite", "file")]
    [InlineData("s3://bucket/store.sqlite", "s3")]
    public void An_unknown_scheme_is_refused_in_one_line_naming_it(string location, string scheme)
    {
        var e = Assert.Throws<InitPruneException>(() => ResultsStores.Open(location));
        Assert.Contains($"unknown store scheme '{scheme}:'", e.Message);
        Assert.Contains("sqlite:PATH", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(2, e.ExitCode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Theory]
    [InlineData("", "--store is empty")]
    [InlineData("sqlite:", "names no file")]
    public void An_empty_location_is_refused(string location, string expected) =>
        Assert.Contains(expected, Assert.Throws<InitPruneException>(() => ResultsStores.Open(location)).Message);

    [Fact]
    public void A_store_that_must_exist_and_does_not_is_an_error_and_is_not_created()
    {
        var path = dir.File("missing.sqlite");
        Assert.Contains("initprune sweep", Assert.Throws<InitPruneException>(() => ResultsStores.Open(path, mustExist: true)).Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Artefact_folders_are_the_documented_default_layout_and_tensorboard_is_its_own_folder()
    {
        const string id = "0123456789abcdef";
        var folders = new SweepFolders("/r");
        Assert.Equal("/r/checkpoints/0123456789abcdef.safetensors", folders.CheckpointOf(id));
        Assert.Equal("/r/runs/0123456789abcdef/final.safetensors", folders.FinalWeightsOf(id));
        var snip = new RunConfig(new DataSettings(), new ModelSettings(), new InitSettings(), new PruneSettings("snip", 0.9), new TrainSettings(), 0);
        Assert.Null(folders.TensorBoardOf(id, snip));
        // TensorBoard runs are named readably: method, sparsity and the first 8 hex digits of the run id.
        Assert.Equal("/tb/snip-s0.9-01234567", (folders with { TensorBoard = "/tb" }).TensorBoardOf(id, snip));
        var dense = snip with { Prune = new PruneSettings() };
        Assert.Equal("dense-s0-01234567", SweepFolders.TensorBoardName(id, dense));
        var rescaled = snip with { Prune = new PruneSettings("magnitude", 0.98, Rescale: "eoc-fixed") };
        Assert.Equal("magnitude-eoc-fixed-s0.98-01234567", SweepFolders.TensorBoardName(id, rescaled));
        // The request's defaults: store <out>/store.sqlite, artefacts <out>; each may be moved on its own.
        var r = new SweepRequest("spec.yaml", Out: "/o");
        Assert.Equal(("/o/store.sqlite", "/o"), (r.StoreLocation, r.ArtifactRoot));
        Assert.Equal(("sqlite:/db/s.sqlite", "/a"), ((r with { Store = "sqlite:/db/s.sqlite", Artifacts = "/a" }).StoreLocation, (r with { Artifacts = "/a" }).ArtifactRoot));
    }

    [Fact]
    public void Sweep_run_reports_through_its_callbacks_and_returns_the_summary_and_the_report_finds_the_final_weights()
    {
        var spec = dir.File("spec.yaml");
        File.WriteAllText(spec, """
            name: lib
            data: {name: ellipse, train_subset: 200, test_subset: 100}
            model: {name: mlp, depth: 1, width: 8}
            prune: {method: random, sparsity: [0, 0.5]}
            train: {lr: 0.05, epochs: 1, batch_size: 50}
            """);
        var store = dir.File("db/store.sqlite");
        var artifacts = dir.File("artifacts");
        var events = new List<string>();
        var result = Sweep.Run(new SweepRequest(spec, Out: dir.File("unused"), Store: store, Artifacts: artifacts), new SweepCallbacks
        {
            Registered = s => events.Add($"registered {s.Counts.Runs} {s.Counts.Pending}"),
            RunStarted = s => events.Add($"started {s.RunId}"),
            RunFinished = e => events.Add($"finished {e.Outcome.RunId} {e.Done}/{e.Runs}"),
        });

        var ids = SpecLoader.Load(spec).DistinctRuns.Select(c => c.Id).ToList();
        Assert.Equal(["registered 2 2", $"started {ids[0]}", $"finished {ids[0]} 1/2", $"started {ids[1]}", $"finished {ids[1]} 2/2"], events);
        Assert.Equal((2, 0, 0, 2), (result.Summary.Done, result.Summary.Failed, result.Summary.Pending, result.Summary.ComputedNow));
        Assert.Equal(Path.Combine(artifacts, "sweep-lib@full.json"), result.SummaryFile);
        Assert.True(File.Exists(result.SummaryFile));
        Assert.Equal(Path.GetFullPath(store), result.Store);
        Assert.Empty(result.WorkerExitCodes);
        Assert.All(ids, id => Assert.True(File.Exists(Path.Combine(artifacts, "runs", id, "final.safetensors")), id));
        Assert.False(Directory.Exists(dir.File("unused")), "--out only gives defaults: with --store and --artifacts nothing goes there");
        Assert.All(Directory.GetFileSystemEntries(dir.File("db")), f => Assert.StartsWith("store.sqlite", Path.GetFileName(f)));

        var report = Assert.Single(SweepReport.Build(new ReportRequest(Store: "sqlite:" + store, Artifacts: artifacts)));
        Assert.Equal("lib@full", report.Sweep);
        Assert.Equal(new FinalWeights(Path.Combine(artifacts, "runs"), 2, 2), report.Weights);
        Assert.Equal(Path.Combine(artifacts, "reports", "lib@full"), report.Folder);
        Assert.True(File.Exists(report.Files.Html));

        // Another artefact folder holds none of them, and says so.
        var elsewhere = Assert.Single(SweepReport.Build(new ReportRequest(spec, Store: store, Artifacts: dir.File("other"))));
        Assert.Equal(0, elsewhere.Weights.Found);
        Assert.Equal(2, elsewhere.Weights.Done);

        var twice = Assert.Throws<InitPruneException>(() => SweepReport.Build(new ReportRequest(store, Store: store, Artifacts: artifacts)));
        Assert.Contains("given twice", twice.Message);
    }
}
