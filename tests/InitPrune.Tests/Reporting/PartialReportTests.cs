using System.Globalization;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using InitPrune.Tests.Cli;
using SkiaSharp;
using static InitPrune.Tests.Reporting.ReportRuns;

namespace InitPrune.Tests.Reporting;

/// <summary>Reports of sweeps that are not finished: the fig3 smoke grid (3 labels × 3 depths × 3 sparsities) with only some runs done.</summary>
public sealed class PartialReportTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("initprune-partial-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static readonly string[] Labels = ["EOC + rescaling", "EOC", "Ordered"];

    /// <summary>The 27 runs of the grid in the sweep's order (label, depth, sparsity); the first <paramref name="done"/> are done.</summary>
    static List<StoredRun> Grid(int done)
    {
        var runs = new List<StoredRun>();
        foreach (var label in Labels)
            foreach (var depth in new[] { 2, 10, 30 })
                foreach (var sparsity in new[] { 0.1, 0.5, 0.9 })
                {
                    var isDone = runs.Count < done;
                    runs.Add(Run(label, sparsity, 0, isDone ? 0.5 + runs.Count / 100.0 : null, isDone ? RunStatus.Done : RunStatus.Pending,
                        depth: depth, extra: new() { ["model.depth"] = depth.ToString(CultureInfo.InvariantCulture) }));
                }
        return runs;
    }

    static SweepInfo Fig3() => Sweep(new ReportLayout(HeatmapX: "prune.sparsity", HeatmapY: "model.depth"));

    [Fact]
    public void Three_of_27_runs_done_gives_a_report_with_missing_cells_and_a_progress_line()
    {
        var (tables, files, progress) = SweepReport.Write(Fig3(), Grid(3), dir);

        Assert.StartsWith("3 of 27 runs finished; 24 missing", progress);
        Assert.Equal(3, tables.Count);
        Assert.Equal(["50.00", "51.00", "52.00"], tables[0].Rows[0].Cells.Select(c => c.Format(tables[0].NumberFormat)));
        Assert.All(tables.Skip(1).SelectMany(t => t.Rows).SelectMany(r => r.Cells), c => Assert.Equal((0, "—"), (c.N, c.Format("F2"))));
        var md = File.ReadAllText(files.Markdown);
        Assert.Contains("**Partial report:** 3 of 27 runs finished; 24 missing", md);
        Assert.Contains("<strong>Partial report:</strong> 3 of 27 runs finished; 24 missing", File.ReadAllText(files.Html));
        Assert.Contains("| EOC | — | — | — |", md);
        Assert.Contains("| Ordered | — | — | — |", md);
    }

    [Fact]
    public void Plots_without_a_finished_run_are_left_out_and_listed_and_missing_heat_map_cells_are_grey()
    {
        var (_, files, _) = SweepReport.Write(Fig3(), Grid(3), dir);

        var pngs = files.Images.Where(i => i.EndsWith(".png", StringComparison.Ordinal)).Select(Path.GetFileName).ToList();
        Assert.Equal(2, pngs.Count);
        Assert.Contains("accuracy_vs_sparsity_depth-2.png", pngs);
        var heatmap = Assert.Single(pngs, p => p!.StartsWith("heatmap_EOC-", StringComparison.Ordinal));
        Assert.Equal(pngs.Count, Directory.GetFiles(dir, "*.png").Length);
        var md = File.ReadAllText(files.Markdown);
        var leftOut = md[md.IndexOf("**Plots left out (no finished runs yet):**", StringComparison.Ordinal)..];
        foreach (var title in new[] { "vs sparsity (model.depth = 10)", "vs sparsity (model.depth = 30)", "Test accuracy (%): EOC\n", "Test accuracy (%): Ordered\n" })
            Assert.Contains(title, leftOut.ReplaceLineEndings("\n"));

        // Depth 2 of EOC + rescaling is done, depths 10 and 30 are not: two thirds of the map are light grey cells.
        using var bmp = SKBitmap.Decode(Path.Combine(dir, heatmap!));
        var grey = 0;
        for (var y = 0; y < bmp.Height; y++)
            for (var x = 0; x < bmp.Width; x++)
                if (bmp.GetPixel(x, y) == new SKColor(211, 211, 211)) grey++;
        Assert.True(grey > bmp.Width * bmp.Height / 6, $"{grey} light grey pixels");
    }

    [Fact]
    public void A_sweep_with_no_finished_run_reports_every_cell_missing_and_writes_no_plot()
    {
        var (tables, files, progress) = SweepReport.Write(Fig3(), Grid(0), dir);

        Assert.StartsWith("0 of 27 runs finished; 27 missing", progress);
        Assert.All(tables.SelectMany(t => t.Rows).SelectMany(r => r.Cells), c => Assert.Equal(0, c.N));
        Assert.Empty(files.Images);
        Assert.Empty(Directory.GetFiles(dir, "*.png"));
        Assert.True(File.Exists(files.Html) && File.Exists(files.Csv));
    }

    [Fact]
    public void A_finished_sweep_has_no_progress_line()
    {
        var (_, files, progress) = SweepReport.Write(Fig3(), Grid(27), dir);

        Assert.Null(progress);
        Assert.DoesNotContain("Partial report", File.ReadAllText(files.Markdown));
        Assert.DoesNotContain("Plots left out", File.ReadAllText(files.Markdown));
    }

    [Fact]
    public void The_report_command_on_a_store_with_3_of_27_runs_done_exits_0_and_prints_the_progress_line()
    {
        var path = Path.Combine(dir, "store.sqlite");
        using (var store = SqliteResultsStore.Open(path))
        {
            var runs = Grid(3);
            store.Register(Fig3(), [.. runs.Select(r => new SweepEntry(r.Config with { Data = new DataSettings("ellipse") }, r.Entries[0].Label, r.Entries[0].Coordinates))]);
            var ids = store.Load(Key).Select(r => r.Id).ToList();
            for (var i = 0; i < 3; i++) store.Complete(ids[i], runs[i].Result!);
        }

        var r = CliRunner.Run("report", path, "--out", Path.Combine(dir, "report"));

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("partial report: 3 of 27 runs finished; 24 missing", r.Stdout);
        Assert.Contains("3 of 27 runs finished; 24 missing", File.ReadAllText(Path.Combine(dir, "report", "report.md")));
    }
}
