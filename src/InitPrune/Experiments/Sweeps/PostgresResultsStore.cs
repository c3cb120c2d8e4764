using System.Data.Common;
using System.Globalization;
using InitPrune.Engine;
using Npgsql;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// The results store in a PostgreSQL database, shared by workers on many machines (a Slurm array's tasks). Same
/// tables and semantics as <see cref="SqliteResultsStore"/>; times come from the server's clock, so heartbeats are
/// compared on one clock whatever the workers' clocks say. A claim takes the first pending run with
/// <c>FOR UPDATE SKIP LOCKED</c> (workers never wait on each other's claims); a run whose worker died or whose heartbeat
/// is older than the lease is taken over first, by a conditional update that only one worker can win. Each call
/// borrows a pooled connection, so an instance may be used from several threads.
/// </summary>
public sealed class PostgresResultsStore : SqlResultsStore
{
    readonly NpgsqlDataSource source;

    PostgresResultsStore(string location, NpgsqlDataSource source)
    {
        Location = location;
        this.source = source;
    }

    /// <summary>The database as the messages name it (user, host, port, database; never the password).</summary>
    public override string Location { get; }

    /// <summary>
    /// Opens the store in the database <paramref name="connectionString"/> names (an Npgsql connection string without a
    /// password: it comes from <c>PGPASSWORD</c> or <c>~/.pgpass</c>), creating or migrating its tables.
    /// </summary>
    public static PostgresResultsStore Open(string connectionString, string location)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            SearchPath = PostgresStoreSchema.Namespace,
            ApplicationName = "initprune",
        };
        var source = NpgsqlDataSource.Create(builder);
        try
        {
            using (var connection = Connect(source, location))
                PostgresStoreSchema.Prepare(connection, location);
            return new PostgresResultsStore(location, source);
        }
        catch (Exception e) when (e is NpgsqlException && e is not PostgresException { SqlState: "28P01" or "28000" or "3D000" })
        {
            source.Dispose();
            throw new InitPruneException($"cannot open the PostgreSQL store {location} ({OneLine(e)}); check the server and the --store location", inner: e);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    static NpgsqlConnection Connect(NpgsqlDataSource source, string location)
    {
        try
        {
            return source.OpenConnection();
        }
        catch (PostgresException e) when (e.SqlState is "28P01" or "28000")
        {
            throw new InitPruneException($"PostgreSQL refused the login to {location} ({OneLine(e)}): set PGPASSWORD or add the password to ~/.pgpass (never to --store), or check the user", inner: e);
        }
        catch (PostgresException e) when (e.SqlState == "3D000")
        {
            throw new InitPruneException($"the database of {location} does not exist: create it (createdb NAME) or fix the --store location", inner: e);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new InitPruneException($"cannot reach the PostgreSQL server of {location} ({OneLine(e)}): check that it runs and the host and port", inner: e);
        }
    }

    static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");

    public override RunClaim? Claim(string sweep, WorkerInfo worker, TimeSpan lease) => Write(db =>
    {
        // Runs held by a worker that died (same host) or went silent for longer than the lease: taken over first.
        var held = db.List("""
            SELECT r.id, r.worker_host, r.worker_pid, r.worker_started, r.attempts,
                r.heartbeat_at IS NULL OR clock_timestamp() - r.heartbeat_at > @lease,
                EXISTS(SELECT 1 FROM epochs e WHERE e.run_id = r.id AND e.recorded_at >= r.claimed_at),
                (SELECT min(s.ordinal) FROM sweep_runs s WHERE s.sweep = @sweep AND s.run_id = r.id) AS ordinal
            FROM runs r
            WHERE r.status = 'running' AND EXISTS(SELECT 1 FROM sweep_runs s WHERE s.sweep = @sweep AND s.run_id = r.id)
            ORDER BY ordinal
            """, r => (Id: r.GetString(0), Holder: r.IsDBNull(1) ? null : new WorkerInfo(r.GetString(1), r.GetInt32(2), r.GetInt64(3)),
                Attempts: r.GetInt32(4), Stale: r.GetBoolean(5), Progressed: r.GetBoolean(6)),
            ("sweep", sweep), ("lease", lease));
        foreach (var run in held)
        {
            bool dead = run.Holder is null || !run.Holder.IsAlive();
            if (!dead && !run.Stale) continue;
            // Only if nobody took it over or renewed its heartbeat since it was read.
            var unchanged = "id = @id AND status = 'running' AND attempts = @attempts" +
                (dead ? "" : " AND (heartbeat_at IS NULL OR clock_timestamp() - heartbeat_at > @lease)");
            if (run.Attempts >= MaxCrashes && !run.Progressed)
            {
                db.Run($"UPDATE runs SET status = 'failed', error = @error, finished_at = clock_timestamp() WHERE {unchanged}",
                    ("id", run.Id), ("attempts", run.Attempts), ("lease", lease),
                    ("error", string.Format(CultureInfo.InvariantCulture, CrashedError, MaxCrashes, run.Holder?.ToString() ?? "unknown")));
                continue;
            }
            var taken = TakeOver(db, worker, unchanged, ("id", run.Id), ("attempts", run.Attempts), ("lease", lease));
            if (taken is not null) return taken;
        }
        return TakeOver(db, worker, """
            id = (SELECT r.id FROM sweep_runs s JOIN runs r ON r.id = s.run_id
                  WHERE s.sweep = @sweep AND r.status = 'pending'
                  ORDER BY s.ordinal LIMIT 1
                  FOR UPDATE OF r SKIP LOCKED)
            """, ("sweep", sweep));
    });

    static RunClaim? TakeOver(Sql db, WorkerInfo worker, string where, params (string, object?)[] parameters)
    {
        var claimed = db.List($"""
            UPDATE runs SET status = 'running', attempts = attempts + 1, worker_host = @host, worker_pid = @pid, worker_started = @started,
                claimed_at = clock_timestamp(), heartbeat_at = clock_timestamp(), finished_at = NULL, error = NULL
            WHERE {where}
            RETURNING id, config_json, attempts
            """, r => new RunClaim(r.GetString(0), RunConfig.FromJson(r.GetString(1)), r.GetInt32(2)),
            [("host", worker.Host), ("pid", worker.Pid), ("started", worker.StartedTicks), .. parameters]);
        return claimed.Count == 0 ? null : claimed[0];
    }

    /// <summary>Renews the claim's heartbeat; does nothing when the run is no longer claimed by <paramref name="worker"/>.</summary>
    public override void Heartbeat(string runId, WorkerInfo worker) => Write(db =>
    {
        RequireRun(db, runId);
        return db.Run("""
            UPDATE runs SET heartbeat_at = clock_timestamp()
            WHERE id = @id AND status = 'running' AND worker_host = @host AND worker_pid = @pid AND worker_started = @started
            """, ("id", runId), ("host", worker.Host), ("pid", worker.Pid), ("started", worker.StartedTicks));
    });

    protected override void LockRegistration(Sql db) => db.Scalar("SELECT pg_advisory_xact_lock(@key)", ("key", RegistrationLock));

    const long RegistrationLock = 0x49507254;

    protected override T Write<T>(Func<Sql, T> body) => InTransaction(body);

    /// <summary>Reads run in a repeatable-read transaction: one snapshot for the several queries of <see cref="SqlResultsStore.Load"/>.</summary>
    protected override T Read<T>(Func<Sql, T> body) => InTransaction(body, System.Data.IsolationLevel.RepeatableRead);

    /// <summary>How long a call keeps retrying while the server is unreachable (a restart, a failover, a network blip).</summary>
    public static readonly TimeSpan RetryFor = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs <paramref name="body"/> in a transaction, again on a fresh connection when the server dropped it or was
    /// briefly away (transient errors: a killed backend, a restart, a deadlock); every call of the store is safe to redo.
    /// </summary>
    T InTransaction<T>(Func<Sql, T> body, System.Data.IsolationLevel isolation = System.Data.IsolationLevel.ReadCommitted)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var wait = TimeSpan.FromMilliseconds(100); ; wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks)))
        {
            try
            {
                using var connection = source.OpenConnection();
                try
                {
                    using var t = connection.BeginTransaction(isolation);
                    var result = body(Transaction(connection, t));
                    t.Commit();
                    return result;
                }
                catch (NpgsqlException e) when (e.IsTransient)
                {
                    // The pool's other idle connections to a restarted server are dead as well.
                    NpgsqlConnection.ClearPool(connection);
                    throw;
                }
            }
            catch (Exception e) when (e is NpgsqlException { IsTransient: true } or TimeoutException && clock.Elapsed + wait < RetryFor)
            {
                Thread.Sleep(wait);
            }
            catch (Exception e) when (e is NpgsqlException { IsTransient: true } or NpgsqlException and not PostgresException or TimeoutException)
            {
                throw new InitPruneException($"lost the connection to the PostgreSQL store {Location} for {RetryFor.TotalSeconds:0} s ({OneLine(e)}); rerun the command when the server is back (nothing finished is lost)", inner: e);
            }
        }
    }

    protected override string NowSql => "clock_timestamp()";

    protected override object TimeValue(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Utc);

    protected override DateTime ReadTime(DbDataReader reader, int column) => reader.GetFieldValue<DateTime>(column);

    public override void Dispose() => source.Dispose();
}
