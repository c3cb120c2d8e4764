using System.Globalization;

namespace InitPrune.Reporting;

/// <summary>
/// One cell of a report table: <paramref name="Mean"/> and sample <paramref name="Std"/> (n − 1; null when
/// <paramref name="N"/> &lt; 2) over <paramref name="N"/> seeds, in the table's unit (percent for accuracies);
/// <paramref name="Text"/>, when set, is shown instead (e.g. a chosen learning rate).
/// </summary>
public sealed record ReportCell(double? Mean, double? Std, int N, string? Text = null)
{
    public static ReportCell Empty { get; } = new(null, null, 0);

    /// <summary>"mean ± std", "mean" when n = 1, "—" when no run is done.</summary>
    public string Format(string numberFormat)
    {
        if (Text is not null) return Text;
        if (N == 0 || Mean is not { } mean) return "—";
        var m = mean.ToString(numberFormat, CultureInfo.InvariantCulture);
        return Std is { } s ? $"{m} ± {s.ToString(numberFormat, CultureInfo.InvariantCulture)}" : m;
    }
}

/// <summary>A table row: its label (a value of the layout's row field) and one cell per column.</summary>
public sealed record ReportRow(string Label, IReadOnlyList<ReportCell> Cells);

/// <summary>A report table: rows are values of the layout's row field, columns (display strings) values of its column field.</summary>
public sealed record ReportTable(string Title, IReadOnlyList<string> Columns, IReadOnlyList<ReportRow> Rows)
{
    /// <summary>How the cells' numbers are written (two decimals for percentages).</summary>
    public string NumberFormat { get; init; } = "F2";

    /// <summary>The first column's header; null: the layout's row field.</summary>
    public string? RowHeader { get; init; }

    /// <summary>Cells that are text, not figures: left-aligned.</summary>
    public bool TextCells { get; init; }

    /// <summary>Shown after the figures, at the end of report.md and report.html (the claims table).</summary>
    public bool AtEnd { get; init; }
}

/// <summary>The files a report wrote: <c>report.md</c>, <c>report.csv</c>, <c>report.html</c> and the plots (PNG and SVG).</summary>
public sealed record ReportFiles(string Markdown, string Csv, string Html, IReadOnlyList<string> Images);
