using System.Globalization;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using ScottPlot;

namespace InitPrune.Reporting;

/// <summary>A plot written as <see cref="Png"/> and <see cref="Svg"/>; <see cref="Note"/>, when given, is one line the report prints under it.</summary>
internal sealed record ReportImage(string Title, string Png, string Svg, string? Note = null);

/// <summary>
/// The report's plots, the tensor names behind the per-layer plots' x axis (index → name) and the titles of the
/// plots left out because none of their runs is finished yet; <see cref="Flops"/> holds the effective-FLOPs tables
/// (<see cref="FlopsReport"/>) shown after the plots, and <see cref="Latency"/> the measured latency (<c>report --latency</c>), else null.
/// </summary>
internal sealed record ReportFigures(IReadOnlyList<ReportImage> Images, IReadOnlyList<string> LayerNames, IReadOnlyList<string> Empty,
    IReadOnlyList<ReportTable>? Flops = null, LatencySection? Latency = null);

/// <summary>
/// The report's plots: the metric vs the column field (one line per row, a ± std band), heat maps of the metric
/// over the layout's heat map axes (seed 001 Fig. 3), weights kept per layer (Fig. 2) and per neuron (Fig. 1).
/// </summary>
internal static class ReportPlots
{
    const int MaxLinePlots = 12;
    const int MaxHeatmaps = 12;
    const int MaxLayerPlots = 6;
    const int MaxNeuronPlots = 8;
    const int Width = 800;
    const int Height = 500;
    /// <summary>Plot file names (without extension) longer than this are cut, with a hash suffix.</summary>
    const int MaxFileName = 160;

    /// <param name="latency">The runs' measured latencies (<c>report --latency</c>), or null.</param>
    public static ReportFigures WriteAll(SweepAnalysis a, string outDir, Inference.RunLatencies? latency = null)
    {
        var images = new List<ReportImage>();
        var empty = new List<string>();
        images.AddRange(MetricLines(a, outDir, empty));
        images.AddRange(Heatmaps(a, outDir, empty));
        var flops = FlopsReport.PerRun(a);
        images.AddRange(FlopsReport.Plots(a, flops, outDir, latency is null ? FlopsReport.LatencyNote : FlopsReport.MeasuredNote));
        if (latency is not null) images.AddRange(LatencyReport.Plots(a, latency, outDir));
        images.AddRange(JacobianSteps(a, outDir));
        images.AddRange(TrainabilityReport.Plots(a, outDir));
        images.AddRange(JacobianRatioPlots.VersusSparsity(a, outDir));
        var (layerImages, names) = LayersKept(a, outDir);
        images.AddRange(layerImages);
        images.AddRange(NeuronsKept(a, outDir));
        return new ReportFigures(images, names, empty, FlopsReport.Tables(a, flops), latency is null ? null : LatencyReport.Section(a, latency));
    }

