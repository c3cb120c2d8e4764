using System.Globalization;
using System.Text.Json;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;

namespace InitPrune.Reporting;

/// <summary>
/// One cell's figures over seeds: mean and sample std of the metric, the number of done runs behind them, the
/// value of <see cref="ReportLayout.SelectOver"/> chosen for the cell (null without a grid) and those runs.
/// </summary>
internal sealed record CellStats(double? Mean, double? Std, int N, string? Chosen, IReadOnlyList<StoredRun> Runs)
{
    public static CellStats Empty { get; } = new(null, null, 0, null, []);
}

/// <summary>
/// The cells of one table: the extra axes (coordinates other than rows, columns, seed and the grid) fixed to
/// <see cref="Fixed"/>, so nothing is averaged over a varying axis. <see cref="Cells"/> is [row, column].
/// </summary>
internal sealed record ReportGroup(IReadOnlyList<KeyValuePair<string, string>> Fixed, IReadOnlyList<string> Rows, IReadOnlyList<string> Columns, CellStats[,] Cells)
{
    public string Describe() => string.Join(", ", Fixed.Select(kv => $"{kv.Key} = {kv.Value}"));

    public CellStats Cell(string row, string column)
    {
        var (r, c) = (Index(Rows, row), Index(Columns, column));
        return r < 0 || c < 0 ? CellStats.Empty : Cells[r, c];
    }

    static int Index(IReadOnlyList<string> values, string value)
    {
        for (var i = 0; i < values.Count; i++)
            if (values[i] == value) return i;
        return -1;
    }
}

/// <summary>A sweep's runs arranged along its report layout: rows, columns, extra axes and per-cell statistics.</summary>
internal sealed class SweepAnalysis
{
    /// <summary>One listing of a run under the sweep, with its label and coordinates.</summary>
    sealed record Point(StoredRun Run, string Label, IReadOnlyDictionary<string, string> Coordinates);

    readonly Dictionary<string, JsonElement> configs;
    readonly Dictionary<string, string> constants;

    SweepAnalysis(Dictionary<string, JsonElement> configs, Dictionary<string, string> constants) =>
        (this.configs, this.constants) = (configs, constants);

    public required SweepInfo Sweep { get; init; }
    public required ReportMetric Metric { get; init; }
    public required ReportMetric SelectBy { get; init; }
    /// <summary>The distinct runs listed under the sweep, in the order given.</summary>
    public required IReadOnlyList<StoredRun> Runs { get; init; }
    public required IReadOnlyList<string> Rows { get; init; }
    public required IReadOnlyList<string> Columns { get; init; }
    /// <summary>Coordinates that vary within some (row, column) cell besides the seed and the grid: one table per value.</summary>
    public required IReadOnlyList<string> ExtraAxes { get; init; }
    public IReadOnlyList<ReportGroup> Groups { get; private set; } = [];

    public ReportLayout Layout => Sweep.Layout;

    readonly List<Point> points = [];

    /// <summary>
    /// The done runs listed under the sweep whose every field in <paramref name="where"/> has that value (numbers
    /// compared as numbers, so <c>0.9</c> matches <c>0.90</c>), each once, with the value of <paramref name="field"/>.
    /// </summary>
    public List<(StoredRun Run, string Field)> Matching(IReadOnlyDictionary<string, string> where, string field = "label") =>
        [.. points.Where(p => p.Run.Status == RunStatus.Done && where.All(kv => SameValue(FieldValue(configs, p, kv.Key), kv.Value)))
            .DistinctBy(p => p.Run.Id).Select(p => (p.Run, FieldValue(configs, p, field)))];

    static bool SameValue(string actual, string wanted) =>
        actual == wanted || (TryNumber(actual, out var a) && TryNumber(wanted, out var b) && Math.Abs(a - b) <= 1e-12 * Math.Max(1, Math.Abs(b)));

