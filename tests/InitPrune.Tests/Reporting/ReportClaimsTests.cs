using InitPrune.Engine;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using InitPrune.Training;
using static InitPrune.Tests.Reporting.ReportRuns;

namespace InitPrune.Tests.Reporting;

/// <summary>report.claims: each claim's figure by hand from synthetic runs, its verdict, and the spec's checks.</summary>
public sealed class ReportClaimsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("initprune-claims-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>SNIP: 91 (dense), 90 at 0.5, 80/82/84 at 0.9; Random: 70/74 at 0.9 and one pending run.</summary>
    static List<StoredRun> Runs() =>
    [
        Run("SNIP", 0, 0, 0.91),
        Run("SNIP", 0.5, 0, 0.90),
        Run("SNIP", 0.9, 0, 0.80),
        Run("SNIP", 0.9, 1, 0.82),
        Run("SNIP", 0.9, 2, 0.84),
        Run("Random", 0.9, 0, 0.70),
        Run("Random", 0.9, 1, 0.74),
        Run("Random", 0.9, 2, null, RunStatus.Pending),
    ];

    static SweepAnalysis Analysis(params ReportClaim[] claims) => SweepAnalysis.Build(Sweep(new ReportLayout(Claims: claims)), Runs());

    static Dictionary<string, string> W(params (string K, string V)[] kv) => kv.ToDictionary(x => x.K, x => x.V);

    [Theory]
    [InlineData(">= 82", "agree")]
    [InlineData("> 82", "disagree")]
    [InlineData("between 81.5 and 82.5", "agree")]
    [InlineData("< 80", "disagree")]
    public void A_mean_claim_is_the_mean_over_the_matching_done_runs(string expect, string verdict)
    {
        var c = new ReportClaim("SNIP keeps 82% at 90%", W(("label", "SNIP"), ("prune.sparsity", "0.90")), expect);
        var o = ReportClaims.Evaluate(Analysis(c), c);
        Assert.Equal(82.0, o.Value!.Value, 9);
        Assert.Equal("82 ± 2 (n = 3)", o.Figure);
        Assert.Equal(verdict, o.Verdict);
    }

    [Fact]
    public void A_comparison_is_the_difference_or_the_ratio_of_two_means()
    {
        var snip = W(("label", "SNIP"), ("prune.sparsity", "0.9"));
        var random = W(("label", "Random"), ("prune.sparsity", "0.9"));
        var diff = new ReportClaim("SNIP beats Random by 10 points", snip, "> 9.99", Than: random);
        var ratio = new ReportClaim("SNIP / Random", snip, "between 1.13 and 1.14", Than: random, Compare: "ratio");
        var a = Analysis(diff, ratio);
        Assert.Equal(82.0 - 72.0, ReportClaims.Evaluate(a, diff).Value!.Value, 9);
        Assert.Equal("agree", ReportClaims.Evaluate(a, diff).Verdict);
        Assert.Equal(82.0 / 72.0, ReportClaims.Evaluate(a, ratio).Value!.Value, 9);
        Assert.Equal("agree", ReportClaims.Evaluate(a, ratio).Verdict);
    }

    [Fact]
    public void A_slope_claim_is_the_least_squares_slope_over_the_field()
    {
        // x = 0, 0.5, 0.9, 0.9, 0.9; y = 91, 90, 80, 82, 84: Sxy = −6.88, Sxx = 0.632 by hand.
        var c = new ReportClaim("accuracy falls with sparsity", W(("label", "SNIP")), "< 0", Slope: "prune.sparsity");
        var o = ReportClaims.Evaluate(Analysis(c), c);
        Assert.Equal(-6.88 / 0.632, o.Value!.Value, 9);
        Assert.Equal("agree", o.Verdict);
        var log = c with { Log = true, Expect = "> 0" };
        double[] x = [0, 0.5, 0.9, 0.9, 0.9], y = [.. new[] { 91.0, 90, 80, 82, 84 }.Select(v => Math.Log(v))];
        double mx = x.Average(), my = y.Average();
        var expected = x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my)) / x.Sum(v => (v - mx) * (v - mx));
        var lo = ReportClaims.Evaluate(Analysis(log), log);
        Assert.Equal(expected, lo.Value!.Value, 12);
        Assert.Equal("disagree", lo.Verdict);
    }

    [Fact]
    public void Jacobian_change_is_the_last_recorded_norm_over_the_initial_one()
    {
        var run = Run("SNIP", 0.9, 0, 0.8) with
        {
            Jacobian = [new(100, 2, 3.0, 0, 0.5), new(0, 0, 4.0, 0, null), new(50, 1, 5.0, 0, 0.7)],
        };
        Assert.Equal(0.75, ReportMetric.Parse("jacobian_change").Of(run));
        Assert.Null(ReportMetric.Parse("jacobian_change").Of(run with { Jacobian = [new(0, 0, 4.0, 0, null)] }));
        var c = new ReportClaim("flat", W(("label", "SNIP")), "between 0.7 and 0.8", Metric: "jacobian_change");
        var o = ReportClaims.Evaluate(SweepAnalysis.Build(Sweep(new ReportLayout(Claims: [c])), [run]), c);
        Assert.Equal(("agree", 0.75), (o.Verdict, o.Value));
    }

    [Fact]
    public void A_claim_without_finished_runs_is_not_measured()
    {
        var none = new ReportClaim("OBD", W(("label", "OBD")), "> 0");
        var pendingOnly = new ReportClaim("Random at seed 2", W(("label", "Random"), ("seed", "2")), "> 0");
        var a = Analysis(none, pendingOnly);
        Assert.StartsWith("not measured", ReportClaims.Evaluate(a, none).Verdict);
        Assert.StartsWith("not measured", ReportClaims.Evaluate(a, pendingOnly).Verdict);
        Assert.Null(ReportClaims.Evaluate(a, none).Value);
    }

    [Fact]
    public void The_report_ends_with_the_claims_table_and_escapes_the_claim_text()
    {
        var c = new ReportClaim("SNIP | keeps <b>82</b>", W(("label", "SNIP"), ("prune.sparsity", "0.9")), ">= 82", Paper: "≈ 82%");
        var (tables, files, _) = SweepReport.Write(Sweep(new ReportLayout(Claims: [c])), Runs(), dir);
        var t = tables[^1];
        Assert.Equal("Claims of the seed against this sweep", t.Title);
        Assert.Equal(["seed's figure", "ours", "test", "verdict"], t.Columns);
        Assert.Equal(["≈ 82%", "82 ± 2 (n = 3)", ">= 82", "agree"], t.Rows.Single().Cells.Select(x => x.Format("F2")));
        var md = File.ReadAllText(files.Markdown);
        Assert.Contains("| claim | seed's figure | ours | test | verdict |\n|---|---|---|---|---|", md.ReplaceLineEndings("\n"));
        Assert.True(md.IndexOf("## Claims of the seed", StringComparison.Ordinal) > md.LastIndexOf("![", StringComparison.Ordinal), "the claims table ends the report");
        Assert.Contains(@"SNIP \| keeps", md);
        var html = File.ReadAllText(files.Html);
        Assert.Contains("<th>claim</th>", html);
        Assert.True(html.IndexOf("<h2>Claims of the seed", StringComparison.Ordinal) > html.LastIndexOf("<figure>", StringComparison.Ordinal), "the claims table ends the page");
        Assert.Contains("SNIP | keeps &lt;b&gt;82&lt;/b&gt;", html);
        Assert.DoesNotContain("<b>82</b>", html);
    }

    const string Spec = "name: s\ndata: {name: ellipse}\nmodel: {name: mlp, depth: [2, 4], width: 16}\ninit: {name: normal, sigma_w: 2}\nprune: {method: random, sparsity: [0.5, 0.9]}\ntrain: {epochs: 1}\nreport:\n  claims:\n";

    string Write(string claims)
    {
        var path = Path.Combine(dir, "s.yaml");
        File.WriteAllText(path, Spec + claims);
        return path;
    }

    [Fact]
    public void The_spec_declares_claims_that_reach_the_layout()
    {
        var spec = SpecLoader.Load(Write("""
                - claim: "deeper is worse"
                  paper: "Fig. 3"
                  where: {prune.sparsity: 0.9}
                  slope: model.depth
                  log: true
                  expect: "< 0"
                - claim: "90% loses to 50%"
                  where: {prune.sparsity: 0.9}
                  than: {prune.sparsity: 0.5}
                  compare: ratio
                  metric: test_loss
                  expect: "> 1"
            """), "full", null);
        var claims = spec.Layout.Claims!;
        Assert.Equal(2, claims.Count);
        Assert.Equal(("deeper is worse", "Fig. 3", "model.depth", true, "< 0", "0.9"),
            (claims[0].Claim, claims[0].Paper, claims[0].Slope, claims[0].Log, claims[0].Expect, claims[0].Where["prune.sparsity"]));
        Assert.Equal(("ratio", "test_loss", "0.5"), (claims[1].Compare, claims[1].Metric, claims[1].Than!["prune.sparsity"]));
    }

    [Theory]
    [InlineData("  - {claim: c, where: {model.widthh: 16}, expect: '> 0'}", "'model.widthh' is not a field of the runs")]
    [InlineData("  - {claim: c, where: {model.depth: 2}, expect: 'about 3'}", "is not a test")]
    [InlineData("  - {claim: c, where: {model.depth: 2}, expect: '> x'}", "'x' is not a number")]
    [InlineData("  - {claim: c, where: {model.depth: 2}, expect: 'between 2 and 1'}", "the lower bound is above the upper one")]
    [InlineData("  - {claim: c, where: {model.depth: 2}, than: {model.depth: 4}, slope: model.depth, expect: '> 0'}", "not both")]
    [InlineData("  - {claim: c, where: {model.depth: 2}, metric: accuracy, expect: '> 0'}", "metric 'accuracy' is unknown")]
    [InlineData("  - {claim: c, where: {model.depth: 2}, than: {model.depth: 4}, compare: quotient, expect: '> 0'}", "compare 'quotient' is unknown")]
    [InlineData("  - {claim: c, expect: '> 0'}", "where is missing")]
    [InlineData("  - {claim: c, where: {model.depth: 2}, expect: '> 0', colour: red}", "report.claims.colour")]
    [InlineData("  - just text", "each claim must be a mapping")]
    public void A_bad_claim_is_one_line_that_names_it(string claim, string message)
    {
        var e = Assert.Throws<InitPruneException>(() => SpecLoader.Load(Write(claim + "\n"), "full", null));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
