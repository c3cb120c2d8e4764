using System.Globalization;
using System.Data.Common;
using InitPrune.Engine;
using Microsoft.Data.Sqlite;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// The results store in one SQLite file, shared by the worker processes of a machine (or a shared disk with working
/// locks). WAL journal with <c>synchronous = NORMAL</c>: what a call has written survives a crash of the process.
/// Writes run in <c>BEGIN IMMEDIATE</c> transactions, so a claim's read and update are one step for all processes.
/// One instance holds one connection; its methods may be called from several threads.
/// </summary>
public sealed class SqliteResultsStore : SqlResultsStore
{
    readonly SqliteConnection connection;
    readonly Lock gate = new();

    SqliteResultsStore(string location, SqliteConnection connection)
    {
        Location = location;
        this.connection = connection;
    }

    public override string Location { get; }

    /// <summary>Opens the store at <paramref name="path"/>, creating the folder, the file and the tables when absent.</summary>
    public static SqliteResultsStore Open(string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw SqliteStoreSchema.NotAStore(path, "it is a folder");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InitPruneException($"cannot create the folder of the results store {path}: {e.Message.ReplaceLineEndings(" ")}; choose another --out or --store", inner: e);
        }
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA busy_timeout = 30000");
            SqliteStoreSchema.Check(connection, null, path);
            Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
            using (var create = connection.BeginTransaction(deferred: false))
            {
                var version = SqliteStoreSchema.Check(connection, create, path);
                if (version == 0) SqliteStoreSchema.Create(connection, create);
                else if (version < SqliteStoreSchema.Version) SqliteStoreSchema.Migrate(connection, create, version);
                create.Commit();
            }
            return new SqliteResultsStore(path, connection);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteCorrupt)
        {
            connection.Dispose();
            throw Corrupt(path, e);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteNotADatabase)
        {
            connection.Dispose();
            throw SqliteStoreSchema.NotAStore(path, "not a SQLite database", e);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new InitPruneException($"cannot open the results store {path} ({e.Message.ReplaceLineEndings(" ")}): check the path and its permissions, or pass another --store", inner: e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public override RunClaim? Claim(string sweep, WorkerInfo worker, TimeSpan lease) => Write(db =>
    {
        var now = DateTime.UtcNow;
        var alive = new Dictionary<WorkerInfo, bool>();
        var crashed = new List<(string Id, string Holder)>();
        string? chosen = null;
        string? config = null;
        using (var candidates = db.Command("""
            SELECT r.id, r.config_json, r.status, r.worker_host, r.worker_pid, r.worker_started, r.heartbeat_at, r.attempts,
                EXISTS(SELECT 1 FROM epochs e WHERE e.run_id = r.id AND e.recorded_at >= r.claimed_at)
            FROM runs r JOIN (SELECT run_id, min(ordinal) AS ordinal FROM sweep_runs WHERE sweep = @sweep GROUP BY run_id) s ON s.run_id = r.id
            WHERE r.status IN ('pending', 'running')
            ORDER BY s.ordinal
            """, ("sweep", sweep)))
        using (var reader = candidates.ExecuteReader())
        {
            while (chosen is null && reader.Read())
            {
                var claimable = reader.GetString(2) == "pending";
                if (!claimable)
                {
                    var holder = reader.IsDBNull(3) ? null : new WorkerInfo(reader.GetString(3), reader.GetInt32(4), reader.GetInt64(5));
                    var heartbeat = reader.IsDBNull(6) ? (DateTime?)null : ReadTime(reader, 6);
                    claimable = holder is null || heartbeat is null || now - heartbeat.Value > lease
                        || !(alive.TryGetValue(holder, out var known) ? known : alive[holder] = holder.IsAlive());
                    if (claimable && reader.GetInt32(7) >= MaxCrashes && reader.GetInt64(8) == 0)
                    {
                        crashed.Add((reader.GetString(0), holder?.ToString() ?? "unknown"));
                        claimable = false;
                    }
                }
                if (claimable) (chosen, config) = (reader.GetString(0), reader.GetString(1));
            }
        }
        foreach (var (id, holder) in crashed)
            db.Run("UPDATE runs SET status = 'failed', error = @error, finished_at = @now WHERE id = @id", ("id", id), ("now", now),
                ("error", string.Format(CultureInfo.InvariantCulture, CrashedError, MaxCrashes, holder)));
        if (chosen is null || config is null) return null;
        db.Run("""
            UPDATE runs SET status = 'running', attempts = attempts + 1, worker_host = @host, worker_pid = @pid, worker_started = @started,
                claimed_at = @now, heartbeat_at = @now, finished_at = NULL, error = NULL
            WHERE id = @id
            """, ("host", worker.Host), ("pid", worker.Pid), ("started", worker.StartedTicks), ("now", now), ("id", chosen));
        var attempts = Convert.ToInt32(db.Scalar("SELECT attempts FROM runs WHERE id = @id", ("id", chosen)), CultureInfo.InvariantCulture);
        return new RunClaim(chosen, RunConfig.FromJson(config), attempts);
    });

    /// <summary>Renews the claim's heartbeat; does nothing when the run is no longer claimed by <paramref name="worker"/>.</summary>
    public override void Heartbeat(string runId, WorkerInfo worker) => Write(db =>
    {
        RequireRun(db, runId);
        return db.Run("""
            UPDATE runs SET heartbeat_at = @now
            WHERE id = @id AND status = 'running' AND worker_host = @host AND worker_pid = @pid AND worker_started = @started
            """, ("now", DateTime.UtcNow), ("id", runId), ("host", worker.Host), ("pid", worker.Pid), ("started", worker.StartedTicks));
    });

    public override void Dispose()
    {
        lock (gate) connection.Dispose();
    }

    const int SqliteCorrupt = 11;
    const int SqliteNotADatabase = 26;

    /// <summary>The one-line error for a store whose pages are damaged (a disk fault, a copy taken mid-write, an edit).</summary>
    static InitPruneException Corrupt(string path, SqliteException e) =>
        new($"store {path} is corrupt ({(e.SqliteErrorCode == SqliteCorrupt ? "database disk image is malformed" : "file is not a database")}); " +
            "move it aside and rerun the sweep (finished runs are computed again), or restore a backup", inner: e);

    /// <summary>A write transaction (BEGIN IMMEDIATE: waits for other writers, then holds the write lock).</summary>
    protected override T Write<T>(Func<Sql, T> body) => InTransaction(deferred: false, body);

    /// <summary>A read transaction: one consistent snapshot, not blocking writers.</summary>
    protected override T Read<T>(Func<Sql, T> body) => InTransaction(deferred: true, body);

    T InTransaction<T>(bool deferred, Func<Sql, T> body)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(connection.State != System.Data.ConnectionState.Open, this);
            try
            {
                using var t = connection.BeginTransaction(deferred);
                var result = body(Transaction(connection, t));
                t.Commit();
                return result;
            }
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
            {
                throw Corrupt(Location, e);
            }
        }
    }

    protected override string NowSql => "@now";

    /// <summary>Times are ISO 8601 text in UTC, to the microsecond (what PostgreSQL keeps, so a store export loses nothing).</summary>
    protected override object TimeValue(DateTime utc) =>
        new DateTime(utc.Ticks - utc.Ticks % 10, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture);

    protected override DateTime ReadTime(DbDataReader reader, int column) =>
        DateTime.Parse(reader.GetString(column), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).ToUniversalTime();

    static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