    public static SweepAnalysis Build(SweepInfo sweep, IReadOnlyList<StoredRun> runs)
    {
        var layout = sweep.Layout;
        Validate(layout);
        var points = runs.SelectMany(r => r.Entries.Where(e => e.Sweep == sweep.Key).Select(e => new Point(r, e.Label, e.Coordinates))).ToList();
        var candidates = points.SelectMany(p => p.Coordinates.Keys).Append("label")
            .Concat(new[] { layout.HeatmapX, layout.HeatmapY }.OfType<string>())
            .Where(k => k != layout.Rows && k != layout.Columns && k != layout.SelectOver && k != "seed")
            .Distinct().ToList();

        var configs = new Dictionary<string, JsonElement>();
        string V(Point p, string field) => FieldValue(configs, p, field);

        var cells = points.GroupBy(p => (V(p, layout.Rows), V(p, layout.Columns))).ToList();
        var extra = candidates.Where(k => cells.Any(c => c.Select(p => V(p, k)).Distinct().Skip(1).Any())).ToList();
        var constants = candidates.Where(k => !extra.Contains(k) && points.Count > 0).ToDictionary(k => k, k => V(points[0], k));

        var result = new SweepAnalysis(configs, constants)
        {
            Sweep = sweep,
            Metric = ReportMetric.Parse(layout.Metric).WithRuns(runs),
            SelectBy = ReportMetric.Parse(layout.SelectBy),
            Runs = [.. runs.Where(r => r.Entries.Any(e => e.Sweep == sweep.Key)).DistinctBy(r => r.Id)],
            Rows = [.. points.Select(p => V(p, layout.Rows)).Distinct()],
            Columns = Order(points.Select(p => V(p, layout.Columns))),
            ExtraAxes = extra,
        };

        var axisOrder = extra.ToDictionary(k => k, k => Order(points.Select(p => V(p, k))));
        var groups = points
            .GroupBy(p => string.Join("\u0001", extra.Select(k => V(p, k))))
            .Select(g => (Fixed: extra.Select(k => KeyValuePair.Create(k, V(g.First(), k))).ToList(), Points: g.ToList()))
            .OrderBy(g => g.Fixed.Select(kv => axisOrder[kv.Key].IndexOf(kv.Value)).ToArray(), LexicographicComparer.Instance)
            .ToList();
        result.Groups = [.. groups.Select(g => result.BuildGroup(g.Fixed, g.Points))];
        result.points.AddRange(points);
        return result;
    }

    ReportGroup BuildGroup(List<KeyValuePair<string, string>> fixedAxes, List<Point> points)
    {
        string V(Point p, string field) => FieldValue(configs, p, field);
        var rows = Rows.Where(r => points.Any(p => V(p, Layout.Rows) == r)).ToList();
        var columns = Columns.Where(c => points.Any(p => V(p, Layout.Columns) == c)).ToList();
        var cells = new CellStats[rows.Count, columns.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            for (var j = 0; j < columns.Count; j++)
            {
                var inCell = points.Where(p => V(p, Layout.Rows) == rows[i] && V(p, Layout.Columns) == columns[j] && p.Run.Status == RunStatus.Done)
                    .DistinctBy(p => p.Run.Id).ToList();
                cells[i, j] = Layout.SelectOver is { } grid
                    ? SelectCell(inCell.Select(p => (Value: V(p, grid), p.Run)).ToList())
                    : Stats(inCell.Select(p => p.Run).ToList(), null);
            }
        }
        return new ReportGroup(fixedAxes, rows, columns, cells);
    }

    /// <summary>Picks the grid value with the best mean <see cref="SelectBy"/> (ties: the first in order) and reports the metric there.</summary>
    CellStats SelectCell(List<(string Value, StoredRun Run)> runs)
    {
        string? best = null;
        var bestScore = double.NegativeInfinity;
        foreach (var value in Order(runs.Select(r => r.Value)))
        {
            var scores = runs.Where(r => r.Value == value).Select(r => SelectBy.Of(r.Run)).OfType<double>().ToList();
            if (scores.Count == 0) continue;
            var score = SelectBy.Name == "test_loss" ? -scores.Average() : scores.Average();
            if (score > bestScore) (best, bestScore) = (value, score);
        }
        return best is null ? CellStats.Empty : Stats([.. runs.Where(r => r.Value == best).Select(r => r.Run)], best);
    }

    CellStats Stats(List<StoredRun> runs, string? chosen)
    {
        var values = runs.Select(Metric.Of).OfType<double>().ToArray();
        if (values.Length == 0) return CellStats.Empty with { Chosen = chosen, Runs = runs };
        var mean = values.Average();
        double? std = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : null;
        return new CellStats(mean, std, values.Length, chosen, runs);
    }

