using System.Text.RegularExpressions;
using InitPrune.Engine;

namespace InitPrune.Experiments.Sweeps;

/// <summary>The kinds of results store a location can name.</summary>
public enum StoreKind { Sqlite, Postgres }

/// <summary>
/// A results store location as parsed: its kind and, for SQLite, the file (<see cref="Path"/> as given); for PostgreSQL
/// <see cref="Path"/> is the Npgsql connection string (never with a password) and <see cref="Display"/> its
/// <c>postgres://user@host:port/database</c> form.
/// </summary>
public sealed record StoreLocation(StoreKind Kind, string Path, string? Given = null)
{
    /// <summary>The location for messages: a SQLite file's full path, or the PostgreSQL URL (no password).</summary>
    public string Display => Kind == StoreKind.Sqlite ? System.IO.Path.GetFullPath(Path) : ResultsStores.Describe(Path);

    /// <summary>The location as another process in another folder reads it (a worker): <c>sqlite:</c> and the full path, or the PostgreSQL location as given.</summary>
    public string Absolute => Kind == StoreKind.Sqlite ? "sqlite:" + Display : Given ?? Path;
}

/// <summary>
/// The one place results stores are created, from a location as given to <c>--store</c>: a file path or
/// <c>sqlite:PATH</c> is a SQLite file; a PostgreSQL URL (<c>postgres://user@host[:port]/database[?sslmode=…]</c>,
/// <c>postgresql://…</c>) or an Npgsql connection string (<c>Host=…;Username=…;Database=…</c>) is a PostgreSQL database,
/// its password taken from <c>PGPASSWORD</c> or <c>~/.pgpass</c> (a password in the location is refused: command lines
/// are visible to every user of a machine); any other <c>scheme:</c> is refused. Files (checkpoints, final weights, reports)
/// never live "beside the store": they go under an artefact folder of their own (<see cref="SweepFolders"/>).
/// </summary>
public static partial class ResultsStores
{
    /// <summary>The store's file name in a results folder: <c>&lt;out&gt;/store.sqlite</c>.</summary>
    public const string FileName = "store.sqlite";

    /// <summary>The default store of a results folder.</summary>
    public static string DefaultIn(string folder) => System.IO.Path.Combine(folder, FileName);

    /// <summary>Parses a store location; a location that names no usable store is a one-line <see cref="InitPruneException"/>.</summary>
    public static StoreLocation Parse(string? location, string option = "--store")
    {
        if (location is not null && ConnectionString().IsMatch(location)) return new StoreLocation(StoreKind.Postgres, Postgres(location, option, url: false), location);
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
            if (name is "postgres" or "postgresql") return new StoreLocation(StoreKind.Postgres, Postgres(location, option, url: true), location);
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
        if (at.Kind == StoreKind.Postgres) return PostgresResultsStore.Open(at.Path, at.Display);
        if (mustExist && !File.Exists(at.Path))
            throw new InitPruneException($"no results store at {at.Path}: run 'initprune sweep SPEC' first (or check {option})");
        return SqliteResultsStore.Open(at.Path);
    }

    /// <summary>The Npgsql connection string of a PostgreSQL URL or connection string; a one-line error when it is malformed or holds a password.</summary>
    static string Postgres(string location, string option, bool url)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder();
        try
        {
            if (url) FromUrl(location, builder);
            else builder.ConnectionString = location;
        }
        catch (ArgumentException e)
        {
            throw new InitPruneException($"{option}: the PostgreSQL location is malformed ({e.Message.ReplaceLineEndings(" ")}); write postgres://user@host[:port]/database or Host=…;Username=…;Database=…", inner: e);
        }
        if (!string.IsNullOrEmpty(builder.Password))
            throw new InitPruneException($"{option}: the PostgreSQL location holds a password; put it in PGPASSWORD or ~/.pgpass instead (command lines are visible to every user of the machine)");
        if (string.IsNullOrEmpty(builder.Database))
            throw new InitPruneException($"{option} names no database: write postgres://user@host[:port]/database");
        return builder.ConnectionString;
    }

    /// <summary>libpq's URL form: <c>postgres://[user@]host[:port]/database[?param=value&amp;…]</c>, percent-encoded; a socket folder as <c>?host=/run/postgresql</c>.</summary>
    static void FromUrl(string location, Npgsql.NpgsqlConnectionStringBuilder builder)
    {
        var rest = location[(location.IndexOf("://", StringComparison.Ordinal) is var i and >= 0 ? i + 3 : throw new ArgumentException("no '//' after the scheme"))..];
        var q = rest.IndexOf('?');
        var query = q >= 0 ? rest[(q + 1)..] : "";
        if (q >= 0) rest = rest[..q];
        var slash = rest.IndexOf('/');
        var authority = slash >= 0 ? rest[..slash] : rest;
        builder.Database = slash >= 0 ? Uri.UnescapeDataString(rest[(slash + 1)..]) : null;
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var user = authority[..at];
            var colon = user.IndexOf(':');
            builder.Username = Uri.UnescapeDataString(colon >= 0 ? user[..colon] : user);
            if (colon >= 0) builder.Password = Uri.UnescapeDataString(user[(colon + 1)..]);
            authority = authority[(at + 1)..];
        }
        var port = authority.LastIndexOf(':');
        if (port >= 0 && !authority.EndsWith(']'))
        {
            builder.Port = int.TryParse(authority[(port + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536
                ? p : throw new ArgumentException($"port '{authority[(port + 1)..]}' is not a port number");
            authority = authority[..port];
        }
        if (authority.Length > 0) builder.Host = Uri.UnescapeDataString(authority.Trim('[', ']'));
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var (key, value) = eq >= 0 ? (pair[..eq], Uri.UnescapeDataString(pair[(eq + 1)..])) : (pair, "");
            switch (key)
            {
                case "host": builder.Host = value; break;
                case "sslmode": builder.SslMode = Enum.TryParse<Npgsql.SslMode>(value.Replace("-", ""), ignoreCase: true, out var m) ? m : throw new ArgumentException($"sslmode '{value}' is unknown"); break;
                case "connect_timeout": builder.Timeout = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "application_name": builder.ApplicationName = value; break;
                default: throw new ArgumentException($"parameter '{key}' is not supported (host, sslmode, connect_timeout, application_name are)");
            }
        }
        if (string.IsNullOrEmpty(builder.Host)) builder.Host = "localhost";
    }

    /// <summary>A connection string as <c>postgres://user@host:port/database</c>, for messages (never the password).</summary>
    public static string Describe(string connectionString)
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var host = b.Host ?? "localhost";
        return $"postgres://{(string.IsNullOrEmpty(b.Username) ? "" : Uri.EscapeDataString(b.Username) + "@")}{(host.StartsWith('/') ? Uri.EscapeDataString(host) : host)}:{b.Port}/{Uri.EscapeDataString(b.Database ?? "")}";
    }

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]+):")]
    private static partial Regex Scheme();

    /// <summary>An Npgsql connection string: starts with a <c>key=</c> of its own (Host, Server, Database, …).</summary>
    [GeneratedRegex(@"^\s*(Host|Server|Database|Username|User ID|Port)\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex ConnectionString();
}
