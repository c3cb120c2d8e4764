using System.Diagnostics;
using System.Globalization;
using InitPrune.Experiments.Sweeps;
using InitPrune.Reporting;
using SkiaSharp;
using static InitPrune.Tests.Reporting.ReportRuns;

namespace InitPrune.Tests.Reporting;

/// <summary>Renders report.html in headless Chromium and checks the screenshot shows the embedded plots.</summary>
public sealed class HtmlScreenshotTests : IDisposable
{
    const string Chromium = "/usr/bin/chromium";
    readonly string dir = Directory.CreateTempSubdirectory("initprune-html-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Headless_chromium_renders_the_report_with_its_plots()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} not found: install Chromium (sudo apt-get install chromium) to check the HTML report");
        Dictionary<string, string> D(int d) => new() { ["model.depth"] = d.ToString(CultureInfo.InvariantCulture) };
        var runs = new List<StoredRun>();
        foreach (var (label, offset) in new[] { ("EOC", 0.0), ("Ordered", -0.2) })
        {
            foreach (var depth in new[] { 2, 20 })
            {
                foreach (var s in new[] { 0.5, 0.9 })
                {
                    for (var seed = 0; seed < 2; seed++)
                        runs.Add(Run(label, s, seed, 0.95 + offset - s * depth / 100 - 0.01 * seed, depth: depth, extra: D(depth)));
                }
            }
        }
        var layout = new ReportLayout(HeatmapX: "prune.sparsity", HeatmapY: "model.depth");
        var (_, files, _) = SweepReport.Write(Sweep(layout), runs, Path.Combine(dir, "report"));
        var shot = Path.Combine(dir, "shot.png");

        using (var p = Process.Start(new ProcessStartInfo(Chromium)
        {
            ArgumentList =
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", $"--user-data-dir={Path.Combine(dir, "profile")}",
                $"--screenshot={shot}", "--window-size=1200,2000", new Uri(files.Html).AbsoluteUri,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!)
        {
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromSeconds(90)))
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
            }
        }

        Assert.True(File.Exists(shot), "Chromium wrote no screenshot");
        using var bmp = SKBitmap.Decode(shot);
        Assert.Equal((1200, 2000), (bmp.Width, bmp.Height));
        int colored = 0, category10 = 0, viridis = 0;
        for (var y = 0; y < bmp.Height; y += 2)
        {
            for (var x = 0; x < bmp.Width; x += 2)
            {
                var c = bmp.GetPixel(x, y);
                if (Math.Max(c.Red, Math.Max(c.Green, c.Blue)) - Math.Min(c.Red, Math.Min(c.Green, c.Blue)) > 60) colored++;
                if (Near(c, 0x1f, 0x77, 0xb4) || Near(c, 0xff, 0x7f, 0x0e)) category10++;
                if (Near(c, 0x44, 0x01, 0x54, 40) || Near(c, 0xfd, 0xe7, 0x25, 40) || Near(c, 0x21, 0x91, 0x8c, 40)) viridis++;
            }
        }
        Assert.True(colored > 5000, $"only {colored} coloured pixels: the plots are not shown");
        Assert.True(category10 > 100, $"only {category10} pixels of the Category10 line colours");
        Assert.True(viridis > 1000, $"only {viridis} pixels of heat map colours");
    }

    static bool Near(SKColor c, int r, int g, int b, int tolerance = 12) =>
        Math.Abs(c.Red - r) <= tolerance && Math.Abs(c.Green - g) <= tolerance && Math.Abs(c.Blue - b) <= tolerance;
}