    /// <summary>The value of a field of a cell of a group: the column, a fixed extra axis, or an axis constant over the sweep.</summary>
    public string? CellValue(ReportGroup group, string row, string column, string field)
    {
        if (field == Layout.Rows) return row;
        if (field == Layout.Columns) return column;
        foreach (var kv in group.Fixed)
            if (kv.Key == field) return kv.Value;
        return constants.GetValueOrDefault(field);
    }

    /// <summary>
    /// A field of a listing: <c>label</c>, a coordinate, or else the run's setting at that path of its canonical
    /// JSON (<c>prune.sparsity</c>, <c>seed</c>); empty when none.
    /// </summary>
    static string FieldValue(Dictionary<string, JsonElement> configs, Point point, string field)
    {
        if (field.Contains('+', StringComparison.Ordinal))
            return string.Join(" · ", ReportLayout.Parts(field).Select(part => FieldValue(configs, point, part) is var v && v is "true" or "false"
                ? $"{part[(part.LastIndexOf('.') + 1)..]}={v}" : FieldValue(configs, point, part)));
        if (field == ReportLayout.KeptFraction)
            return decimal.TryParse(FieldValue(configs, point, "prune.sparsity"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s)
                ? (1 - s).ToString(CultureInfo.InvariantCulture) : "";
        if (field == "label") return point.Label;
        if (point.Coordinates.TryGetValue(field, out var v)) return v;
        if (!configs.TryGetValue(point.Run.Id, out var json))
            configs[point.Run.Id] = json = Settings(point.Run.Config);
        foreach (var part in field.Split('.'))
        {
            if (json.ValueKind != JsonValueKind.Object || !json.TryGetProperty(part, out json)) return "";
        }
        return json.ValueKind == JsonValueKind.String ? json.GetString() ?? "" : json.GetRawText();
    }

    static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The run's settings as JSON with the canonical field names (data, model, init, prune, train, seed).</summary>
    static JsonElement Settings(RunConfig c) => JsonSerializer.SerializeToElement(
        new Dictionary<string, object> { ["data"] = c.Data, ["model"] = c.Model, ["init"] = c.Init, ["prune"] = c.Prune, ["train"] = c.Train, ["seed"] = c.Seed },
        SnakeCase);

    /// <summary>Distinct values, ascending when all are numbers, else in order of first appearance.</summary>
    public static List<string> Order(IEnumerable<string> values)
    {
        var distinct = values.Distinct().ToList();
        return distinct.All(v => TryNumber(v, out _)) ? [.. distinct.OrderBy(v => Number(v))] : distinct;
    }

    public static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    static double Number(string text) => TryNumber(text, out var v) ? v : double.NaN;

    /// <summary>How a value is shown: sparsities (fields ending in <c>sparsity</c>) as percentages, e.g. 0.9 → "90%".</summary>
    public static string Display(string field, string value) =>
        field.EndsWith("sparsity", StringComparison.Ordinal) && TryNumber(value, out var s)
            ? (100 * s).ToString("0.##", CultureInfo.InvariantCulture) + "%"
            : value;

    /// <summary>Checks the layout names fields the report can use.</summary>
    public static void Validate(ReportLayout layout)
    {
        if (layout.Rows == layout.Columns)
            throw new InitPruneException($"the report layout uses '{layout.Rows}' for both rows and columns: choose two different fields");
        if ((layout.HeatmapX is null) != (layout.HeatmapY is null))
            throw new InitPruneException("the report layout sets only one heat map axis: set both HeatmapX and HeatmapY, or neither");
        if (layout.HeatmapX is { } x && (x == layout.Rows || x == layout.HeatmapY || layout.HeatmapY == layout.Rows))
            throw new InitPruneException($"the heat map axes '{x}' and '{layout.HeatmapY}' must differ from each other and from the row field '{layout.Rows}'");
    }

    sealed class LexicographicComparer : IComparer<int[]>
    {
        public static readonly LexicographicComparer Instance = new();

        public int Compare(int[]? a, int[]? b)
        {
            for (var i = 0; i < Math.Min(a!.Length, b!.Length); i++)
                if (a[i] != b[i]) return a[i].CompareTo(b[i]);
            return a.Length.CompareTo(b.Length);
        }
    }
}
