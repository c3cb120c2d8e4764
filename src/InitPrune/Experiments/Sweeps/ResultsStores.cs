using System.Text.RegularExpressions;
using InitPrune.Engine;

namespace InitPrune.Experiments.Sweeps;

/// <summary>The kinds of results store a location can name.</summary>
public enum StoreKind { Sqlite }

/// <summary>A results store location as parsed: its kind and, for SQLite, the file (<see cref="Path"/> as given).</summary>
public sealed record StoreLocation(StoreKind Kind, string Path)
{
    /// <summary>The location for messages: a SQLite file's full path.</summary>
    public string Display => System.IO.Path.GetFullPath(Path);

    /// <summary>The location as another process in another folder reads it (a worker): <c>sqlite:</c> and the full path.</summary>
    public string Absolute => "sqlite:" + Display;
}

/// <summary>
/// The one place results stores are created, from a location as given to <c>--store</c>: a file path or
/// <c>sqlite:PATH</c> is a SQLite file; a PostgreSQL URL (<c>postgres://…</c>, <c>postgresql://…</c>) is refused
/// until that store exists (issue 15); any other <c>scheme:</c> is refused. Files (checkpoints, final weights, reports)
/// never live "beside the store": they go under an artefact folder of their own (<see cref="SweepFolders"/>).
/// </summary>
public static partial class ResultsStores
{
    /// <summary>The store's file name in a results folder: <c>&lt;out&gt;/store.sqlite</c>.</summary>
    public const string FileName = "store.sqlite";

    public const string PostgresNotYet = "PostgreSQL stores are not available yet (issue 15); use a SQLite file path";

    /// <summary>The default store of a results folder.</summary>
    public static string DefaultIn(string folder) => System.IO.Path.Combine(folder, FileName);

    /// <summary>Parses a store location; a location that names no usable store is a one-line <see cref="InitPruneException"/>.</summary>
    public static StoreLocation Parse(string? location, string option = "--store")
    {
        Artifacts.CheckPath(location, option);
        if (location!.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = location["sqlite:".Length..];
            if (string.IsNullOrWhiteSpace(path))
                throw new InitPruneException($"{option} '{location}' names no file: write sqlite:PATH, e.g. sqlite:results/store.sqlite");
            return new StoreLocation(StoreKind.Sqlite, path);
        }
        // A scheme has at least two characters, so a Windows drive letter (C:\...) stays a path.
        var scheme = Scheme().Match(location);
        if (scheme.Success)
        {
            var name = scheme.Groups[1].Value.ToLowerInvariant();
            if (name is "postgres" or "postgresql") throw new InitPruneException(PostgresNotYet);
            throw new InitPruneException($"{option} '{location.ReplaceLineEndings(" ")}': unknown store scheme '{name}:'; use a SQLite file path or sqlite:PATH (./NAME for a file whose name holds ':')");
        }
        return new StoreLocation(StoreKind.Sqlite, location);
    }

    /// <summary>
    /// Opens the store at <paramref name="location"/>, creating it when absent; with <paramref name="mustExist"/>, a
    /// store that is not there yet is a one-line error instead (reading commands never create an empty store).
    /// </summary>
    public static IResultsStore Open(string location, bool mustExist = false, string option = "--store")
    {
        var at = Parse(location, option);
        if (mustExist && !File.Exists(at.Path))
            throw new InitPruneException($"no results store at {at.Path}: run 'initprune sweep SPEC' first (or check {option})");
        return SqliteResultsStore.Open(at.Path);
    }

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]+):")]
    private static partial Regex Scheme();
}
