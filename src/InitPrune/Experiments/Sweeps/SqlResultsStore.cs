using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using InitPrune.Engine;
using InitPrune.Training;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// What the SQL stores share: the same tables (<see cref="SqliteStoreSchema"/>, <see cref="PostgresStoreSchema"/>), the
/// same statements (named <c>@parameters</c>, <c>ON CONFLICT</c> upserts) and the same records as JSON text. A store
/// supplies its transactions, its clock and how it claims runs; <see cref="Dump"/> and <see cref="Restore"/> copy rows
/// unchanged between stores (<c>initprune store export|import</c>).
/// </summary>
public abstract class SqlResultsStore : IResultsStore
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
    };

    /// <summary>
    /// A run whose worker died this many times, the last time without finishing an epoch, is marked failed instead of
    /// being claimed again: it most likely crashes its worker (e.g. runs out of memory).
    /// </summary>
    public const int MaxCrashes = 3;

    protected const string CrashedError = "its worker stopped {0} times, the last time ({1}) before finishing an epoch: it probably crashes it (e.g. out of memory); check its settings, then rerun it with --retry-failed";

    public abstract string Location { get; }

    /// <summary>Runs <paramref name="body"/> in a transaction that may write; other writers wait or retry as the store needs.</summary>
    protected abstract T Write<T>(Func<Sql, T> body);

    /// <summary>Runs <paramref name="body"/> in a transaction that reads one consistent snapshot.</summary>
    protected abstract T Read<T>(Func<Sql, T> body);

    /// <summary>A time as this store's columns hold it.</summary>
    protected abstract object TimeValue(DateTime utc);

    /// <summary>A time column read back (UTC).</summary>
    protected abstract DateTime ReadTime(DbDataReader reader, int column);

    /// <summary>The SQL for "now" in writes (SQLite: the <c>@now</c> parameter; PostgreSQL: the server's clock).</summary>
    protected abstract string NowSql { get; }

    public abstract RunClaim? Claim(string sweep, WorkerInfo worker, TimeSpan lease);

    public abstract void Heartbeat(string runId, WorkerInfo worker);

    public abstract void Dispose();

    /// <summary>Holds off other registrations until the transaction ends (a no-op where writers are serialized anyway).</summary>
    protected virtual void LockRegistration(Sql db)
    {
    }

    public void Register(SweepInfo sweep, IReadOnlyList<SweepEntry> entries) => Write(db =>
    {
        LockRegistration(db);
        db.Run("""
            INSERT INTO sweeps(key, description, reproduces, layout_json, notes_json, spec_text, registered_at, ordinal)
            VALUES(@key, @description, @reproduces, @layout, @notes, @spec, @now, (SELECT coalesce(max(ordinal), -1) + 1 FROM sweeps))
            ON CONFLICT(key) DO UPDATE SET description = excluded.description, reproduces = excluded.reproduces,
                layout_json = excluded.layout_json, notes_json = excluded.notes_json, spec_text = excluded.spec_text
            """,
            ("key", sweep.Key), ("description", sweep.Description), ("reproduces", sweep.Reproduces),
            ("layout", JsonSerializer.Serialize(sweep.Layout, Json)), ("notes", JsonSerializer.Serialize(sweep.Notes, Json)),
            ("spec", sweep.SpecText), ("now", DateTime.UtcNow));
        var ordinal = Convert.ToInt64(db.Scalar("SELECT coalesce(max(ordinal), -1) + 1 FROM sweep_runs WHERE sweep = @sweep", ("sweep", sweep.Key)), CultureInfo.InvariantCulture);
        foreach (var entry in entries)
        {
            var id = entry.Config.Id;
            db.Run("INSERT INTO runs(id, config_json, status) VALUES(@id, @config, 'pending') ON CONFLICT DO NOTHING", ("id", id), ("config", entry.Config.ToJson()));
            var coordinates = new SortedDictionary<string, string>(entry.Coordinates.ToDictionary(), StringComparer.Ordinal);
            ordinal += db.Run("INSERT INTO sweep_runs(sweep, run_id, label, coords_json, ordinal) VALUES(@sweep, @id, @label, @coords, @ordinal) ON CONFLICT DO NOTHING",
                ("sweep", sweep.Key), ("id", id), ("label", entry.Label), ("coords", JsonSerializer.Serialize(coordinates, Json)), ("ordinal", ordinal));
        }
        return 0;
    });

    public void Release(string runId, WorkerInfo worker) => Write(db =>
    {
        RequireRun(db, runId);
        return db.Run("""
            UPDATE runs SET status = 'pending', worker_host = NULL, worker_pid = NULL, worker_started = NULL, heartbeat_at = NULL
            WHERE id = @id AND status = 'running' AND worker_host = @host AND worker_pid = @pid AND worker_started = @started
            """, ("id", runId), ("host", worker.Host), ("pid", worker.Pid), ("started", worker.StartedTicks));
    });

    public void RecordEpoch(string runId, EpochMetrics metrics) => Write(db =>
    {
        RequireRun(db, runId);
        return db.Run($"""
            INSERT INTO epochs(run_id, epoch, learning_rate, train_loss, test_loss, test_accuracy, seconds, samples_per_second,
                validation_loss, validation_accuracy, recorded_at, kept_fraction, lambda)
            VALUES(@id, @epoch, @lr, @trainLoss, @testLoss, @testAccuracy, @seconds, @samplesPerSecond, @validationLoss, @validationAccuracy, {NowSql}, @kept, @lambda)
            ON CONFLICT(run_id, epoch) DO UPDATE SET learning_rate = excluded.learning_rate, train_loss = excluded.train_loss,
                test_loss = excluded.test_loss, test_accuracy = excluded.test_accuracy, seconds = excluded.seconds,
                samples_per_second = excluded.samples_per_second, validation_loss = excluded.validation_loss,
                validation_accuracy = excluded.validation_accuracy, recorded_at = excluded.recorded_at,
                kept_fraction = excluded.kept_fraction, lambda = excluded.lambda
            """,
            ("id", runId), ("epoch", metrics.Epoch), ("lr", metrics.LearningRate), ("trainLoss", metrics.TrainLoss),
            ("testLoss", metrics.TestLoss), ("testAccuracy", metrics.TestAccuracy), ("seconds", metrics.Seconds),
            ("samplesPerSecond", metrics.SamplesPerSecond), ("validationLoss", metrics.ValidationLoss),
            ("validationAccuracy", metrics.ValidationAccuracy), ("now", DateTime.UtcNow), ("kept", metrics.KeptFraction), ("lambda", metrics.Lambda));
    });

    public void RecordJacobian(string runId, JacobianPoint point) => Write(db =>
    {
        RequireRun(db, runId);
        return db.Run($"""
            INSERT INTO jacobian(run_id, step, epoch, norm, std, train_loss, recorded_at)
            VALUES(@id, @step, @epoch, @norm, @std, @trainLoss, {NowSql})
            ON CONFLICT(run_id, step) DO UPDATE SET epoch = excluded.epoch, norm = excluded.norm, std = excluded.std,
                train_loss = excluded.train_loss, recorded_at = excluded.recorded_at
            """,
            ("id", runId), ("step", point.Step), ("epoch", point.Epoch), ("norm", point.Norm), ("std", point.Std),
            ("trainLoss", point.TrainLoss), ("now", DateTime.UtcNow));
    });

    const string EpochColumns = "run_id, epoch, learning_rate, train_loss, test_loss, test_accuracy, seconds, samples_per_second, validation_loss, validation_accuracy, kept_fraction, lambda";

    static EpochMetrics ReadEpoch(DbDataReader reader) =>
        new(reader.GetInt32(1), Real(reader, 2), Real(reader, 3), Real(reader, 4), Optional(reader, 5),
            Real(reader, 6), Real(reader, 7), Optional(reader, 8), Optional(reader, 9), Optional(reader, 10), Optional(reader, 11));

    const string JacobianColumns = "run_id, step, epoch, norm, std, train_loss";

    static JacobianPoint ReadJacobian(DbDataReader reader) =>
        new(reader.GetInt64(1), reader.GetInt32(2), Real(reader, 3), Real(reader, 4), Optional(reader, 5));

    public IReadOnlyList<JacobianPoint> Jacobian(string runId) =>
        Read(db => db.List($"SELECT {JacobianColumns} FROM jacobian WHERE run_id = @id ORDER BY step", ReadJacobian, ("id", runId)));

    public IReadOnlyList<EpochMetrics> Epochs(string runId) =>
        Read(db => db.List($"SELECT {EpochColumns} FROM epochs WHERE run_id = @id ORDER BY epoch", ReadEpoch, ("id", runId)));

    public void RecordPruning(string runId, PruningRecord record) =>
        Update(runId, "pruning_json = @value", JsonSerializer.Serialize(record, Json));

    public void RecordCheckpoints(string runId, IReadOnlyList<CheckpointRecord> checkpoints) =>
        Update(runId, "checkpoints_json = @value", JsonSerializer.Serialize(checkpoints, Json));

    public IReadOnlyList<CheckpointRecord> Checkpoints(string runId) => Read(db =>
    {
        RequireRun(db, runId);
        return db.Scalar("SELECT checkpoints_json FROM runs WHERE id = @id", ("id", runId)) is string json
            ? Deserialize<List<CheckpointRecord>>(json)
            : [];
    });

    public void Complete(string runId, RunResult result) =>
        Update(runId, $"status = 'done', result_json = @value, error = NULL, finished_at = {NowSql}", JsonSerializer.Serialize(result, Json));

    public void Fail(string runId, string error) =>
        Update(runId, $"status = 'failed', error = @value, finished_at = {NowSql}", error);

    public int ResetFailed(string sweep) => Write(db => db.Run("""
        UPDATE runs SET status = 'pending', error = NULL, finished_at = NULL
        WHERE status = 'failed' AND id IN (SELECT run_id FROM sweep_runs WHERE sweep = @sweep)
        """, ("sweep", sweep)));

    public IReadOnlyList<StoredRun> Load(string? sweep = null) => Read(db =>
    {
        var filter = sweep is null ? "" : "WHERE sr.sweep = @sweep";
        var parameter = ("sweep", (object?)sweep);
        var order = new List<string>();
        var entries = new Dictionary<string, List<(string, string, IReadOnlyDictionary<string, string>)>>();
        foreach (var (s, id, label, coords) in db.List($"""
            SELECT sr.sweep, sr.run_id, sr.label, sr.coords_json FROM sweep_runs sr JOIN sweeps s ON s.key = sr.sweep
            {filter} ORDER BY s.ordinal, sr.ordinal
            """, r => (r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)), parameter))
        {
            if (!entries.TryGetValue(id, out var list))
            {
                entries[id] = list = [];
                order.Add(id);
            }
            list.Add((s, label, Deserialize<Dictionary<string, string>>(coords)));
        }

        var runs = sweep is null ? "SELECT id FROM runs" : "SELECT run_id FROM sweep_runs sr " + filter;
        var epochs = db.List($"SELECT {EpochColumns} FROM epochs WHERE run_id IN ({runs}) ORDER BY run_id, epoch", r => (Id: r.GetString(0), Epoch: ReadEpoch(r)), parameter)
            .GroupBy(e => e.Id).ToDictionary(g => g.Key, g => g.Select(e => e.Epoch).ToList());
        var jacobian = db.List($"SELECT {JacobianColumns} FROM jacobian WHERE run_id IN ({runs}) ORDER BY run_id, step", r => (Id: r.GetString(0), Point: ReadJacobian(r)), parameter)
            .GroupBy(e => e.Id).ToDictionary(g => g.Key, g => g.Select(e => e.Point).ToList());

        var stored = new Dictionary<string, StoredRun>();
        foreach (var run in db.List($"""
            SELECT id, config_json, status, attempts, worker_host, worker_pid, error, pruning_json, result_json, heartbeat_at
            FROM runs WHERE id IN ({runs}) ORDER BY id
            """, r =>
            {
                var id = r.GetString(0);
                return new StoredRun(id, RunConfig.FromJson(r.GetString(1)),
                    Enum.Parse<RunStatus>(r.GetString(2), ignoreCase: true), r.GetInt32(3),
                    r.IsDBNull(4) ? null : $"{r.GetString(4)}:{r.GetInt32(5)}",
                    r.IsDBNull(6) ? null : r.GetString(6),
                    epochs.TryGetValue(id, out var e) ? e : [],
                    r.IsDBNull(7) ? null : Deserialize<PruningRecord>(r.GetString(7)),
                    r.IsDBNull(8) ? null : Deserialize<RunResult>(r.GetString(8)),
                    entries.TryGetValue(id, out var l) ? l : [],
                    jacobian.TryGetValue(id, out var j) ? j : [],
                    Time(r, 9));
            }, parameter))
        {
            stored[run.Id] = run;
            if (!entries.ContainsKey(run.Id)) order.Add(run.Id);
        }
        return order.Select(id => stored[id]).ToList();
    });

    public IReadOnlyList<SweepInfo> Sweeps() => Read(db => db.List(
        "SELECT key, description, reproduces, layout_json, notes_json, spec_text FROM sweeps ORDER BY ordinal",
        r => new SweepInfo(r.GetString(0), r.GetString(1), r.GetString(2),
            Deserialize<ReportLayout>(r.GetString(3)), Deserialize<List<string>>(r.GetString(4)), r.GetString(5))));

    const string SweepRowColumns = "key, description, reproduces, layout_json, notes_json, spec_text, registered_at";
    const string RunRowColumns = "id, config_json, status, attempts, worker_host, worker_pid, worker_started, heartbeat_at, claimed_at, finished_at, error, result_json, pruning_json, checkpoints_json";
    const string SweepRunRowColumns = "sweep, run_id, label, coords_json, ordinal";
    const string EpochRowColumns = EpochColumns + ", recorded_at";
    const string JacobianRowColumns = JacobianColumns + ", recorded_at";

    public StoreDump Dump(IReadOnlyCollection<string>? sweeps = null) => Read(db =>
    {
        var keys = sweeps ?? db.List("SELECT key FROM sweeps ORDER BY ordinal", r => r.GetString(0));
        var sweepRows = new List<SweepRow>();
        var links = new List<SweepRunRow>();
        foreach (var key in keys)
        {
            var row = db.List($"SELECT {SweepRowColumns} FROM sweeps WHERE key = @key", r => new SweepRow(r.GetString(0), r.GetString(1), r.GetString(2),
                r.GetString(3), r.GetString(4), r.GetString(5), ReadTime(r, 6)), ("key", key));
            if (row.Count == 0) throw new InitPruneException($"the store {Location} holds no sweep '{key}'; its sweeps: {string.Join(", ", db.List("SELECT key FROM sweeps ORDER BY ordinal", r => r.GetString(0)).DefaultIfEmpty("none"))}");
            sweepRows.Add(row[0]);
            links.AddRange(db.List($"SELECT {SweepRunRowColumns} FROM sweep_runs WHERE sweep = @key ORDER BY ordinal, run_id, label, coords_json",
                r => new SweepRunRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4)), ("key", key)));
        }
        var runIds = links.Select(l => l.RunId).Distinct().Order(StringComparer.Ordinal).ToList();
        var runs = new List<RunRow>();
        var epochs = new List<EpochRow>();
        var jacobian = new List<JacobianRow>();
        foreach (var id in runIds)
        {
            runs.AddRange(RunRows(db, id));
            epochs.AddRange(db.List($"SELECT {EpochRowColumns} FROM epochs WHERE run_id = @id ORDER BY epoch", r => new EpochRow(r.GetString(0), r.GetInt32(1),
                Optional(r, 2), Optional(r, 3), Optional(r, 4), Optional(r, 5), Optional(r, 6), Optional(r, 7), Optional(r, 8), Optional(r, 9),
                Optional(r, 10), Optional(r, 11), ReadTime(r, 12)), ("id", id)));
            jacobian.AddRange(db.List($"SELECT {JacobianRowColumns} FROM jacobian WHERE run_id = @id ORDER BY step", r => new JacobianRow(r.GetString(0), r.GetInt64(1),
                r.GetInt32(2), Optional(r, 3), Optional(r, 4), Optional(r, 5), ReadTime(r, 6)), ("id", id)));
        }
        return new StoreDump(sweepRows, runs, links, epochs, jacobian);
    });

    /// <summary>The row of run <paramref name="id"/> as stored (none when the store does not hold it).</summary>
    List<RunRow> RunRows(Sql db, string id) => db.List($"SELECT {RunRowColumns} FROM runs WHERE id = @id", r => new RunRow(r.GetString(0), r.GetString(1),
        r.GetString(2), r.GetInt32(3), Text(r, 4), r.IsDBNull(5) ? null : r.GetInt32(5), r.IsDBNull(6) ? null : r.GetInt64(6), Time(r, 7), Time(r, 8),
        Time(r, 9), Text(r, 10), Text(r, 11), Text(r, 12), Text(r, 13)), ("id", id));

    DateTime? Time(DbDataReader r, int column) => r.IsDBNull(column) ? null : ReadTime(r, column);

    static string? Text(DbDataReader r, int column) => r.IsDBNull(column) ? null : r.GetString(column);

    public int Restore(StoreDump dump) => Write(db =>
    {
        LockRegistration(db);
        foreach (var s in dump.Sweeps)
            if (db.Scalar("SELECT 1 FROM sweeps WHERE key = @key", ("key", s.Key)) is not null)
                throw new InitPruneException($"the store {Location} already holds sweep '{s.Key}': import into another store, or delete the sweep there first");
        var existing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var run in dump.Runs)
        {
            var here = RunRows(db, run.Id);
            if (here.Count == 0) continue;
            if (here[0] with { HeartbeatAt = null, ClaimedAt = null, FinishedAt = null } != run with { HeartbeatAt = null, ClaimedAt = null, FinishedAt = null })
                throw new InitPruneException($"the store {Location} already holds run {run.Id} ({here[0].Status}) with other results than the one imported ({run.Status}): import into another store");
            existing.Add(run.Id);
        }
        foreach (var s in dump.Sweeps)
            db.Run("""
                INSERT INTO sweeps(key, description, reproduces, layout_json, notes_json, spec_text, registered_at, ordinal)
                VALUES(@key, @description, @reproduces, @layout, @notes, @spec, @at, (SELECT coalesce(max(ordinal), -1) + 1 FROM sweeps))
                """, ("key", s.Key), ("description", s.Description), ("reproduces", s.Reproduces), ("layout", s.LayoutJson), ("notes", s.NotesJson),
                ("spec", s.SpecText), ("at", s.RegisteredAt));
        foreach (var r in dump.Runs.Where(r => !existing.Contains(r.Id)))
            db.Run($"INSERT INTO runs({RunRowColumns}) VALUES(@id, @config, @status, @attempts, @host, @pid, @started, @heartbeat, @claimed, @finished, @error, @result, @pruning, @checkpoints)",
                ("id", r.Id), ("config", r.ConfigJson), ("status", r.Status), ("attempts", r.Attempts), ("host", r.WorkerHost), ("pid", r.WorkerPid),
                ("started", r.WorkerStarted), ("heartbeat", r.HeartbeatAt), ("claimed", r.ClaimedAt), ("finished", r.FinishedAt), ("error", r.Error),
                ("result", r.ResultJson), ("pruning", r.PruningJson), ("checkpoints", r.CheckpointsJson));
        foreach (var l in dump.SweepRuns)
            db.Run($"INSERT INTO sweep_runs({SweepRunRowColumns}) VALUES(@sweep, @id, @label, @coords, @ordinal)",
                ("sweep", l.Sweep), ("id", l.RunId), ("label", l.Label), ("coords", l.CoordsJson), ("ordinal", l.Ordinal));
        foreach (var e in dump.Epochs.Where(e => !existing.Contains(e.RunId)))
            db.Run($"INSERT INTO epochs({EpochRowColumns}) VALUES(@id, @epoch, @lr, @trainLoss, @testLoss, @testAccuracy, @seconds, @sps, @validationLoss, @validationAccuracy, @kept, @lambda, @at)",
                ("id", e.RunId), ("epoch", e.Epoch), ("lr", e.LearningRate), ("trainLoss", e.TrainLoss), ("testLoss", e.TestLoss), ("testAccuracy", e.TestAccuracy),
                ("seconds", e.Seconds), ("sps", e.SamplesPerSecond), ("validationLoss", e.ValidationLoss), ("validationAccuracy", e.ValidationAccuracy),
                ("kept", e.KeptFraction), ("lambda", e.Lambda), ("at", e.RecordedAt));
        foreach (var j in dump.Jacobian.Where(j => !existing.Contains(j.RunId)))
            db.Run($"INSERT INTO jacobian({JacobianRowColumns}) VALUES(@id, @step, @epoch, @norm, @std, @trainLoss, @at)",
                ("id", j.RunId), ("step", j.Step), ("epoch", j.Epoch), ("norm", j.Norm), ("std", j.Std), ("trainLoss", j.TrainLoss), ("at", j.RecordedAt));
        return existing.Count;
    });

    void Update(string runId, string assignments, string value) => Write(db =>
    {
        RequireRun(db, runId);
        return db.Run($"UPDATE runs SET {assignments} WHERE id = @id", ("id", runId), ("value", value), ("now", DateTime.UtcNow));
    });

    protected void RequireRun(Sql db, string runId)
    {
        if (db.Scalar("SELECT 1 FROM runs WHERE id = @id", ("id", runId)) is null)
            throw new InvalidOperationException($"run {runId} is not in the results store {Location}");
    }

    protected static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Json) ?? throw new InitPruneException("the results store holds an empty record: the store is corrupt, delete it or pass another --store");

    /// <summary>NaN is stored as NULL (SQLite has no NaN); a non-optional figure read back as NULL was NaN (e.g. a diverged loss).</summary>
    static double Real(DbDataReader reader, int column) => reader.IsDBNull(column) ? double.NaN : reader.GetDouble(column);

    static double? Optional(DbDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetDouble(column);

    /// <summary>One transaction of a store: commands with named parameters (null and NaN become NULL, times the store's own).</summary>
    protected sealed class Sql(SqlResultsStore store, DbConnection connection, DbTransaction transaction)
    {
        public DbCommand Command(string sql, params (string Name, object? Value)[] parameters)
        {
            var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                // A parameter the statement does not use is left out (e.g. @now where the store's clock is the server's).
                if (!sql.Contains("@" + name, StringComparison.Ordinal)) continue;
                var p = command.CreateParameter();
                p.ParameterName = name;
                p.Value = value switch
                {
                    null or double.NaN => DBNull.Value,
                    DateTime t => store.TimeValue(t),
                    _ => value,
                };
                command.Parameters.Add(p);
            }
            return command;
        }

        public int Run(string sql, params (string Name, object? Value)[] parameters)
        {
            using var command = Command(sql, parameters);
            return command.ExecuteNonQuery();
        }

        public object? Scalar(string sql, params (string Name, object? Value)[] parameters)
        {
            using var command = Command(sql, parameters);
            var value = command.ExecuteScalar();
            return value is DBNull ? null : value;
        }

        public List<T> List<T>(string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] parameters)
        {
            using var command = Command(sql, parameters);
            using var reader = command.ExecuteReader();
            var list = new List<T>();
            while (reader.Read()) list.Add(read(reader));
            return list;
        }
    }

    protected Sql Transaction(DbConnection connection, DbTransaction transaction) => new(this, connection, transaction);
}

