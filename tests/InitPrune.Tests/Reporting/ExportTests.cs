using System.Text;
using InitPrune.Experiments.Sweeps;
using Parquet;
using Parquet.Schema;
using InitPrune.Reporting;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using InitPrune.Training;

namespace InitPrune.Tests.Reporting;

/// <summary>The tidy export's CSV (the round trip through a sweep's store is in SweepCliTests).</summary>
public class ExportTests
{
    /// <summary>An RFC 4180 reader: quoted fields with doubled quotes, commas and line breaks inside quotes.</summary>
    public static List<string[]> ReadCsv(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\n')
            {
                row.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                rows.Add([.. row]);
                row.Clear();
            }
            else field.Append(c);
        }
        Assert.False(quoted, "unterminated quote");
        if (field.Length > 0 || row.Count > 0) rows.Add([.. row, field.ToString()]);
        return rows;
    }

    [Fact]
    public void Text_from_the_store_is_quoted_and_guarded_numbers_round_trip()
    {
        string[] columns = ["label", "error", "prune.sparsity", "train.nesterov", "train.milestones", "n"];
        object?[] row = ["a, \"b\"\nc", "=HYPERLINK(\"x\")", 0.1 + 0.2, true, new[] { 0.5, 0.75 }, 3L];
        var read = ReadCsv(RunExport.Csv(columns, [row, [null, null, -0.05, false, null, null]]));
        Assert.Equal(3, read.Count);
        Assert.Equal(columns, read[0]);
        Assert.Equal(["a, \"b\"\nc", "'=HYPERLINK(\"x\")", "0.30000000000000004", "true", "0.5;0.75", "3"], read[1]);
        Assert.Equal(0.1 + 0.2, double.Parse(read[1][2], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["", "", "-0.05", "false", "", ""], read[2]);
    }

    /// <summary>A Parquet file read back with Parquet.Net: each column's name, physical type and values (null where absent).</summary>
    public static List<(string Name, Parquet.Meta.Type Type, object?[] Values)> ReadParquet(string path) => Task.Run(async () =>
    {
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal("PAR1PAR1", Encoding.ASCII.GetString(bytes, 0, 4) + Encoding.ASCII.GetString(bytes, bytes.Length - 4, 4));
        using var stream = new MemoryStream(bytes);
        await using var reader = await ParquetReader.CreateAsync(stream);
        Assert.Equal(1, reader.RowGroupCount);
        using var group = reader.OpenRowGroupReader(0);
        int n = (int)group.RowCount;
        var columns = new List<(string, Parquet.Meta.Type, object?[])>();
        foreach (var field in reader.Schema.GetDataFields())
        {
            Assert.True(field.IsNullable, field.Name);
            object?[] values;
            if (field.SchemaElement!.Type == Parquet.Meta.Type.BYTE_ARRAY)
            {
                var buffer = new string?[n];
                await group.ReadAsync(field, buffer.AsMemory());
                values = buffer;
            }
            else if (field.ClrType == typeof(long)) values = await Read<long>(group, field, n);
            else if (field.ClrType == typeof(double)) values = await Read<double>(group, field, n);
            else if (field.ClrType == typeof(bool)) values = await Read<bool>(group, field, n);
            else throw new Xunit.Sdk.XunitException($"unexpected column type {field.ClrType} of {field.Name}");
            columns.Add((field.Name, field.SchemaElement!.Type!.Value, values));
        }
        return columns;
    }).GetAwaiter().GetResult();

    static async Task<object?[]> Read<T>(ParquetRowGroupReader group, DataField field, int n) where T : struct
    {
        var buffer = new T?[n];
        await group.ReadAsync<T>(field, buffer.AsMemory());
        return [.. buffer.Select(v => v.HasValue ? (object)v.Value : null)];
    }

    [Fact]
    public void Parquet_columns_are_typed_and_null_where_absent()
    {
        using var dir = new TempDir();
        string[] columns = ["label", "n", "x", "mixed", "flag", "milestones", "empty"];
        object?[][] rows =
        [
            ["a, \"b\"\nc", 3L, 0.1 + 0.2, 1L, true, new[] { 0.5, 0.75 }, null],
            ["=HYPERLINK(\"x\")", null, null, 2.5, false, null, null],
            [null, -7, -0.05, null, null, new[] { 1e-300 }, null],
        ];
        var path = dir.File("t.parquet");
        InitPrune.Engine.Artifacts.WriteAtomic(path, s => RunExport.Parquet(s, columns, rows));
        var read = ReadParquet(path);
        Assert.Equal(columns, read.Select(c => c.Name));
        Assert.Equal([Parquet.Meta.Type.BYTE_ARRAY, Parquet.Meta.Type.INT64, Parquet.Meta.Type.DOUBLE, Parquet.Meta.Type.DOUBLE, Parquet.Meta.Type.BOOLEAN, Parquet.Meta.Type.BYTE_ARRAY, Parquet.Meta.Type.BYTE_ARRAY],
            read.Select(c => c.Type));
        Assert.Equal(["a, \"b\"\nc", "=HYPERLINK(\"x\")", null], read[0].Values);
        Assert.Equal([3L, null, -7L], read[1].Values);
        Assert.Equal([0.1 + 0.2, null, -0.05], read[2].Values);
        Assert.Equal([1.0, 2.5, null], read[3].Values);
        Assert.Equal([true, false, null], read[4].Values);
        Assert.Equal(["0.5;0.75", null, "1E-300"], read[5].Values);
        Assert.Equal([null, null, null], read[6].Values);
    }

    [Fact]
    public void Settings_flatten_the_canonical_json_and_fill_in_options_left_out_at_their_default()
    {
        var c = new RunConfig(new DataSettings(), new ModelSettings(), new InitSettings(), new PruneSettings("snip", 0.9), new TrainSettings(), 3);
        var settings = RunExport.Settings(c);
        var keys = settings.Select(kv => kv.Key).ToList();
        Assert.Equal(keys.Distinct(), keys);
        Assert.Equal("snip", settings.Single(kv => kv.Key == "prune.method").Value);
        Assert.Equal(0.9, settings.Single(kv => kv.Key == "prune.sparsity").Value);
        Assert.Equal(3L, settings.Single(kv => kv.Key == "seed").Value);
        // include_biases (Since 3) is out of the run's JSON at its default, and still a column.
        Assert.DoesNotContain("include_biases", c.ToJson());
        Assert.Equal(false, settings.Single(kv => kv.Key == "prune.include_biases").Value);
        foreach (var (section, record) in new (string, object)[] { ("data", c.Data), ("model", c.Model), ("init", c.Init), ("prune", c.Prune), ("train", c.Train) })
            Assert.All(InitPrune.Engine.Param.ValuesOf(record).Keys, k => Assert.Contains($"{section}.{k}", keys));
    }

    [Fact]
    public void Export_errors_are_one_line()
    {
        using var dir = new TempDir();
        Assert.Contains("initprune sweep", CliRunner.AssertOneLineError(CliRunner.Run("export", dir.File("missing.sqlite"))));
        Assert.Contains("csv or parquet", CliRunner.AssertOneLineError(CliRunner.Run("export", dir.File("missing.sqlite"), "--format", "xlsx")));
        Assert.Contains("epochs or jacobian", CliRunner.AssertOneLineError(CliRunner.Run("export", dir.File("missing.sqlite"), "--table", "steps")));
    }

    [Fact]
    public void The_jacobian_table_has_one_row_per_measurement_and_leaves_out_runs_without_one()
    {
        var tracked = ReportRuns.Run("SNIP", 0.9, 0, 0.8) with
        {
            Jacobian = [new JacobianPoint(0, 0, 4.25, 0.5, null), new JacobianPoint(50, 1, 3.5, 0.25, 1.75)],
        };
        var plain = ReportRuns.Run("SNIP", 0.5, 0, 0.9);
        var (columns, rows) = RunExport.JacobianTable([(ReportRuns.Key, tracked), (ReportRuns.Key, plain)]);
        Assert.Equal(RunExport.JacobianColumns, columns.TakeLast(RunExport.JacobianColumns.Count));
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(tracked.Id, r[columns.IndexOf("run_id")]));
        Assert.Equal([0L, 0, 4.25, 0.5, null], rows[0].TakeLast(5));
        Assert.Equal([50L, 1, 3.5, 0.25, 1.75], rows[1].TakeLast(5));
        Assert.Equal(0.9, rows[0][columns.IndexOf("prune.sparsity")]);
    }
}
