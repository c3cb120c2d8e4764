using System.Globalization;
using System.Text;
using System.Text.Json;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using Parquet;
using Parquet.Schema;

namespace InitPrune.Reporting;

/// <summary>
/// What <c>initprune export</c> asks for: a spec (its sweep) or a results store (every sweep, or <see cref="Sweep"/>),
/// as for <c>report</c>; the table goes to <see cref="Out"/> (default <c>./initprune-results/exports/&lt;sweep&gt;.csv</c>,
/// or <c>.parquet</c>). <see cref="Format"/> null: parquet when <see cref="Out"/> ends in <c>.parquet</c>, else csv.
/// </summary>
public sealed record ExportRequest(
    string? Source = null,
    string Scale = "full",
    string? Store = null,
    string? Sweep = null,
    string? Out = null,
    string? Format = null,
    string Table = "epochs")
{
    public static readonly IReadOnlyList<string> Formats = ["csv", "parquet"];

    /// <summary>
    /// The tables: <c>epochs</c> (one row per run × stored epoch) and <c>jacobian</c> (one row per run × ‖J‖ measurement
    /// of runs with <c>train.jacobian_every</c>, seed 002).
    /// </summary>
    public static readonly IReadOnlyList<string> Tables = ["epochs", "jacobian"];

    /// <summary>The format written: <see cref="Format"/>, else told from the extension of <see cref="Out"/>.</summary>
    public string Resolved => Format?.Trim().ToLowerInvariant()
        ?? (Out is { } o && o.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? "parquet" : "csv");
}

/// <summary>What <c>initprune export</c> wrote: the file, its sweeps, how many runs and rows, and its columns in order.</summary>
public sealed record ExportResult(string File, string Format, IReadOnlyList<string> Sweeps, int Runs, int Rows, IReadOnlyList<string> Columns);

/// <summary>
/// A sweep's results as one tidy table a notebook reads: one row per run × stored epoch (one row with empty epoch
/// columns for a run without epochs), the run's settings flattened into <c>section.key</c> columns
/// (<see cref="Settings"/>), what pruning did and the final result.
/// </summary>
public static class RunExport
{
    /// <summary>The columns before the settings.</summary>
    public static readonly IReadOnlyList<string> RunColumns = ["sweep", "label", "run_id", "status", "error"];

    /// <summary>The columns after the settings: pruning, final result, then the epoch's metrics.</summary>
    public static readonly IReadOnlyList<string> ResultColumns =
    [
        "pruning.actual_sparsity", "pruning.kept", "pruning.total",
        "result.test_accuracy", "result.test_loss", "result.validation_accuracy", "result.epochs",
        "epoch", "lr", "train_loss", "test_loss", "test_accuracy", "validation_loss", "validation_accuracy", "seconds", "samples_per_second",
        "kept_fraction", "lambda",
    ];

    /// <summary>The columns of the <c>jacobian</c> table after the settings: the step, its epoch, ‖J‖ (mean and std over the probe inputs) and the train loss there.</summary>
    public static readonly IReadOnlyList<string> JacobianColumns = ["step", "epoch", "jacobian_norm", "jacobian_std", "train_loss"];

    /// <summary>Writes the table of the sweeps <paramref name="r"/> selects and says what it wrote.</summary>
    public static ExportResult Export(ExportRequest r)
    {
        var format = r.Resolved;
        if (!ExportRequest.Formats.Contains(format))
            throw new InitPruneException($"unknown export format '{r.Format}': use {string.Join(" or ", ExportRequest.Formats)}");
        if (!ExportRequest.Tables.Contains(r.Table))
            throw new InitPruneException($"unknown export table '{r.Table}': use {string.Join(" or ", ExportRequest.Tables)}");
        var request = new ReportRequest(r.Source, r.Scale, r.Store, r.Sweep);
        var location = SweepReport.Location(request);
        if (r.Out is { } given) Artifacts.CheckPath(given, "--out");
        using var store = ResultsStores.Open(location, mustExist: true);
        var keys = SweepReport.Keys(request, store.Sweeps(), location);
        var runs = keys.SelectMany(k => store.Load(k).Select(run => (Sweep: k, Run: run))).ToList();
        var (columns, rows) = r.Table == "jacobian" ? JacobianTable(runs) : Table(runs);
        var suffix = r.Table == "jacobian" ? ".jacobian" : "";
        var path = r.Out ?? Path.Combine(Experiments.Sweeps.Sweep.DefaultOut, "exports", (keys.Length == 1 ? SweepSpec.FileName(keys[0]) : "sweeps") + suffix + "." + format);
        if (Directory.Exists(path)) throw new InitPruneException($"--out {path} is a folder: give the file to write (e.g. {Path.Combine(path, "runs." + format)})");
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        if (format == "parquet") Artifacts.WriteAtomic(full, stream => Parquet(stream, columns, rows));
        else Artifacts.WriteAllTextAtomic(full, Csv(columns, rows));
        return new ExportResult(full, format, keys, runs.Count, rows.Count, columns);
    }

