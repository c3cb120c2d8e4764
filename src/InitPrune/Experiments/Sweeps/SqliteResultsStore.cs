using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using InitPrune.Engine;
using InitPrune.Training;
using Microsoft.Data.Sqlite;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// The results store in one SQLite file, shared by the worker processes of a machine (or a shared disk with working
/// locks). WAL journal with <c>synchronous = NORMAL</c>: what a call has written survives a crash of the process.
/// Writes run in <c>BEGIN IMMEDIATE</c> transactions, so a claim's read and update are one step for all processes.
/// One instance holds one connection; its methods may be called from several threads.
/// </summary>
public sealed class SqliteResultsStore : IResultsStore
{
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
    };

    readonly SqliteConnection connection;
    readonly Lock gate = new();
    SqliteTransaction? transaction;

    SqliteResultsStore(string location, SqliteConnection connection)
    {
        Location = location;
        this.connection = connection;
    }

    public string Location { get; }

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

    public void Register(SweepInfo sweep, IReadOnlyList<SweepEntry> entries) => Write(() =>
    {
        var now = Now();
        Run("""
            INSERT INTO sweeps(key, description, reproduces, layout_json, notes_json, spec_text, registered_at, ordinal)
            VALUES($key, $description, $reproduces, $layout, $notes, $spec, $now, (SELECT coalesce(max(ordinal), -1) + 1 FROM sweeps))
            ON CONFLICT(key) DO UPDATE SET description = excluded.description, reproduces = excluded.reproduces,
                layout_json = excluded.layout_json, notes_json = excluded.notes_json, spec_text = excluded.spec_text
            """,
            ("$key", sweep.Key), ("$description", sweep.Description), ("$reproduces", sweep.Reproduces),
            ("$layout", JsonSerializer.Serialize(sweep.Layout, Json)), ("$notes", JsonSerializer.Serialize(sweep.Notes, Json)),
            ("$spec", sweep.SpecText), ("$now", now));
        var ordinal = Convert.ToInt64(Scalar("SELECT coalesce(max(ordinal), -1) + 1 FROM sweep_runs WHERE sweep = $sweep", ("$sweep", sweep.Key)), CultureInfo.InvariantCulture);
        foreach (var entry in entries)
        {
            var id = entry.Config.Id;
            Run("INSERT OR IGNORE INTO runs(id, config_json, status) VALUES($id, $config, 'pending')", ("$id", id), ("$config", entry.Config.ToJson()));
            var coordinates = new SortedDictionary<string, string>(entry.Coordinates.ToDictionary(), StringComparer.Ordinal);
            ordinal += Run("INSERT OR IGNORE INTO sweep_runs(sweep, run_id, label, coords_json, ordinal) VALUES($sweep, $id, $label, $coords, $ordinal)",
                ("$sweep", sweep.Key), ("$id", id), ("$label", entry.Label), ("$coords", JsonSerializer.Serialize(coordinates, Json)), ("$ordinal", ordinal));
        }
        return 0;
    });

    /// <summary>
    /// A run whose worker died this many times, the last time without finishing an epoch, is marked failed instead of
    /// being claimed again: it most likely crashes its worker (e.g. runs out of memory).
    /// </summary>
    public const int MaxCrashes = 3;

    public RunClaim? Claim(string sweep, WorkerInfo worker, TimeSpan lease) => Write(() =>
    {
        var now = DateTime.UtcNow;
        var alive = new Dictionary<WorkerInfo, bool>();
        var crashed = new List<(string Id, string Holder)>();
        string? chosen = null;
        string? config = null;
        using (var candidates = Command("""
            SELECT r.id, r.config_json, r.status, r.worker_host, r.worker_pid, r.worker_started, r.heartbeat_at, r.attempts,
                EXISTS(SELECT 1 FROM epochs e WHERE e.run_id = r.id AND e.recorded_at >= r.claimed_at)
            FROM runs r JOIN (SELECT run_id, min(ordinal) AS ordinal FROM sweep_runs WHERE sweep = $sweep GROUP BY run_id) s ON s.run_id = r.id
            WHERE r.status IN ('pending', 'running')
            ORDER BY s.ordinal
            """, ("$sweep", sweep)))
        using (var reader = candidates.ExecuteReader())
        {
            while (chosen is null && reader.Read())
            {
                var claimable = reader.GetString(2) == "pending";
                if (!claimable)
                {
                    var holder = reader.IsDBNull(3) ? null : new WorkerInfo(reader.GetString(3), reader.GetInt32(4), reader.GetInt64(5));
                    var heartbeat = reader.IsDBNull(6) ? (DateTime?)null : ParseTime(reader.GetString(6));
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
            Run("UPDATE runs SET status = 'failed', error = $error, finished_at = $now WHERE id = $id", ("$id", id), ("$now", Format(now)),
                ("$error", $"its worker stopped {MaxCrashes} times, the last time ({holder}) before finishing an epoch: it probably crashes it (e.g. out of memory); check its settings, then rerun it with --retry-failed"));
        if (chosen is null || config is null) return null;
        var stamp = Format(now);
        Run("""
            UPDATE runs SET status = 'running', attempts = attempts + 1, worker_host = $host, worker_pid = $pid, worker_started = $started,
                claimed_at = $now, heartbeat_at = $now, finished_at = NULL, error = NULL
            WHERE id = $id
            """, ("$host", worker.Host), ("$pid", worker.Pid), ("$started", worker.StartedTicks), ("$now", stamp), ("$id", chosen));
        var attempts = Convert.ToInt32(Scalar("SELECT attempts FROM runs WHERE id = $id", ("$id", chosen)), CultureInfo.InvariantCulture);
        return new RunClaim(chosen, RunConfig.FromJson(config), attempts);
    });

    /// <summary>Renews the claim's heartbeat; does nothing when the run is no longer claimed by <paramref name="worker"/>.</summary>
    public void Heartbeat(string runId, WorkerInfo worker) => Write(() =>
    {
        RequireRun(runId);
        return Run("""
            UPDATE runs SET heartbeat_at = $now
            WHERE id = $id AND status = 'running' AND worker_host = $host AND worker_pid = $pid AND worker_started = $started
            """, ("$now", Now()), ("$id", runId), ("$host", worker.Host), ("$pid", worker.Pid), ("$started", worker.StartedTicks));
    });

    public void RecordEpoch(string runId, EpochMetrics metrics) => Write(() =>
    {
        RequireRun(runId);
        return Run("""
            INSERT OR REPLACE INTO epochs(run_id, epoch, learning_rate, train_loss, test_loss, test_accuracy, seconds, samples_per_second,
                validation_loss, validation_accuracy, recorded_at, kept_fraction, lambda)
            VALUES($id, $epoch, $lr, $trainLoss, $testLoss, $testAccuracy, $seconds, $samplesPerSecond, $validationLoss, $validationAccuracy, $now, $kept, $lambda)
            """,
            ("$id", runId), ("$epoch", metrics.Epoch), ("$lr", metrics.LearningRate), ("$trainLoss", metrics.TrainLoss),
            ("$testLoss", metrics.TestLoss), ("$testAccuracy", metrics.TestAccuracy), ("$seconds", metrics.Seconds),
            ("$samplesPerSecond", metrics.SamplesPerSecond), ("$validationLoss", metrics.ValidationLoss),
            ("$validationAccuracy", metrics.ValidationAccuracy), ("$now", Now()), ("$kept", metrics.KeptFraction), ("$lambda", metrics.Lambda));
    });

    public void RecordJacobian(string runId, JacobianPoint point) => Write(() =>
    {
        RequireRun(runId);
        return Run("""
            INSERT OR REPLACE INTO jacobian(run_id, step, epoch, norm, std, train_loss, recorded_at)
            VALUES($id, $step, $epoch, $norm, $std, $trainLoss, $now)
            """,
            ("$id", runId), ("$step", point.Step), ("$epoch", point.Epoch), ("$norm", point.Norm), ("$std", point.Std),
            ("$trainLoss", point.TrainLoss), ("$now", Now()));
    });

    public IReadOnlyList<JacobianPoint> Jacobian(string runId) => Read(() =>
    {
        var list = new List<JacobianPoint>();
        using var command = Command("SELECT run_id, step, epoch, norm, std, train_loss FROM jacobian WHERE run_id = $id ORDER BY step", ("$id", runId));
        using var reader = command.ExecuteReader();
        while (reader.Read()) list.Add(ReadJacobian(reader));
        return list;
    });

    static JacobianPoint ReadJacobian(SqliteDataReader reader) =>
        new(reader.GetInt64(1), reader.GetInt32(2), Real(reader, 3), Real(reader, 4), Optional(reader, 5));

    public void RecordPruning(string runId, PruningRecord record) =>
        Update(runId, "pruning_json = $value", JsonSerializer.Serialize(record, Json));

    public void RecordCheckpoints(string runId, IReadOnlyList<CheckpointRecord> checkpoints) =>
        Update(runId, "checkpoints_json = $value", JsonSerializer.Serialize(checkpoints, Json));

    public IReadOnlyList<CheckpointRecord> Checkpoints(string runId) => Read(() =>
    {
        RequireRun(runId);
        return Scalar("SELECT checkpoints_json FROM runs WHERE id = $id", ("$id", runId)) is string json
            ? Deserialize<List<CheckpointRecord>>(json)
            : [];
    });

    public void Complete(string runId, RunResult result) =>
        Update(runId, "status = 'done', result_json = $value, error = NULL, finished_at = $now", JsonSerializer.Serialize(result, Json));

    public void Fail(string runId, string error) =>
        Update(runId, "status = 'failed', error = $value, finished_at = $now", error);

    public int ResetFailed(string sweep) => Write(() => Run("""
        UPDATE runs SET status = 'pending', error = NULL, finished_at = NULL
        WHERE status = 'failed' AND id IN (SELECT run_id FROM sweep_runs WHERE sweep = $sweep)
        """, ("$sweep", sweep)));

    public IReadOnlyList<EpochMetrics> Epochs(string runId) => Read(() =>
    {
        var list = new List<EpochMetrics>();
        using var command = Command("""
            SELECT run_id, epoch, learning_rate, train_loss, test_loss, test_accuracy, seconds, samples_per_second, validation_loss, validation_accuracy,
                kept_fraction, lambda
            FROM epochs WHERE run_id = $id ORDER BY epoch
            """, ("$id", runId));
        using var reader = command.ExecuteReader();
        while (reader.Read())
            list.Add(new EpochMetrics(reader.GetInt32(1), Real(reader, 2), Real(reader, 3), Real(reader, 4), Optional(reader, 5),
                Real(reader, 6), Real(reader, 7), Optional(reader, 8), Optional(reader, 9), Optional(reader, 10), Optional(reader, 11)));
        return list;
    });

    public IReadOnlyList<StoredRun> Load(string? sweep = null) => Read(() =>
    {
        var filter = sweep is null ? "" : "WHERE sr.sweep = $sweep";
        var parameter = ("$sweep", (object?)sweep);
        var order = new List<string>();
        var entries = new Dictionary<string, List<(string, string, IReadOnlyDictionary<string, string>)>>();
        using (var command = Command($"""
            SELECT sr.sweep, sr.run_id, sr.label, sr.coords_json FROM sweep_runs sr JOIN sweeps s ON s.key = sr.sweep
            {filter} ORDER BY s.ordinal, sr.ordinal
            """, parameter))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var id = reader.GetString(1);
                if (!entries.TryGetValue(id, out var list))
                {
                    entries[id] = list = [];
                    order.Add(id);
                }
                list.Add((reader.GetString(0), reader.GetString(2), Deserialize<Dictionary<string, string>>(reader.GetString(3))));
            }
        }

        var runs = sweep is null ? "SELECT id FROM runs" : "SELECT run_id FROM sweep_runs sr " + filter;
        var epochs = new Dictionary<string, List<EpochMetrics>>();
        using (var command = Command($"""
            SELECT run_id, epoch, learning_rate, train_loss, test_loss, test_accuracy, seconds, samples_per_second, validation_loss, validation_accuracy,
                kept_fraction, lambda
            FROM epochs WHERE run_id IN ({runs}) ORDER BY run_id, epoch
            """, parameter))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var id = reader.GetString(0);
                if (!epochs.TryGetValue(id, out var list)) epochs[id] = list = [];
                list.Add(new EpochMetrics(reader.GetInt32(1), Real(reader, 2), Real(reader, 3), Real(reader, 4), Optional(reader, 5),
                    Real(reader, 6), Real(reader, 7), Optional(reader, 8), Optional(reader, 9), Optional(reader, 10), Optional(reader, 11)));
            }
        }

        var jacobian = new Dictionary<string, List<JacobianPoint>>();
        using (var command = Command($"SELECT run_id, step, epoch, norm, std, train_loss FROM jacobian WHERE run_id IN ({runs}) ORDER BY run_id, step", parameter))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var id = reader.GetString(0);
                if (!jacobian.TryGetValue(id, out var list)) jacobian[id] = list = [];
                list.Add(ReadJacobian(reader));
            }
        }

        var stored = new Dictionary<string, StoredRun>();
        using (var command = Command($"""
            SELECT id, config_json, status, attempts, worker_host, worker_pid, error, pruning_json, result_json
            FROM runs WHERE id IN ({runs}) ORDER BY rowid
            """, parameter))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var id = reader.GetString(0);
                stored[id] = new StoredRun(id, RunConfig.FromJson(reader.GetString(1)),
                    Enum.Parse<RunStatus>(reader.GetString(2), ignoreCase: true), reader.GetInt32(3),
                    reader.IsDBNull(4) ? null : $"{reader.GetString(4)}:{reader.GetInt32(5)}",
                    reader.IsDBNull(6) ? null : reader.GetString(6),
                    epochs.TryGetValue(id, out var e) ? e : [],
                    reader.IsDBNull(7) ? null : Deserialize<PruningRecord>(reader.GetString(7)),
                    reader.IsDBNull(8) ? null : Deserialize<RunResult>(reader.GetString(8)),
                    entries.TryGetValue(id, out var l) ? l : [],
                    jacobian.TryGetValue(id, out var j) ? j : []);
                if (!entries.ContainsKey(id)) order.Add(id);
            }
        }
        return order.Select(id => stored[id]).ToList();
    });

    public IReadOnlyList<SweepInfo> Sweeps() => Read(() =>
    {
        var sweeps = new List<SweepInfo>();
        using var command = Command("SELECT key, description, reproduces, layout_json, notes_json, spec_text FROM sweeps ORDER BY ordinal");
        using var reader = command.ExecuteReader();
        while (reader.Read())
            sweeps.Add(new SweepInfo(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                Deserialize<ReportLayout>(reader.GetString(3)), Deserialize<List<string>>(reader.GetString(4)), reader.GetString(5)));
        return sweeps;
    });

    public void Dispose()
    {
        lock (gate) connection.Dispose();
    }

    void Update(string runId, string assignments, string value) => Write(() =>
    {
        RequireRun(runId);
        return Run($"UPDATE runs SET {assignments} WHERE id = $id", ("$id", runId), ("$value", value), ("$now", Now()));
    });

    void RequireRun(string runId)
    {
        if (Scalar("SELECT 1 FROM runs WHERE id = $id", ("$id", runId)) is null)
            throw new InvalidOperationException($"run {runId} is not in the results store {Location}");
    }

    const int SqliteCorrupt = 11;
    const int SqliteNotADatabase = 26;

    /// <summary>The one-line error for a store whose pages are damaged (a disk fault, a copy taken mid-write, an edit).</summary>
    static InitPruneException Corrupt(string path, SqliteException e) =>
        new($"store {path} is corrupt ({(e.SqliteErrorCode == SqliteCorrupt ? "database disk image is malformed" : "file is not a database")}); " +
            "move it aside and rerun the sweep (finished runs are computed again), or restore a backup", inner: e);

    /// <summary>Runs <paramref name="body"/> in a write transaction (BEGIN IMMEDIATE: waits for other writers, then holds the write lock).</summary>
    T Write<T>(Func<T> body) => InTransaction(deferred: false, body);

    /// <summary>Runs <paramref name="body"/> in a read transaction: one consistent snapshot, not blocking writers.</summary>
    T Read<T>(Func<T> body) => InTransaction(deferred: true, body);

    T InTransaction<T>(bool deferred, Func<T> body)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(connection.State != System.Data.ConnectionState.Open, this);
            try
            {
                using var t = connection.BeginTransaction(deferred);
                transaction = t;
                var result = body();
                t.Commit();
                return result;
            }
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
            {
                throw Corrupt(Location, e);
            }
            finally
            {
                transaction = null;
            }
        }
    }

    SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value is null or double.NaN ? DBNull.Value : value);
        return command;
    }

    int Run(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        return command.ExecuteNonQuery();
    }

    object? Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        return command.ExecuteScalar();
    }

    static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Json) ?? throw new InitPruneException("the results store holds an empty record: the store is corrupt, delete it or pass another --store");

    /// <summary>SQLite has no NaN, so NaN is stored as NULL; a non-optional figure read back as NULL was NaN (e.g. a diverged loss).</summary>
    static double Real(SqliteDataReader reader, int column) => reader.IsDBNull(column) ? double.NaN : reader.GetDouble(column);

    static double? Optional(SqliteDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetDouble(column);

    static string Now() => Format(DateTime.UtcNow);

    static string Format(DateTime utc) => utc.ToString("O", CultureInfo.InvariantCulture);

    static DateTime ParseTime(string text) => DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
