using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Tests.Training;

namespace InitPrune.Tests.Experiments;

/// <summary>The sweep and report commands as a user meets them: bad input, dry runs, TensorBoard files, reports.</summary>
public class SweepCliTests
{
    static string Write(TempDir dir, string yaml)
    {
        var path = dir.File("spec.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    const string Small = """
        name: cli-test
        data: {name: ellipse, train_subset: 600, test_subset: 200}
        model: {name: mlp, depth: 2, width: 16}
        prune: {method: [snip, random], sparsity: [0, 0.5]}
        train: {lr: 0.05, epochs: 2, batch_size: 50}
        seeds: 2
        """;

    [Fact]
    public void A_spec_with_an_impossible_value_is_rejected_in_one_line_naming_the_field_before_anything_runs()
    {
        using var dir = new TempDir();
        var spec = Write(dir, Small.Replace("sparsity: [0, 0.5]", "sparsity: [0, 1.5]"));
        var line = CliRunner.AssertOneLineError(CliRunner.Run("sweep", spec, "--out", dir.File("out")));
        Assert.Contains("prune.sparsity", line);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public void Reporting_a_store_that_does_not_exist_is_a_one_line_error()
    {
        using var dir = new TempDir();
        var line = CliRunner.AssertOneLineError(CliRunner.Run("report", dir.File("missing.sqlite")));
        Assert.Contains("initprune sweep", line);
    }

    [Fact]
    public void Dry_run_lists_each_distinct_run_once_and_the_dense_run_is_shared_by_both_methods()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("sweep", Write(dir, Small), "--dry-run", "--json");
        Assert.Equal(0, r.ExitCode);
        var entries = r.Json.EnumerateArray().ToList();
        Assert.Equal(8, entries.Count); // 2 methods × 2 sparsities × 2 seeds
        Assert.Equal(6, entries.Select(e => e.GetProperty("id").GetString()).Distinct().Count()); // dense runs shared
    }

    [Fact]
    public void A_sweep_with_tensorboard_then_its_report_write_every_promised_file()
    {
        using var dir = new TempDir();
        var spec = Write(dir, Small);
        var outDir = dir.File("out");
        var tensorboard = dir.File("tb");
        var sweep = CliRunner.Run("sweep", spec, "--out", outDir, "--tensorboard", tensorboard, "--json");
        Assert.Equal(0, sweep.ExitCode);
        Assert.Equal(6, sweep.Json.GetProperty("done").GetInt32());
        // --tensorboard DIR, as for train: one subfolder per run, named readably, nothing under the results folder.
        var names = SpecLoader.Load(spec).DistinctRuns.Select(c => SweepFolders.TensorBoardName(c.Id, c)).Order().ToList();
        Assert.Equal(names, Directory.GetDirectories(tensorboard).Select(Path.GetFileName).Order());
        Assert.All(Directory.GetDirectories(tensorboard), d => Assert.NotEmpty(Directory.GetFiles(d, "events.out.tfevents.*")));
        // Each run's event file, read back, holds its settings for TensorBoard's HParams plugin (filter by method and sparsity).
        foreach (var c in SpecLoader.Load(spec).DistinctRuns)
        {
            var events = EventFile.Read(Assert.Single(Directory.GetFiles(Path.Combine(tensorboard, SweepFolders.TensorBoardName(c.Id, c)))));
            var hp = EventFile.SessionHParams(events);
            Assert.Equal(c.Prune.Method, hp["prune.method"]);
            Assert.Equal(c.Prune.Sparsity, hp["prune.sparsity"]);
            Assert.Equal((double)c.Seed, hp["seed"]);
            Assert.Equal(c.Train.Lr, hp["train.lr"]);
            Assert.Equal("ellipse", hp["data.name"]);
            Assert.Equal(2 * 600 / 50, EventFile.Scalars(events, "train/step_loss").Count);
        }
        Assert.False(Directory.Exists(Path.Combine(outDir, "tensorboard")));
        Assert.Equal(6, Directory.GetDirectories(Path.Combine(outDir, "runs")).Length);
        Assert.Empty(Directory.GetFiles(Path.Combine(outDir, "checkpoints")));
        Assert.Contains("\"done\": 6", File.ReadAllText(Path.Combine(outDir, "sweep-cli-test@full.json")));

        var report = CliRunner.Run("report", spec, "--store", Path.Combine(outDir, "store.sqlite"), "--artifacts", outDir, "--json");
        Assert.Equal(0, report.ExitCode);
        var files = report.Json[0].GetProperty("files");
        Assert.Equal(Path.Combine(outDir, "reports", "cli-test@full"), Path.GetDirectoryName(files.GetProperty("html").GetString()));
        foreach (var key in new[] { "markdown", "csv", "html" }) Assert.True(File.Exists(files.GetProperty(key).GetString()), key);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(files.GetProperty("html").GetString())!, "report.json")));
        var table = report.Json[0].GetProperty("tables")[0];
        Assert.Equal(["snip", "random"], table.GetProperty("rows").EnumerateArray().Select(x => x.GetProperty("label").GetString()));
        // A store reports every sweep it holds; naming an unknown sweep is a one-line error listing the known ones.
        var store = Path.Combine(outDir, "store.sqlite");
        var all = CliRunner.Run("report", store, "--out", dir.File("all"), "--json");
        Assert.Equal(0, all.ExitCode);
        Assert.Equal("cli-test@full", all.Json[0].GetProperty("sweep").GetString());
        Assert.Contains("cli-test@full", CliRunner.AssertOneLineError(CliRunner.Run("report", store, "--sweep", "other@smoke")));
        // The tidy export, read back: one row per run × epoch, the settings as section.key columns, values as stored.
        var csv = dir.File("runs.csv");
        var export = CliRunner.Run("export", store, "--out", csv, "--json");
        Assert.Equal(0, export.ExitCode);
        var exported = InitPrune.Tests.Reporting.ExportTests.ReadCsv(File.ReadAllText(csv));
        var header = exported[0];
        using (var opened = ResultsStores.Open(store, mustExist: true))
        {
            var runs = opened.Load("cli-test@full");
            Assert.Equal(6, runs.Count);
            Assert.Equal(runs.Sum(x => x.Epochs.Count), exported.Count - 1);
            Assert.Equal(exported.Count - 1, export.Json.GetProperty("rows").GetInt32());
            Assert.Equal(header, export.Json.GetProperty("columns").EnumerateArray().Select(x => x.GetString()));
            string Cell(string[] row, string column) => row[Array.IndexOf(header, column)];
            foreach (var run in runs)
            {
                Assert.All(InitPrune.Reporting.RunExport.Settings(run.Config), kv => Assert.Contains(kv.Key, header));
                var rows = exported.Skip(1).Where(r => Cell(r, "run_id") == run.Id).ToList();
                Assert.Equal(run.Epochs.Select(e => e.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Select(r => Cell(r, "epoch")));
                foreach (var (row, e) in rows.Zip(run.Epochs))
                {
                    Assert.Equal(header.Length, row.Length);
                    Assert.Equal("cli-test@full", Cell(row, "sweep"));
                    Assert.Equal(run.Entries.First(x => x.Sweep == "cli-test@full").Label, Cell(row, "label"));
                    Assert.Equal("done", Cell(row, "status"));
                    Assert.Equal(run.Config.Prune.Method, Cell(row, "prune.method"));
                    Assert.Equal(run.Config.Prune.Sparsity, double.Parse(Cell(row, "prune.sparsity"), System.Globalization.CultureInfo.InvariantCulture));
                    Assert.Equal(run.Config.Seed, long.Parse(Cell(row, "seed"), System.Globalization.CultureInfo.InvariantCulture));
                    Assert.Equal("16", Cell(row, "model.width"));
                    Assert.Equal(e.TestAccuracy, double.Parse(Cell(row, "test_accuracy"), System.Globalization.CultureInfo.InvariantCulture));
                    Assert.Equal(e.TrainLoss, double.Parse(Cell(row, "train_loss"), System.Globalization.CultureInfo.InvariantCulture));
                    Assert.Equal(run.Pruning!.Kept, long.Parse(Cell(row, "pruning.kept"), System.Globalization.CultureInfo.InvariantCulture));
                    Assert.Equal(run.Result!.TestAccuracy, double.Parse(Cell(row, "result.test_accuracy"), System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }
        // The same table as Parquet (told from the extension, or by --format), read back: equal to the CSV cell by cell.
        var parquet = CliRunner.Run("export", store, "--out", dir.File("runs.parquet"), "--json");
        Assert.Equal(0, parquet.ExitCode);
        Assert.Equal("parquet", parquet.Json.GetProperty("format").GetString());
        var explicitly = CliRunner.Run("export", store, "--format", "parquet", "--out", dir.File("runs.bin"));
        Assert.Equal(0, explicitly.ExitCode);
        Assert.Equal(File.ReadAllBytes(dir.File("runs.parquet")), File.ReadAllBytes(dir.File("runs.bin")));
        var columns = InitPrune.Tests.Reporting.ExportTests.ReadParquet(dir.File("runs.parquet"));
        Assert.Equal(header, columns.Select(c => c.Name));
        Assert.Equal(Parquet.Meta.Type.INT64, columns.Single(c => c.Name == "seed").Type);
        Assert.Equal(Parquet.Meta.Type.DOUBLE, columns.Single(c => c.Name == "test_accuracy").Type);
        Assert.Equal(Parquet.Meta.Type.BYTE_ARRAY, columns.Single(c => c.Name == "prune.method").Type);
        for (int c = 0; c < header.Length; c++)
            for (int r = 1; r < exported.Count; r++)
            {
                var value = columns[c].Values[r - 1];
                var text = value switch
                {
                    null => "",
                    string t => InitPrune.Reporting.SweepReport.CsvText(t),
                    _ => InitPrune.Reporting.RunExport.Cell(value),
                };
                Assert.True(text == exported[r][c], $"{header[c]}, row {r}: parquet {text}, csv {exported[r][c]}");
            }
        // The dense column is the same shared runs in both rows.
        var dense = table.GetProperty("rows").EnumerateArray().Select(x => x.GetProperty("cells")[0].GetProperty("mean").GetDouble()).ToList();
        Assert.Equal(dense[0], dense[1]);
    }
}
