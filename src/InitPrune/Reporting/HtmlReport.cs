using System.Net;
using System.Text;

namespace InitPrune.Reporting;

/// <summary>The report as one self-contained HTML page: inline CSS, PNG plots embedded as data URIs, no scripts, no external requests.</summary>
internal static class HtmlReport
{
    const string Style = """
        body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; line-height: 1.4; }
        h1 { border-bottom: 2px solid #1f77b4; padding-bottom: .2em; }
        h2 { margin-top: 1.6em; font-size: 1.15em; }
        table { border-collapse: collapse; margin: .5em 0 1.5em; }
        th, td { border: 1px solid #ccc; padding: .3em .7em; }
        th { background: #f0f4f8; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .note { background: #fff8e1; border-left: 4px solid #ffb300; padding: .4em .8em; margin: .5em 0; }
        .figures { display: flex; flex-wrap: wrap; gap: 1em; }
        figure { margin: 0 0 1em; flex: 1 1 480px; max-width: 540px; }
        figure img { max-width: 100%; border: 1px solid #ddd; }
        figcaption { font-size: .9em; color: #555; }
        """;

    public static string Render(SweepAnalysis a, ReportHeader h, IReadOnlyList<ReportTable> tables, ReportFigures figures, string outDir)
    {
        var sb = new StringBuilder();
        sb.AppendLine("<!DOCTYPE html>").AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.AppendLine($"<title>{E(a.Sweep.Key)}</title><style>{Style}</style></head><body>");
        sb.AppendLine($"<h1>{E(a.Sweep.Key)}</h1>");
        if (a.Sweep.Description.Length > 0) sb.AppendLine($"<p>{E(a.Sweep.Description)}</p>");
        if (a.Sweep.Reproduces.Length > 0) sb.AppendLine($"<p><strong>Reproduces:</strong> {E(a.Sweep.Reproduces)}</p>");
        sb.AppendLine($"<p><strong>Runs:</strong> {E(h.Counts)}</p>");
        if (h.Progress is { } progress) sb.AppendLine($"<div class=\"note\"><strong>Partial report:</strong> {E(progress)}</div>");
        foreach (var note in a.Sweep.Notes) sb.AppendLine($"<div class=\"note\">{E(note)}</div>");
        List("Environment of the runs", h.Environments, sb);
        List("Failed runs", h.Failures, sb);

        foreach (var t in tables.Where(t => !t.AtEnd)) Table(a, t, sb);

        sb.AppendLine("<div class=\"figures\">");
        foreach (var img in figures.Images)
        {
            var data = Convert.ToBase64String(File.ReadAllBytes(img.Png));
            sb.AppendLine($"<figure><img alt=\"{E(img.Title)}\" src=\"data:image/png;base64,{data}\">");
            sb.AppendLine($"<figcaption>{E(img.Title)} ({E(Path.GetRelativePath(outDir, img.Png))}, {E(Path.GetRelativePath(outDir, img.Svg))}){(img.Note is { } note ? $"<br>{E(note)}" : "")}</figcaption></figure>");
        }
        sb.AppendLine("</div>");
        List("Plots left out (no finished runs yet)", figures.Empty, sb);
        foreach (var t in figures.Flops ?? []) Table(a, t, sb);
        if (figures.Latency is { } latency)
        {
            sb.AppendLine($"<p>{E(latency.Line)}</p>");
            foreach (var t in latency.Tables) Table(a, t, sb);
            List("Latency not measured", latency.NotMeasured, sb);
            List("Sparse and dense forward passes disagree on the timing batch", latency.Disagreements, sb);
        }
        if (figures.LayerNames.Count > 0)
        {
            sb.AppendLine("<h2>Layers of the per-layer plots</h2><table><thead><tr><th>index</th><th>tensor</th></tr></thead><tbody>");
            for (var i = 0; i < figures.LayerNames.Count; i++) sb.AppendLine($"<tr><td class=\"num\">{i}</td><td>{E(figures.LayerNames[i])}</td></tr>");
            sb.AppendLine("</tbody></table>");
        }
        foreach (var t in tables.Where(t => t.AtEnd)) Table(a, t, sb);
        sb.AppendLine("</body></html>");
        return sb.ToString();
    }

    static void Table(SweepAnalysis a, ReportTable t, StringBuilder sb)
    {
        sb.AppendLine($"<h2>{E(t.Title)}</h2><table><thead><tr><th>{E(t.RowHeader ?? a.Layout.Rows)}</th>");
        foreach (var c in t.Columns) sb.Append($"<th>{E(c)}</th>");
        sb.AppendLine("</tr></thead><tbody>");
        var cellClass = t.TextCells ? "" : " class=\"num\"";
        foreach (var r in t.Rows)
        {
            sb.Append($"<tr><th>{E(r.Label)}</th>");
            foreach (var cell in r.Cells) sb.Append($"<td{cellClass}>{E(cell.Format(t.NumberFormat))}</td>");
            sb.AppendLine("</tr>");
        }
        sb.AppendLine("</tbody></table>");
    }

    static void List(string title, IReadOnlyList<string> items, StringBuilder sb)
    {
        if (items.Count == 0) return;
        sb.AppendLine($"<p><strong>{E(title)}:</strong></p><ul>");
        foreach (var i in items) sb.AppendLine($"<li>{E(i)}</li>");
        sb.AppendLine("</ul>");
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