    static IEnumerable<ReportImage> MetricLines(SweepAnalysis a, string outDir, List<string> empty)
    {
        var layout = a.Layout;
        var metric = a.Metric.Name == "test_accuracy" ? "accuracy" : a.Metric.Name;
        foreach (var g in a.Groups.Take(MaxLinePlots))
        {
            var title = $"{a.Metric.Title} vs {Short(layout.Columns)}{(g.Fixed.Count > 0 ? $" ({g.Describe()})" : "")}";
            if (!g.Cells.Cast<CellStats>().Any(c => c.Mean is not null))
            {
                empty.Add(title);
                continue;
            }
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            // Log axes plot log10 of the values (ticks labelled with the values); a column or mean ≤ 0 has no place on them.
            var columnValues = g.Columns.Select(c => SweepAnalysis.TryNumber(c, out var v) ? v : double.NaN).ToArray();
            bool logX = layout.LogX && columnValues.All(v => v > 0);
            bool logY = layout.LogY;
            for (var i = 0; i < g.Rows.Count; i++)
            {
                var points = Enumerable.Range(0, g.Columns.Count).Where(j => g.Cells[i, j].Mean is { } m && (!logY || m > 0)).ToArray();
                if (points.Length == 0) continue;
                var xs = points.Select(j => logX ? Math.Log10(columnValues[j]) : j).ToArray();
                var means = points.Select(j => g.Cells[i, j].Mean!.Value).ToArray();
                var stds = points.Select(j => g.Cells[i, j].Std ?? 0).ToArray();
                Func<double, double> y = logY ? Math.Log10 : v => v;
                var color = palette.GetColor(i);
                if (stds.Any(s => s > 0))
                {
                    // On a log axis the band's lower edge stops at a tenth of the mean when mean − std ≤ 0.
                    var band = plot.Add.FillY(xs, [.. means.Zip(stds, (m, s) => y(logY && m - s <= 0 ? m / 10 : m - s))], [.. means.Zip(stds, (m, s) => y(m + s))]);
                    band.FillColor = color.WithAlpha(0.2);
                    band.LineWidth = 0;
                }
                var line = plot.Add.Scatter(xs, [.. means.Select(y)], color);
                line.LegendText = g.Rows[i];
                line.LineWidth = 2;
                line.MarkerSize = 7;
                if (JacobianTheory(a, g, g.Rows[i], points, columnValues) is { } theory)
                {
                    var curve = plot.Add.Scatter(xs, [.. theory.Select(v => logY ? v / Math.Log(10) : Math.Exp(v))], color);
                    curve.LegendText = $"theory: {g.Rows[i]}";
                    curve.LinePattern = LinePattern.Dashed;
                    curve.LineWidth = 1.5f;
                    curve.MarkerSize = 0;
                }
            }
            if (logX)
            {
                plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. g.Columns.Select((c, j) => new Tick(Math.Log10(columnValues[j]), SweepAnalysis.Display(layout.Columns, c)))]);
                var (low, high) = (Math.Log10(columnValues.Min()), Math.Log10(columnValues.Max()));
                plot.Axes.SetLimitsX(low - 0.1 * Math.Max(high - low, 1), high + 0.1 * Math.Max(high - low, 1));
            }
            else CategoricalX(plot, [.. g.Columns.Select(c => SweepAnalysis.Display(layout.Columns, c))]);
            if (logY)
                plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
                {
                    IntegerTicksOnly = true,
                    LabelFormatter = v => Math.Pow(10, v).ToString("G3", CultureInfo.InvariantCulture),
                    MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                };
            plot.Title(title);
            plot.XLabel(Short(layout.Columns));
            plot.YLabel(a.Metric.Title + (layout.SelectOver is { } over ? $", best {Short(over)}" : "") + (logY ? " (log scale)" : ""));
            plot.ShowLegend(Edge.Right);
            yield return Save(plot, outDir, $"{Slug(metric)}_vs_{Slug(Short(layout.Columns))}{Suffix(g.Fixed)}", title, Width, Height);
        }
    }

    /// <summary>
    /// Seed 002 Theorem 1 over a <c>jacobian_norm</c> vs <c>model.depth</c> line: ln‖J‖ at the row's plotted depths, its
    /// constant fitted to the row's runs (<see cref="JacobianReport.Intercept"/>); null where the theorem does not apply.
    /// </summary>
    static double[]? JacobianTheory(SweepAnalysis a, ReportGroup g, string row, int[] points, double[] columnValues)
    {
        if (a.Metric.Name == ReportMetric.JacobianRatio) return JacobianRatio.TheoryLine(a, g, row, points, columnValues);
        if (a.Metric.Name != ReportMetric.JacobianNorm || a.Layout.Columns != "model.depth" || points.Any(j => !(columnValues[j] >= 2))) return null;
        var runs = g.Columns.SelectMany(c => g.Cell(row, c).Runs).Distinct().ToList();
        if (JacobianReport.TheorySigmaW2(runs) is not { } sigmaW2) return null;
        var measured = JacobianReport.DepthPoints(runs);
        if (measured.Count == 0) return null;
        var c = JacobianReport.Intercept(measured, sigmaW2);
        return [.. points.Select(j => c + Theory.Jacobian.JacobianTheory.LogNorm(Theory.Jacobian.JacobianTheory.SpanDepth((int)columnValues[j]), sigmaW2))];
    }

    /// <summary>
    /// ‖J‖ against the optimizer step (seed 002 Fig. 2): one plot per report row and group whose runs recorded a series
    /// (train.jacobian_every), one line per column value, mean ± std over seeds at each recorded step, log y axis.
    /// </summary>
    static IEnumerable<ReportImage> JacobianSteps(SweepAnalysis a, string outDir)
    {
        int count = 0;
        foreach (var g in a.Groups)
        {
            foreach (var row in g.Rows)
            {
                var series = new List<(string Column, double[] Steps, double[] Means, double[] Stds)>();
                foreach (var c in g.Columns)
                {
                    var runs = g.Cell(row, c).Runs.Where(r => r.Result is not null && r.JacobianSeries.Count > 1).ToList();
                    if (runs.Count == 0) continue;
                    var steps = runs.SelectMany(r => r.JacobianSeries.Select(p => p.Step)).Distinct().Order().ToArray();
                    var values = steps.Select(t => runs.Select(r => r.JacobianSeries.FirstOrDefault(p => p.Step == t)?.Norm).OfType<double>().Where(v => v > 0).ToArray()).ToArray();
                    var kept = Enumerable.Range(0, steps.Length).Where(k => values[k].Length > 0).ToArray();
                    series.Add((SweepAnalysis.Display(a.Layout.Columns, c), [.. kept.Select(k => (double)steps[k])],
                        [.. kept.Select(k => values[k].Average())],
                        [.. kept.Select(k => values[k].Length > 1 ? Math.Sqrt(values[k].Sum(v => (v - values[k].Average()) * (v - values[k].Average())) / (values[k].Length - 1)) : 0)]));
                }
                if (series.Count == 0) continue;
                if (count++ >= MaxLinePlots) yield break;
                var plot = new Plot();
                var palette = new ScottPlot.Palettes.Category10();
                for (var i = 0; i < series.Count; i++)
                {
                    var (column, xs, means, stds) = series[i];
                    var color = palette.GetColor(i);
                    if (stds.Any(s => s > 0))
                    {
                        var band = plot.Add.FillY(xs, [.. means.Zip(stds, (m, s) => Math.Log10(m - s <= 0 ? m / 10 : m - s))], [.. means.Zip(stds, (m, s) => Math.Log10(m + s))]);
                        band.FillColor = color.WithAlpha(0.2);
                        band.LineWidth = 0;
                    }
                    var line = plot.Add.Scatter(xs, [.. means.Select(Math.Log10)], color);
                    line.LegendText = $"{Short(a.Layout.Columns)} {column}";
                    line.LineWidth = 2;
                    line.MarkerSize = xs.Length > 40 ? 0 : 5;
                }
                plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
                {
                    LabelFormatter = v => Math.Pow(10, v).ToString("G3", CultureInfo.InvariantCulture),
                };
                var rowText = a.Layout.Rows == "label" ? row : $"{Short(a.Layout.Rows)} {row}";
                var title = $"Jacobian norm vs step: {rowText}{(g.Fixed.Count > 0 ? $" ({g.Describe()})" : "")}";
                plot.Title(title);
                plot.XLabel("optimizer step");
                plot.YLabel("‖J‖, mean ± std over seeds (log scale)");
                plot.ShowLegend(Edge.Right);
                yield return Save(plot, outDir, $"jacobian_vs_step_{Slug(row)}{Suffix(g.Fixed)}", title, Width, Height);
            }
        }
    }

    static IEnumerable<ReportImage> Heatmaps(SweepAnalysis a, string outDir, List<string> empty)
    {
        var layout = a.Layout;
        if (layout.HeatmapX is not { } xField || layout.HeatmapY is not { } yField) yield break;
        var others = a.ExtraAxes.Where(k => k != xField && k != yField).ToList();
        var combos = a.Groups.Select(g => g.Fixed.Where(kv => others.Contains(kv.Key)).ToList())
            .DistinctBy(f => string.Join("\u0001", f.Select(kv => kv.Value))).ToList();
        var count = 0;
        foreach (var combo in combos)
        {
            var maps = a.Rows.Select(r => (Row: r, Map: HeatmapMatrix(a, r, combo))).ToList();
            var finite = maps.SelectMany(m => m.Map.Values.Cast<double>()).Where(double.IsFinite).ToList();
            var range = finite.Count > 0 && finite.Max() > finite.Min() ? new ScottPlot.Range(finite.Min(), finite.Max())
                : finite.Count > 0 ? new ScottPlot.Range(finite[0] - 1, finite[0] + 1) : new ScottPlot.Range(0, 100);
            foreach (var (row, map) in maps)
            {
                var fixedText = combo.Count > 0 ? $" ({string.Join(", ", combo.Select(kv => $"{kv.Key} = {kv.Value}"))})" : "";
                var title = $"{a.Metric.Title}: {row}{fixedText}";
                // ScottPlot cannot colour a heat map without a single finite value: such a map is left out.
                if (!map.Values.Cast<double>().Any(double.IsFinite))
                {
                    empty.Add(title);
                    continue;
                }
                if (count++ >= MaxHeatmaps) yield break;
                var plot = HeatmapPlot(map.Values, range, a.Metric.Title, annotate: true, a.Metric.IsPercent ? "F1" : "F3");
                CategoricalX(plot, [.. map.Xs.Select(x => SweepAnalysis.Display(xField, x))]);
                CategoricalY(plot, [.. map.Ys.Select(y => SweepAnalysis.Display(yField, y))]);
                var theory = HeatmapOverlay(a, row, combo);
                DrawHeatmapTheory(plot, theory, map.Xs, map.Ys, xField == "prune.sparsity");
                plot.Title(title);
                plot.XLabel(Short(xField));
                plot.YLabel(Short(yField));
                yield return Save(plot, outDir, $"heatmap_{Slug(row)}{Suffix(combo)}", title, Width, 600) with { Note = theory.Note };
            }
        }
    }

    /// <summary>
    /// The seed 001 theory over the heat map of <paramref name="row"/> at <paramref name="fixedAxes"/> (<see cref="HeatmapTheory.For"/>), from
    /// every run of the cells the heat map shows, at its plotted depths.
    /// </summary>
    public static HeatmapTheory HeatmapOverlay(SweepAnalysis a, string row, IReadOnlyList<KeyValuePair<string, string>> fixedAxes)
    {
        var (xField, yField) = (a.Layout.HeatmapX!, a.Layout.HeatmapY!);
        var runs = a.Groups.Where(g => fixedAxes.All(kv => g.Fixed.Contains(kv)))
            .SelectMany(g => g.Columns.Where(c => a.CellValue(g, row, c, xField) is not null && a.CellValue(g, row, c, yField) is not null)
                .SelectMany(c => g.Cell(row, c).Runs))
            .Distinct().ToList();
        var (xs, ys, _) = HeatmapMatrix(a, row, fixedAxes);
        return HeatmapTheory.For(xField, yField, runs, xField == "model.depth" ? xs : ys);
    }

    /// <summary>
    /// Draws <paramref name="theory"/> on a heat map with categorical axes: Theorem 1's bound on E[s_cr] against depth (ln solid black,
    /// log10 dashed orange; only depths where it is below 1) and the trainable depth 6ξ_c as a dotted line, each labelled "theory: …".
    /// </summary>
    static void DrawHeatmapTheory(Plot plot, HeatmapTheory theory, IReadOnlyList<string> xs, IReadOnlyList<string> ys, bool sparsityOnX)
    {
        if (!theory.Drawn) return;
        var sparsities = (sparsityOnX ? xs : ys).Select(v => SweepAnalysis.TryNumber(v, out var d) ? d : double.NaN).ToList();
        var depths = (sparsityOnX ? ys : xs).Select(v => SweepAnalysis.TryNumber(v, out var d) ? d : double.NaN).ToList();
        if (sparsities.Any(double.IsNaN) || depths.Any(double.IsNaN)) return;
        void Curve(Func<SbpBoundPoint, double> bound, string label, LinePattern pattern, Color color, MarkerShape marker)
        {
            var shown = theory.Points.Where(p => bound(p) < 1).ToList();
            if (shown.Count == 0) return;
            var s = shown.Select(p => HeatmapTheory.AxisPosition(sparsities, bound(p))).ToArray();
            var d = shown.Select(p => HeatmapTheory.AxisPosition(depths, p.Depth)).ToArray();
            var line = plot.Add.Scatter(sparsityOnX ? s : d, sparsityOnX ? d : s, color);
            line.LegendText = label;
            line.LinePattern = pattern;
            line.LineWidth = 2.5f;
            line.MarkerSize = 8;
            line.MarkerShape = marker;
        }
        Curve(p => p.BoundLn, "theory: Thm 1 bound on E[s_cr] (ln)", LinePattern.Solid, Colors.Black, MarkerShape.FilledSquare);
        Curve(p => p.BoundLog10, "theory: Thm 1 bound on E[s_cr] (log10)", LinePattern.Dashed, Colors.OrangeRed, MarkerShape.FilledCircle);
        if (theory.TrainableDepth is { } t && t >= depths[0] && t <= depths[^1])
        {
            var at = HeatmapTheory.AxisPosition(depths, t);
            var line = sparsityOnX ? (ScottPlot.Plottables.AxisLine)plot.Add.HorizontalLine(at, 2.5f, Colors.Magenta, LinePattern.Dotted)
                : plot.Add.VerticalLine(at, 2.5f, Colors.Magenta, LinePattern.Dotted);
            line.LegendText = $"theory: 6ξ_c = {t.ToString("G3", CultureInfo.InvariantCulture)} (trainable depth)";
        }
        plot.ShowLegend(Edge.Bottom);
    }

    /// <summary>
    /// The heat map of <paramref name="row"/>: distinct heat map X and Y values (ascending when numeric) and the
    /// mean metric at [y index, x index] (NaN where no run is done), over the groups matching <paramref name="fixedAxes"/>.
    /// </summary>
    public static (IReadOnlyList<string> Xs, IReadOnlyList<string> Ys, double[,] Values) HeatmapMatrix(
        SweepAnalysis a, string row, IReadOnlyList<KeyValuePair<string, string>> fixedAxes)
    {
        var xField = a.Layout.HeatmapX!;
        var yField = a.Layout.HeatmapY!;
        var cells = new List<(string X, string Y, double? Mean)>();
        foreach (var g in a.Groups.Where(g => fixedAxes.All(kv => g.Fixed.Contains(kv))))
        {
            foreach (var c in g.Columns)
            {
                if (a.CellValue(g, row, c, xField) is { } x && a.CellValue(g, row, c, yField) is { } y)
                    cells.Add((x, y, g.Cell(row, c).Mean));
            }
        }
        var xs = SweepAnalysis.Order(cells.Select(c => c.X));
        var ys = SweepAnalysis.Order(cells.Select(c => c.Y));
        var values = new double[ys.Count, xs.Count];
        for (var i = 0; i < ys.Count; i++)
            for (var j = 0; j < xs.Count; j++)
                values[i, j] = double.NaN;
        foreach (var (x, y, mean) in cells)
            if (mean is { } m) values[ys.IndexOf(y), xs.IndexOf(x)] = m;
        return (xs, ys, values);
    }

    /// <summary>Percentage of weights kept per tensor (seed 001 Fig. 2), one plot per sparsity (at most six) of the last group, one line per row.</summary>
    static (List<ReportImage> Images, List<string> Names) LayersKept(SweepAnalysis a, string outDir)
    {
        var images = new List<ReportImage>();
        var names = new List<string>();
        if (a.Groups.Count == 0) return (images, names);
        var g = a.Groups[^1];
        var columns = g.Columns.Where(c => g.Rows.Any(r => Pruned(g.Cell(r, c)).Any())).ToList();
        if (columns.Count > MaxLayerPlots)
            columns = [.. Enumerable.Range(0, MaxLayerPlots).Select(k => columns[(int)Math.Round(k * (columns.Count - 1.0) / (MaxLayerPlots - 1))])];
        foreach (var c in columns)
        {
            var perRow = g.Rows.Select(r => (Row: r, Records: Pruned(g.Cell(r, c)).Select(run => run.Pruning!).ToList()))
                .Where(x => x.Records.Count > 0).ToList();
            foreach (var name in perRow.SelectMany(x => x.Records.SelectMany(p => p.Layers.Select(l => l.Name))))
                if (!names.Contains(name)) names.Add(name);
            var series = perRow.Select(x =>
            {
                var layers = names.Where(n => x.Records.Any(p => p.Layers.Any(l => l.Name == n))).ToList();
                var kept = layers.Select(n => 100 * x.Records.Select(p => p.Layers.FirstOrDefault(l => l.Name == n)).OfType<Pruning.LayerReport>().Average(l => l.KeptFraction));
                return new Series(x.Row, [.. layers.Select(n => (double)names.IndexOf(n))], [.. kept]);
            }).ToList();
            var column = SweepAnalysis.Display(a.Layout.Columns, c);
            var title = $"Weights kept per layer, {Short(a.Layout.Columns)} {column}{(g.Fixed.Count > 0 ? $" ({g.Describe()})" : "")}";
            var file = FileNames.Safe($"kept_per_layer_{Slug(Short(a.Layout.Columns))}-{Slug(column.TrimEnd('%'))}{Suffix(g.Fixed)}", MaxFileName);
            Plots.Lines(Path.Combine(outDir, file + ".svg"), title, "layer index (see the table of layers)", "weights kept (%)", series, Width, Height);
            images.Add(new ReportImage(title, Path.Combine(outDir, file + ".png"), Path.Combine(outDir, file + ".svg")));
        }
        return (images, names);
    }

    /// <summary>
    /// Seed 001 Fig. 1: for each row, the first seed's percentage of kept incoming weights of every neuron
    /// (x = layer, y = neuron), in the last group at the pruned column value closest to 70%.
    /// </summary>
    static IEnumerable<ReportImage> NeuronsKept(SweepAnalysis a, string outDir)
    {
        if (a.Groups.Count == 0) yield break;
        var g = a.Groups[^1];
        var columns = g.Columns.Where(c => g.Rows.Any(r => Pruned(g.Cell(r, c)).Any(run => run.Pruning!.UnitKeptFractions.Count > 0))).ToList();
        if (columns.Count == 0) yield break;
        var column = columns.MinBy(c => SweepAnalysis.TryNumber(c, out var v) ? Math.Abs(v - 0.7) : 0)!;
        foreach (var row in g.Rows.Take(MaxNeuronPlots))
        {
            var run = Pruned(g.Cell(row, column)).Where(r => r.Pruning!.UnitKeptFractions.Count > 0).MinBy(r => r.Config.Seed);
            if (run is null) continue;
            var map = NeuronMatrix(run.Pruning!);
            if (!map.Cast<double>().Any(double.IsFinite)) continue;
            var shown = SweepAnalysis.Display(a.Layout.Columns, column);
            var title = $"Weights kept per neuron: {row}, {Short(a.Layout.Columns)} {shown}, seed {run.Config.Seed}{string.Concat(g.Fixed.Select(kv => $", {Short(kv.Key)} {kv.Value}"))}";
            var plot = HeatmapPlot(map, new ScottPlot.Range(0, 100), "kept (%)", annotate: false, "F0");
            plot.Title(title);
            plot.XLabel("layer");
            plot.YLabel("neuron");
            yield return Save(plot, outDir, $"kept_per_neuron_{Slug(row)}{Suffix(g.Fixed)}", title, Width, 600);
        }
    }

    /// <summary>[neuron, layer] percentages of kept incoming weights, weight tensors only (biases when nothing else), NaN past a layer's width.</summary>
    internal static double[,] NeuronMatrix(PruningRecord p)
    {
        var order = p.Layers.Select(l => l.Name).Where(p.UnitKeptFractions.ContainsKey).Concat(p.UnitKeptFractions.Keys).Distinct().ToList();
        var weights = order.Where(n => !n.EndsWith("bias", StringComparison.Ordinal)).ToList();
        if (weights.Count == 0) weights = order;
        var height = weights.Max(n => p.UnitKeptFractions[n].Length);
        var values = new double[height, weights.Count];
        for (var l = 0; l < weights.Count; l++)
        {
            var f = p.UnitKeptFractions[weights[l]];
            for (var n = 0; n < height; n++) values[n, l] = n < f.Length ? 100 * f[n] : double.NaN;
        }
        return values;
    }

    static IEnumerable<StoredRun> Pruned(CellStats cell) => cell.Runs.Where(r => r.Pruning is { Layers.Count: > 0 } p && p.ActualSparsity > 0);

    /// <summary>A heat map with row 0 at the bottom, cells centred on integer coordinates, a colour bar and optionally the values written in the cells.</summary>
    static Plot HeatmapPlot(double[,] values, ScottPlot.Range range, string colorLabel, bool annotate, string format)
    {
        var plot = new Plot();
        var map = plot.Add.Heatmap(values);
        map.FlipVertically = true;
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.ManualRange = range;
        map.NaNCellColor = Colors.LightGray;
        var bar = plot.Add.ColorBar(map);
        bar.Label = colorLabel;
        if (annotate && values.Length <= 400)
        {
            for (var i = 0; i < values.GetLength(0); i++)
            {
                for (var j = 0; j < values.GetLength(1); j++)
                {
                    if (!double.IsFinite(values[i, j])) continue;
                    var text = plot.Add.Text(values[i, j].ToString(format, CultureInfo.InvariantCulture), j, i);
                    text.Alignment = Alignment.MiddleCenter;
                    text.LabelFontSize = 11;
                    var bright = (values[i, j] - range.Min) / (range.Max - range.Min) > 0.6;
                    text.LabelFontColor = bright ? Colors.Black : Colors.White;
                }
            }
        }
        plot.Axes.SetLimits(-0.5, values.GetLength(1) - 0.5, -0.5, values.GetLength(0) - 0.5);
        return plot;
    }

    static void CategoricalX(Plot plot, string[] labels)
    {
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. labels.Select((l, i) => new Tick(i, l))]);
        plot.Axes.SetLimitsX(-0.5, Math.Max(labels.Length - 0.5, 0.5));
    }

    static void CategoricalY(Plot plot, string[] labels)
    {
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. labels.Select((l, i) => new Tick(i, l))]);
        plot.Axes.SetLimitsY(-0.5, Math.Max(labels.Length - 0.5, 0.5));
    }

    /// <summary>Writes the plot as <paramref name="name"/> (bounded to a safe file name) .png and .svg, each atomically.</summary>
    internal static ReportImage Save(Plot plot, string outDir, string name, string title, int width, int height)
    {
        var stem = FileNames.Safe(name, MaxFileName);
        var png = Path.Combine(outDir, stem + ".png");
        var svg = Path.Combine(outDir, stem + ".svg");
        Artifacts.WriteAllBytesAtomic(png, plot.GetImageBytes(width, height, ImageFormat.Png));
        Artifacts.WriteAllTextAtomic(svg, plot.GetSvgXml(width, height));
        return new ReportImage(title, png, svg);
    }

    /// <summary>The last segment of a field path: <c>prune.sparsity</c> → <c>sparsity</c>.</summary>
    internal static string Short(string field) => field[(field.LastIndexOf('.') + 1)..];

    internal static string Suffix(IEnumerable<KeyValuePair<string, string>> fixedAxes) =>
        string.Concat(fixedAxes.Select(kv => $"_{Slug(Short(kv.Key))}-{Slug(kv.Value)}"));

    /// <summary>A part of a plot's file name from spec or store text (a row label, an axis value): see <see cref="FileNames.Safe"/>.</summary>
    internal static string Slug(string text) => FileNames.Safe(text);
}