    /// <summary>The table's columns and rows (null: empty cell) for runs of the given sweeps.</summary>
    public static (List<string> Columns, List<object?[]> Rows) Table(IReadOnlyList<(string Sweep, StoredRun Run)> runs) =>
        Rows(runs, ResultColumns, run =>
        {
            object?[] result = [run.Pruning?.ActualSparsity, run.Pruning?.Kept, run.Pruning?.Total,
                run.Result?.TestAccuracy, run.Result?.TestLoss, run.Result?.ValidationAccuracy, run.Result?.Epochs];
            if (run.Epochs.Count == 0) return [[.. result, null, null, null, null, null, null, null, null, null, null, null]];
            return [.. run.Epochs.Select(e => (object?[])[.. result, e.Epoch, e.LearningRate, e.TrainLoss, e.TestLoss, e.TestAccuracy,
                e.ValidationLoss, e.ValidationAccuracy, e.Seconds, e.SamplesPerSecond, e.KeptFraction, e.Lambda])];
        });

    /// <summary>The <c>jacobian</c> table: one row per run × ‖J‖ measurement (runs without one are left out).</summary>
    public static (List<string> Columns, List<object?[]> Rows) JacobianTable(IReadOnlyList<(string Sweep, StoredRun Run)> runs) =>
        Rows([.. runs.Where(x => x.Run.JacobianSeries.Count > 0)], JacobianColumns,
            run => [.. run.JacobianSeries.Select(p => (object?[])[p.Step, p.Epoch, p.Norm, p.Std, p.TrainLoss])]);

    /// <summary>
    /// Rows of <see cref="RunColumns"/>, the runs' settings (the union of their keys, in order of appearance) and
    /// <paramref name="tail"/>, one per tail row <paramref name="tailRows"/> gives for a run.
    /// </summary>
    static (List<string> Columns, List<object?[]> Rows) Rows(IReadOnlyList<(string Sweep, StoredRun Run)> runs, IReadOnlyList<string> tail,
        Func<StoredRun, List<object?[]>> tailRows)
    {
        var settings = runs.Select(x => Settings(x.Run.Config)).ToList();
        var settingColumns = new List<string>();
        foreach (var s in settings)
            foreach (var (key, _) in s)
                if (!settingColumns.Contains(key)) settingColumns.Add(key);
        var rows = new List<object?[]>();
        for (int i = 0; i < runs.Count; i++)
        {
            var (sweep, run) = runs[i];
            var values = settings[i].ToDictionary(kv => kv.Key, kv => kv.Value);
            object?[] head =
            [
                sweep, run.Entries.FirstOrDefault(e => e.Sweep == sweep).Label, run.Id, run.Status.ToString().ToLowerInvariant(), run.Error,
                .. settingColumns.Select(c => values.GetValueOrDefault(c)),
            ];
            rows.AddRange(tailRows(run).Select(t => (object?[])[.. head, .. t]));
        }
        return ([.. RunColumns, .. settingColumns, .. tail], rows);
    }