/// <summary>
/// The rows of a results store as stored (records as JSON text, times in UTC, NULL for NaN): what
/// <c>initprune store export|import</c> copies between SQLite and PostgreSQL without changing a byte of a record.
/// </summary>
public sealed record StoreDump(
    IReadOnlyList<SweepRow> Sweeps,
    IReadOnlyList<RunRow> Runs,
    IReadOnlyList<SweepRunRow> SweepRuns,
    IReadOnlyList<EpochRow> Epochs,
    IReadOnlyList<JacobianRow> Jacobian);

public sealed record SweepRow(string Key, string Description, string Reproduces, string LayoutJson, string NotesJson, string SpecText, DateTime RegisteredAt);

public sealed record RunRow(
    string Id, string ConfigJson, string Status, int Attempts, string? WorkerHost, int? WorkerPid, long? WorkerStarted,
    DateTime? HeartbeatAt, DateTime? ClaimedAt, DateTime? FinishedAt, string? Error, string? ResultJson, string? PruningJson, string? CheckpointsJson);

public sealed record SweepRunRow(string Sweep, string RunId, string Label, string CoordsJson, long Ordinal);

public sealed record EpochRow(
    string RunId, int Epoch, double? LearningRate, double? TrainLoss, double? TestLoss, double? TestAccuracy, double? Seconds,
    double? SamplesPerSecond, double? ValidationLoss, double? ValidationAccuracy, double? KeptFraction, double? Lambda, DateTime RecordedAt);

public sealed record JacobianRow(string RunId, long Step, int Epoch, double? Norm, double? Std, double? TrainLoss, DateTime RecordedAt);
