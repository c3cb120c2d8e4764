using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using InitPrune.Training;
using SkiaSharp;
using static InitPrune.Tests.Reporting.ReportRuns;

namespace InitPrune.Tests.Reporting;

public sealed class SweepReportTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("initprune-report-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>SNIP and Random at 0 (one shared dense run), 0.5 and 0.9, plus a pending and a failed run.</summary>
    static List<StoredRun> TableRuns() =>
    [
        AlsoUnder(Run("SNIP", 0, 0, 0.91), "Random"),
        Run("SNIP", 0.5, 0, 0.90),
        Run("SNIP", 0.9, 0, 0.80),
        Run("SNIP", 0.9, 1, 0.82),
        Run("SNIP", 0.9, 2, 0.84),
        Run("Random", 0.9, 0, 0.70),
        Run("Random", 0.9, 1, 0.74),
        Run("Random", 0.9, 2, null, RunStatus.Pending),
        Run("Random", 0.5, 0, null, RunStatus.Failed),
    ];

    [Fact]
    public void Main_table_has_hand_computed_mean_and_sample_std_per_cell()
    {
        var (tables, _, _) = SweepReport.Write(Sweep(), TableRuns(), dir);

        var t = Assert.Single(tables);
        Assert.Equal(["0%", "50%", "90%"], t.Columns);
        Assert.Equal(["SNIP", "Random"], t.Rows.Select(r => r.Label));
        var snip = t.Rows[0].Cells;
        Assert.Equal("91.00", snip[0].Format(t.NumberFormat));
        Assert.Equal("90.00", snip[1].Format(t.NumberFormat));
        Assert.Equal(82.0, snip[2].Mean!.Value, 9);
        Assert.Equal(2.0, snip[2].Std!.Value, 9);
        Assert.Equal(3, snip[2].N);
        Assert.Equal("82.00 ± 2.00", snip[2].Format(t.NumberFormat));
        var random = t.Rows[1].Cells;
        Assert.Equal(Math.Sqrt(8), random[2].Std!.Value, 9);
        Assert.Equal("72.00 ± 2.83", random[2].Format(t.NumberFormat));
        Assert.Equal(2, random[2].N);
        Assert.Equal("—", random[1].Format(t.NumberFormat));
        Assert.Equal(0, random[1].N);
    }

    [Fact]
    public void A_dense_run_listed_under_two_labels_appears_in_both_rows()
    {
        var (tables, _, _) = SweepReport.Write(Sweep(), TableRuns(), dir);

        var t = Assert.Single(tables);
        Assert.All(t.Rows, r => Assert.Equal((91.0, 1), (r.Cells[0].Mean!.Value, r.Cells[0].N)));
    }

    [Fact]
    public void Pending_and_failed_runs_are_counted_in_the_header_not_in_the_means()
    {
        var (_, files, _) = SweepReport.Write(Sweep(), TableRuns(), dir);

        var md = File.ReadAllText(files.Markdown);
        Assert.Contains("7 of 9 runs done (1 pending, 0 running, 1 failed)", md);
        Assert.Contains("diverged: loss is NaN", md);
        Assert.Contains("ran on ellipse: mnist was not found", md);
        Assert.Contains("InitPrune 0.1.0 (abc1234), TorchSharp 0.107.0, libtorch 2.10.0, 2 threads, cpu", md);
        Assert.Contains("| Random | 91.00 | — | 72.00 ± 2.83 |", md);
        var html = File.ReadAllText(files.Html);
        Assert.Contains("7 of 9 runs done", html);
        Assert.Contains("seed 001 Table 1", html);
    }

    [Fact]
    public void Lr_grid_reports_the_test_accuracy_at_the_lr_with_the_best_mean_validation_accuracy()
    {
        var layout = new ReportLayout(SelectOver: "train.lr");
        Dictionary<string, string> Lr(double lr) => new() { ["train.lr"] = lr.ToString(CultureInfo.InvariantCulture) };
        List<EpochMetrics> LastEpochValidation(double v) => [new(1, 0.01, 1, 1, 0.5, 1, 1, 1, 0.1), new(2, 0.01, 1, 1, 0.5, 1, 1, 1, v)];
        var runs = new List<StoredRun>
        {
            // lr 0.1: validation 0.60 and 0.70 (mean 0.65); lr 0.01: 0.66 and 0.66 (mean 0.66, best); lr 0.001: 0.64
            Run("SNIP", 0.9, 0, 0.50, lr: 0.1, validation: 0.60, extra: Lr(0.1)),
            Run("SNIP", 0.9, 1, 0.99, lr: 0.1, validation: 0.70, extra: Lr(0.1)),
            Run("SNIP", 0.9, 0, 0.62, lr: 0.01, validation: 0.66, extra: Lr(0.01)),
            Run("SNIP", 0.9, 1, 0.64, lr: 0.01, epochs: LastEpochValidation(0.66), extra: Lr(0.01)),
            Run("SNIP", 0.9, 0, 0.90, lr: 0.001, validation: 0.64, extra: Lr(0.001)),
        };

        var (tables, files, _) = SweepReport.Write(Sweep(layout), runs, dir);

        Assert.Equal(2, tables.Count);
        var cell = tables[0].Rows[0].Cells[0];
        Assert.Equal((63.0, 2), (cell.Mean!.Value, cell.N));
        Assert.Equal(Math.Sqrt(2), cell.Std!.Value, 9);
        Assert.Contains("train.lr", tables[1].Title);
        Assert.Equal("0.01", tables[1].Rows[0].Cells[0].Format(tables[1].NumberFormat));
        Assert.Equal(0.01, tables[1].Rows[0].Cells[0].Mean);
        var csv = File.ReadAllLines(files.Csv);
        Assert.Equal("row,column,train.lr,mean,std,n", csv[0]);
        Assert.StartsWith("SNIP,0.9,0.01,63", csv[1]);
    }

    [Fact]
    public void A_varying_extra_axis_gives_separate_tables_and_csv_columns_never_an_average()
    {
        Dictionary<string, string> D(int d) => new() { ["model.depth"] = d.ToString(CultureInfo.InvariantCulture) };
        var runs = new List<StoredRun>
        {
            Run("EOC", 0.5, 0, 0.95, depth: 10, extra: D(10)),
            Run("EOC", 0.5, 0, 0.97, depth: 2, extra: D(2)),
            Run("EOC", 0.9, 0, 0.93, depth: 2, extra: D(2)),
            Run("EOC", 0.9, 1, 0.91, depth: 2, extra: D(2)),
        };

        var (tables, files, _) = SweepReport.Write(Sweep(), runs, dir);

        Assert.Equal(2, tables.Count);
        Assert.EndsWith("model.depth = 2", tables[0].Title);
        Assert.EndsWith("model.depth = 10", tables[1].Title);
        Assert.Equal([97.0, 92.0], tables[0].Rows[0].Cells.Select(c => Math.Round(c.Mean!.Value, 9)));
        Assert.Equal(["50%"], tables[1].Columns);
        Assert.Equal(95.0, tables[1].Rows[0].Cells[0].Mean!.Value, 9);
        Assert.Equal("row,column,model.depth,mean,std,n", File.ReadLines(files.Csv).First());
        Assert.True(File.Exists(Path.Combine(dir, "accuracy_vs_sparsity_depth-2.png")));
        Assert.True(File.Exists(Path.Combine(dir, "accuracy_vs_sparsity_depth-10.png")));
    }

    [Fact]
    public void Csv_parses_back_to_the_table_numbers()
    {
        var (tables, files, _) = SweepReport.Write(Sweep(), TableRuns(), dir);

        var t = tables[0];
        var lines = File.ReadAllLines(files.Csv);
        Assert.Equal("row,column,mean,std,n", lines[0]);
        Assert.Equal(t.Rows.Count * t.Columns.Count, lines.Length - 1);
        var columns = new[] { "0", "0.5", "0.9" };
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            var cell = t.Rows.Single(r => r.Label == f[0]).Cells[Array.IndexOf(columns, f[1])];
            Assert.Equal(cell.N, int.Parse(f[4], CultureInfo.InvariantCulture));
            Assert.Equal(cell.Mean, f[2].Length == 0 ? null : double.Parse(f[2], CultureInfo.InvariantCulture));
            Assert.Equal(cell.Std, f[3].Length == 0 ? null : double.Parse(f[3], CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void Every_promised_file_exists_pngs_decode_and_the_html_is_self_contained()
    {
        var runs = TableRuns();
        runs[2] = runs[2] with { Pruning = PrunedAt(0.9, ("fc1.weight", 10, 100, [0.1, 0.2]), ("fc2.weight", 5, 20, [0.25])) };

        var (_, files, _) = SweepReport.Write(Sweep(), runs, dir);

        foreach (var f in new[] { files.Markdown, files.Csv, files.Html }) Assert.True(File.Exists(f), f);
        Assert.Contains(Path.Combine(dir, "accuracy_vs_sparsity.png"), files.Images);
        Assert.Contains(Path.Combine(dir, "kept_per_layer_sparsity-90.png"), files.Images);
        Assert.Contains(Path.Combine(dir, "kept_per_neuron_SNIP.png"), files.Images);
        foreach (var png in files.Images.Where(i => i.EndsWith(".png", StringComparison.Ordinal)))
        {
            using var bmp = SKBitmap.Decode(png);
            Assert.NotNull(bmp);
            Assert.True(bmp.Width is 800 && bmp.Height is 500 or 600, $"{png}: {bmp.Width}x{bmp.Height}");
        }
        foreach (var svg in files.Images.Where(i => i.EndsWith(".svg", StringComparison.Ordinal)))
            Assert.Equal("svg", XDocument.Load(svg).Root!.Name.LocalName);

        var md = File.ReadAllText(files.Markdown);
        Assert.Contains("![", md);
        Assert.Contains("(accuracy_vs_sparsity.png)", md);
        Assert.Contains("| 1 | fc2.weight |", md);
        var html = File.ReadAllText(files.Html);
        var pngCount = files.Images.Count(i => i.EndsWith(".png", StringComparison.Ordinal));
        Assert.Equal(pngCount, Regex.Matches(html, "<img [^>]*src=\"data:image/png;base64,").Count);
        var text = Regex.Replace(html, "data:image/png;base64,[A-Za-z0-9+/=]+", "");
        Assert.DoesNotContain("http", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Heatmap_matrix_has_depth_rows_ascending_sparsity_columns_and_nan_for_missing_cells()
    {
        var layout = new ReportLayout(HeatmapX: "prune.sparsity", HeatmapY: "model.depth");
        Dictionary<string, string> D(int d) => new() { ["model.depth"] = d.ToString(CultureInfo.InvariantCulture) };
        var runs = new List<StoredRun>
        {
            Run("EOC", 0.9, 0, 0.80, depth: 20, extra: D(20)),
            Run("EOC", 0.9, 1, 0.90, depth: 20, extra: D(20)),
            Run("EOC", 0.5, 0, 0.95, depth: 2, extra: D(2)),
            Run("EOC", 0.9, 0, 0.93, depth: 2, extra: D(2)),
            Run("Ordered", 0.5, 0, 0.60, depth: 2, extra: D(2)),
            Run("Ordered", 0.5, 0, null, RunStatus.Pending, depth: 20, extra: D(20)),
        };
        var a = SweepAnalysis.Build(Sweep(layout), runs);

        var (xs, ys, values) = ReportPlots.HeatmapMatrix(a, "EOC", []);
        Assert.Equal(["0.5", "0.9"], xs);
        Assert.Equal(["2", "20"], ys);
        Assert.Equal(95.0, values[0, 0], 9);
        Assert.Equal(93.0, values[0, 1], 9);
        Assert.True(double.IsNaN(values[1, 0]));
        Assert.Equal(85.0, values[1, 1], 9);

        var ordered = ReportPlots.HeatmapMatrix(a, "Ordered", []).Values;
        Assert.Equal(60.0, ordered[0, 0], 9);
        Assert.True(double.IsNaN(ordered[1, 0]));

        var (_, files, _) = SweepReport.Write(Sweep(layout), runs, dir);
        Assert.Contains(Path.Combine(dir, "heatmap_EOC.png"), files.Images);
        Assert.Contains(Path.Combine(dir, "heatmap_Ordered.svg"), files.Images);
    }

    [Fact]
    public void Neuron_matrix_puts_layers_on_x_neurons_on_y_in_percent_with_nan_past_a_layers_width()
    {
        var p = PrunedAt(0.5, ("fc1.weight", 3, 6, [0.5, 1.0, 0.0]), ("fc1.bias", 3, 3, [1, 1, 1]), ("fc2.weight", 1, 2, [0.5]));

        var m = ReportPlots.NeuronMatrix(p);

        Assert.Equal(3, m.GetLength(0));
        Assert.Equal(2, m.GetLength(1));
        Assert.Equal([50.0, 100.0, 0.0], [m[0, 0], m[1, 0], m[2, 0]]);
        Assert.Equal(50.0, m[0, 1]);
        Assert.True(double.IsNaN(m[1, 1]) && double.IsNaN(m[2, 1]));
    }

    [Fact]
    public void An_unknown_metric_or_a_layout_with_one_heatmap_axis_is_a_clear_error()
    {
        var e = Assert.Throws<InitPruneException>(() => SweepReport.Write(Sweep(new ReportLayout(Metric: "accuracy")), TableRuns(), dir));
        Assert.Contains("test_accuracy", e.Message);
        Assert.Throws<InitPruneException>(() => SweepReport.Write(Sweep(new ReportLayout(HeatmapX: "prune.sparsity")), TableRuns(), dir));
    }
}
