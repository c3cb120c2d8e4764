using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;
using Markdig;
using Microsoft.Data.Sqlite;

namespace InitPrune.Tests.Reporting;

/// <summary>
/// Stores and specs written by an attacker: sweep keys that are absolute paths, climb out with "..", or are 300
/// characters long; labels and descriptions holding HTML, Markdown table syntax and spreadsheet formulas.
/// </summary>
public sealed class HostileStoreTests : IDisposable
{
    const string Script = "=cmd()|<script>alert(1)</script>";
    const string Formula = "-1+2";
    const string Description = "<img src=x onerror=alert(1)> *bold* [link](http://evil.example) | x";

    readonly TempDir root = new();

    public void Dispose() => root.Dispose();

    static RunConfig Config(string method, double sparsity) =>
        new(new DataSettings("ellipse"), new ModelSettings(), new InitSettings(), new PruneSettings(method, sparsity), new TrainSettings(), 0);

    /// <summary>
    /// A real store with one finished sweep (2 labels × 2 sparsities), rewritten with SQL: the sweep listed under each
    /// of <paramref name="keys"/>, its labels <see cref="Script"/> and <see cref="Formula"/>, its description <see cref="Description"/>.
    /// </summary>
    string HostileStore(params string[] keys)
    {
        var path = Path.Combine(root.Sub("store"), "store.sqlite");
        using (var store = SqliteResultsStore.Open(path))
        {
            var entries = new[] { "snip", "random" }.SelectMany(m => new[] { 0.5, 0.9 }.Select(s => new SweepEntry(Config(m, s), m,
                new Dictionary<string, string> { ["prune.sparsity"] = s.ToString(CultureInfo.InvariantCulture), ["seed"] = "0" }))).ToList();
            store.Register(new SweepInfo("demo@full", "plain", "", new ReportLayout(), [], "name: demo"), entries);
            var env = new EnvironmentInfo("0.1.0", "abc", "0.107.0", "2.10.0", 1, "cpu", "host", "Linux", "10.0.0");
            foreach (var (e, i) in entries.Select((e, i) => (e, i)))
                store.Complete(e.Config.Id, new RunResult(0.5 + i / 10.0, 0.5, null, 1, 1, 1, env));
        }
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        c.Open();
        void Sql(string sql, params (string Name, object Value)[] args)
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
            cmd.ExecuteNonQuery();
        }
        Sql("UPDATE sweep_runs SET label = CASE label WHEN 'snip' THEN $s ELSE $f END", ("$s", Script), ("$f", Formula));
        Sql("UPDATE sweeps SET description = $d", ("$d", Description));
        foreach (var key in keys)
        {
            Sql("INSERT INTO sweeps(key, description, reproduces, layout_json, notes_json, spec_text, registered_at, ordinal) " +
                "SELECT $k, description, reproduces, layout_json, notes_json, spec_text, registered_at, ordinal + 1 FROM sweeps WHERE key = 'demo@full'", ("$k", key));
            Sql("INSERT INTO sweep_runs(sweep, run_id, label, coords_json, ordinal) SELECT $k, run_id, label, coords_json, ordinal FROM sweep_runs WHERE sweep = 'demo@full'", ("$k", key));
        }
        Sql("DELETE FROM sweep_runs WHERE sweep = 'demo@full'");
        Sql("DELETE FROM sweeps WHERE key = 'demo@full'");
        return path;
    }

    /// <summary>Every file under the test's folder, relative to it, with '/' separators.</summary>
    List<string> AllFiles() =>
        [.. Directory.EnumerateFiles(root.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root.Path, f).Replace('\\', '/'))];

    string[] HostileKeys() => [Path.Combine(root.Path, "abs-evil") + "@full", "../../evil-out@full", "../../../../evil-out@full", new string('k', 300) + "@full"];

    [Fact]
    public void A_report_of_hostile_sweep_keys_writes_only_under_the_artefact_folders_reports_folder()
    {
        var store = HostileStore(HostileKeys());

        var r = CliRunner.Run("report", store, "--artifacts", Path.GetDirectoryName(store)!, "--json");

        Assert.True(r.ExitCode == 0, r.Stderr);
        var files = AllFiles();
        var outside = files.Where(f => !f.StartsWith("store/reports/", StringComparison.Ordinal) && !Regex.IsMatch(f, "^store/store\\.sqlite(-wal|-shm)?$")).ToList();
        Assert.Empty(outside);
        var folders = Directory.GetDirectories(Path.Combine(root.Path, "store", "reports"));
        Assert.Equal(4, folders.Length);
        Assert.All(folders, f => Assert.True(File.Exists(Path.Combine(f, "report.md")) && Path.GetFileName(f).Length <= SweepSpec.MaxKeyLength, f));
        Assert.False(Directory.Exists(Path.Combine(root.Path, "abs-evil@full")));
        Assert.Equal(4, r.Json.GetArrayLength());
    }

    [Fact]
    public void A_report_with_out_of_hostile_sweep_keys_writes_only_under_out()
    {
        var store = HostileStore(HostileKeys());
        var outDir = Path.Combine(root.Path, "a", "b", "out");

        var r = CliRunner.Run("report", store, "--out", outDir);

        Assert.True(r.ExitCode == 0, r.Stderr);
        var outside = AllFiles().Where(f => !f.StartsWith("a/b/out/", StringComparison.Ordinal) && !f.StartsWith("store/store.sqlite", StringComparison.Ordinal)).ToList();
        Assert.Empty(outside);
        Assert.Equal(4, Directory.GetDirectories(outDir).Length);
        Assert.Empty(Directory.GetFiles(outDir));
    }

    [Fact]
    public void Markdown_shows_hostile_text_as_text_and_csv_neutralizes_formulas()
    {
        var store = HostileStore("hostile@full");
        var outDir = Path.Combine(root.Path, "out");

        var r = CliRunner.Run("report", store, "--out", outDir);

        Assert.True(r.ExitCode == 0, r.Stderr);
        var md = File.ReadAllText(Path.Combine(outDir, "report.md"));
        var html = Markdown.ToHtml(md, new MarkdownPipelineBuilder().UseAdvancedExtensions().Build());
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img src=x", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<em>", html);
        Assert.DoesNotContain(">link</a>", html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt; *bold* [link](", html);
        // The first table: a header row and two rows of three cells each, the labels shown exactly as stored.
        var table = Regex.Match(html, "<table>.*?</table>", RegexOptions.Singleline).Value;
        var rows = Regex.Matches(table, "<tr>(.*?)</tr>", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(3, rows.Count);
        var cells = rows.Skip(1).Select(row => Regex.Matches(row, "<td[^>]*>(.*?)</td>").Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList()).ToList();
        Assert.All(cells, c => Assert.Equal(3, c.Count));
        Assert.Equal([Script, Formula], cells.Select(c => c[0]));

        var csv = File.ReadAllLines(Path.Combine(outDir, "report.csv"));
        Assert.Equal("row,column,mean,std,n", csv[0]);
        Assert.Equal(["'" + Script, "'" + Formula], csv.Skip(1).Select(l => l.Split(',')[0]).Distinct());
        Assert.All(csv.Skip(1), l => Assert.Matches("^[^,]+,0\\.[59],[5-8][0-9.]*,,1$", l));
    }

    [Theory]
    [InlineData("=cmd()", "'=cmd()")]
    [InlineData("+SUM(A1)", "'+SUM(A1)")]
    [InlineData("@x", "'@x")]
    [InlineData("-1+2", "'-1+2")]
    [InlineData("\tx", "'\tx")]
    [InlineData("\rx", "'\rx")]
    [InlineData("-0.05", "-0.05")]
    [InlineData("-1e-3", "-1e-3")]
    [InlineData("snip", "snip")]
    [InlineData("", "")]
    public void Csv_text_starting_like_a_formula_gets_an_apostrophe_unless_it_is_a_number(string text, string cell) =>
        Assert.Equal(cell, SweepReport.CsvText(text));

    [Fact]
    public void A_spec_name_of_300_characters_is_refused_before_anything_runs()
    {
        var spec = root.File("long.yaml");
        File.WriteAllText(spec, $"name: {new string('a', 300)}\ndata: {{name: ellipse}}\nmodel: {{name: mlp, depth: 2, width: 8}}\ntrain: {{epochs: 0}}\n");
        // With a short name the same spec is valid.
        Assert.Single(SpecLoader.Parse(File.ReadAllText(spec).Replace(new string('a', 300), "short", StringComparison.Ordinal), spec, requireData: false).Entries);

        var e = Assert.Throws<InitPruneException>(() => SpecLoader.Load(spec, requireData: false));
        Assert.Contains("300 characters long", e.Message);
        var line = CliRunner.AssertOneLineError(CliRunner.Run("sweep", spec, "--out", root.File("results")));
        Assert.Contains("use at most 64", line);
        Assert.False(Directory.Exists(root.File("results")));
    }

    [Fact]
    public void Every_key_a_spec_can_give_is_its_own_folder_name()
    {
        var longest = new string('a', SpecReader.MaxNameLength) + "@" + new string('b', SpecReader.MaxScaleLength);

        Assert.Equal(longest, SweepSpec.FileName(longest));
        Assert.Equal("seed001-fig3-depth-sparsity@smoke", SweepSpec.FileName("seed001-fig3-depth-sparsity@smoke"));
        Assert.NotEqual(longest + "b", SweepSpec.FileName(longest + "b"));
    }

    [Theory]
    [InlineData("../../../evil-run")]
    [InlineData("/tmp/evil-run")]
    [InlineData("0123456789ABCDEF")]
    [InlineData("0123456789abcde")]
    public void A_run_id_that_is_not_16_hex_digits_never_becomes_a_path(string id)
    {
        var folders = new SweepFolders(root.Path);

        Assert.Throws<InitPruneException>(() => folders.CheckpointOf(id));
        Assert.Throws<InitPruneException>(() => folders.RunFolder(id));
        Assert.Throws<InitPruneException>(() => (folders with { TensorBoard = root.Path }).TensorBoardOf(id, new RunConfig(new DataSettings(), new ModelSettings(), new InitSettings(), new PruneSettings(), new TrainSettings(), 0)));
        Assert.Equal(Path.Combine(root.Path, "runs", "0123456789abcdef"), folders.RunFolder("0123456789abcdef"));
    }
}
