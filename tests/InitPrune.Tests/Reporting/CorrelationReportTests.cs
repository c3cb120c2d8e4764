using System.Text.Json;
using InitPrune.Experiments.Sweeps;
using InitPrune.Tests.Cli;
using InitPrune.Tests.Data;

namespace InitPrune.Tests.Reporting;

/// <summary>
/// Seed 002 Fig. 5 / Theorem 8 at the smoke scale (width 64, depths 5 and 20, seven η): the report's ‖J_corr‖ − ‖J_iid‖
/// table against the differences recomputed here from the stored step-0 norms, and its theory table against the closed form.
/// </summary>
public class CorrelationReportTests
{
    [Fact]
    public void The_figure_5_smoke_recipe_reports_the_correlated_minus_iid_jacobian_norm_and_theorem_8s_condition()
    {
        using var dir = new TempDir();
        var recipe = Path.Combine(Repo.Root, "configs", "seed002-fig5-correlated-jacobian.yaml");
        var outDir = dir.File("out");
        var sweep = CliRunner.Run("sweep", recipe, "--scale", "smoke", "--out", outDir, "--json");
        Assert.True(sweep.ExitCode == 0, sweep.Stderr);
        Assert.Equal(14, sweep.Json.GetProperty("done").GetInt32());
        List<StoredRun> runs;
        using (var store = SqliteResultsStore.Open(Path.Combine(outDir, "store.sqlite")))
            runs = [.. store.Load()];
        double Norm(double eta, int depth) => runs.Single(r => r.Config.Init.Eta == eta && r.Config.Model.Depth == depth && r.Config.Seed == 0)
            .JacobianSeries.Single(p => p.Step == 0).Norm;

        var report = CliRunner.Run("report", recipe, "--scale", "smoke", "--store", Path.Combine(outDir, "store.sqlite"), "--artifacts", outDir, "--json");
        Assert.True(report.ExitCode == 0, report.Stderr);
        var folder = Path.Combine(outDir, "reports", "seed002-fig5-correlated-jacobian@smoke");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "report.json")));
        var tables = json.RootElement.GetProperty("tables").EnumerateArray().ToList();

        var diff = tables.Single(t => t.GetProperty("title").GetString()!.StartsWith("‖J_corr‖ − ‖J_iid‖"));
        Assert.Equal(["5", "20"], diff.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        var rows = diff.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("label").GetString()!,
            r => r.GetProperty("cells").EnumerateArray().Select(c => c.GetProperty("mean").GetDouble()).ToArray());
        Assert.Equal(6, rows.Count);
        Assert.DoesNotContain("η = 0 (i.i.d.)", rows.Keys);
        foreach (var (label, eta) in new[] { ("η = 2⁻⁸", 1.0 / 256), ("η = 2⁻⁴", 1.0 / 16), ("η = 2⁻¹", 0.5) })
        {
            for (var j = 0; j < 2; j++)
            {
                int depth = j == 0 ? 5 : 20;
                Assert.Equal(Norm(eta, depth) - Norm(0, depth), rows[label][j], 9);
            }
        }
        // At η = 2⁻¹ (corr 0.2, n·corr = 12.8) the norm collapses far below the i.i.d. one; at 2⁻⁸ it stays within 25%.
        Assert.All(rows["η = 2⁻¹"].Zip([Norm(0, 5), Norm(0, 20)]), x => Assert.True(x.First < -0.9 * x.Second));
        Assert.All(rows["η = 2⁻⁸"].Zip([Norm(0, 5), Norm(0, 20)]), x => Assert.True(Math.Abs(x.First) < 0.25 * x.Second));

        var theory = tables.Single(t => t.GetProperty("title").GetString()!.StartsWith("Theory (seed 002 Theorem 8)"));
        var eta4 = theory.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("label").GetString() == "η = 2⁻⁴")
            .GetProperty("cells").EnumerateArray().Take(4).Select(c => c.GetProperty("mean").GetDouble()).ToArray();
        double corr = 1.0 / 256 / (1 + 1.0 / 256), n = 64;
        Assert.Equal(1.0 / 16, eta4[0], 12);
        Assert.Equal(corr, eta4[1], 12);
        Assert.Equal(n * corr, eta4[2], 12);
        Assert.Equal(n * Math.Pow(Math.Log(n), 3) * corr, eta4[3], 9);
    }
}