    /// <summary>
    /// A run's settings flattened: every field of its canonical JSON (<see cref="RunConfig.ToJson"/>) as
    /// <c>section.key</c> (the seed as <c>seed</c>), in its order, and the declared options left out of the JSON at
    /// their default, with it. Values keep their declared types (string, int, long, double, bool, double[], or null).
    /// </summary>
    public static List<KeyValuePair<string, object?>> Settings(RunConfig c)
    {
        var list = new List<KeyValuePair<string, object?>>();
        using var doc = JsonDocument.Parse(c.ToJson());
        object[] sections = [c.Data, c.Model, c.Init, c.Prune, c.Train];
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Object)
            {
                list.Add(new(property.Name, property.Name == "seed" ? c.Seed : Value(property.Value)));
                continue;
            }
            var record = sections.FirstOrDefault(s => Param.Snake(s.GetType().Name.Replace("Settings", "", StringComparison.Ordinal)) == property.Name);
            var typed = record is null ? [] : Param.ValuesOf(record);
            if (record is PruneSettings p)
                foreach (var (key, value) in p.MethodOptions.Values) typed.TryAdd(key, value);
            var keys = new HashSet<string>();
            foreach (var field in property.Value.EnumerateObject())
            {
                keys.Add(field.Name);
                list.Add(new($"{property.Name}.{field.Name}", typed.TryGetValue(field.Name, out var value) ? value : Value(field.Value)));
            }
            if (record is null) continue;
            foreach (var (key, value) in Param.ValuesOf(record))
                if (keys.Add(key)) list.Add(new($"{property.Name}.{key}", value));
        }
        return list;
    }

    static object? Value(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number => v.TryGetInt64(out var l) ? (object)l : v.GetDouble(),
        JsonValueKind.Array when v.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number) => v.EnumerateArray().Select(x => x.GetDouble()).ToArray(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => v.GetRawText(),
    };

    /// <summary>
    /// CSV (RFC 4180, comma, header line): numbers invariant and round-trip, booleans <c>true</c>/<c>false</c>, number
    /// arrays as <c>a;b</c>, text from the store guarded against spreadsheet formulas.
    /// </summary>
    internal static string Csv(IReadOnlyList<string> columns, IReadOnlyList<object?[]> rows)
    {
        var sb = new StringBuilder().AppendLine(string.Join(",", columns.Select(c => SweepReport.CsvField(SweepReport.CsvText(c)))));
        foreach (var row in rows) sb.AppendLine(string.Join(",", row.Select(Cell)));
        return sb.ToString();
    }

    /// <summary>
    /// Parquet, one row group: a column whose values are all integers is int64, all numbers double, all booleans
    /// boolean, anything else (text, number arrays as <c>a;b</c>, mixed types) UTF-8 string; every column is optional,
    /// null where the CSV cell is empty. Text is written as stored (no spreadsheet guard).
    /// </summary>
    internal static void Parquet(Stream stream, IReadOnlyList<string> columns, IReadOnlyList<object?[]> rows)
    {
        var fields = new List<DataField>();
        var writes = new List<Func<ParquetRowGroupWriter, Task>>();
        for (int c = 0; c < columns.Count; c++)
        {
            var values = rows.Select(row => row[c]).ToArray();
            var present = values.Where(v => v is not null).ToArray();
            if (present.Length > 0 && present.All(v => v is long or int))
                Add(new DataField<long?>(columns[c]), values.Select(v => v is null ? (long?)null : Convert.ToInt64(v, CultureInfo.InvariantCulture)).ToArray());
            else if (present.Length > 0 && present.All(v => v is double or float or long or int))
                Add(new DataField<double?>(columns[c]), values.Select(v => v is null ? (double?)null : Convert.ToDouble(v, CultureInfo.InvariantCulture)).ToArray());
            else if (present.Length > 0 && present.All(v => v is bool))
                Add(new DataField<bool?>(columns[c]), values.Select(v => (bool?)v).ToArray());
            else
            {
                var field = new DataField<string>(columns[c], true);
                var text = values.Select(Text).ToArray();
                fields.Add(field);
                writes.Add(g => g.WriteAsync(field, text));
            }
        }
        Task.Run(async () =>
        {
            await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), stream);
            using var group = writer.CreateRowGroup();
            foreach (var write in writes) await write(group);
        }).GetAwaiter().GetResult();

        void Add<T>(DataField field, T?[] values) where T : struct
        {
            fields.Add(field);
            writes.Add(g => g.WriteAsync<T>(field, values.AsMemory()));
        }

        static string? Text(object? value) => value switch
        {
            null => null,
            string s => s,
            double[] a => string.Join(";", a.Select(x => SweepReport.Number(x))),
            _ => Cell(value),
        };
    }

    /// <summary>One cell's CSV text.</summary>
    internal static string Cell(object? value) => value switch
    {
        null => "",
        double d => SweepReport.Number(d),
        float f => SweepReport.Number(f),
        long or int => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        bool b => b ? "true" : "false",
        double[] a => SweepReport.CsvField(string.Join(";", a.Select(x => SweepReport.Number(x)))),
        _ => SweepReport.CsvField(SweepReport.CsvText(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")),
    };
}
