namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// The tables of a SQL results store, declared once for both stores: each names its column types (<see cref="Sqlite"/>:
/// times as ISO 8601 text; <see cref="Postgres"/>: timestamptz, double precision, bigint). What the columns hold is
/// <see cref="SqlResultsStore"/>'s business; the stores' schema classes add their own versioning and indexes.
/// </summary>
static class StoreTables
{
    /// <summary>The column types of a dialect: times, reals, 32-bit and 64-bit integers.</summary>
    public sealed record Types(string Time, string Real, string Int, string BigInt);

    public static readonly Types Sqlite = new("TEXT", "REAL", "INTEGER", "INTEGER");

    public static readonly Types Postgres = new("TIMESTAMPTZ", "DOUBLE PRECISION", "INTEGER", "BIGINT");

    /// <summary>Every table (sweeps, runs, sweep_runs with its order index, epochs, jacobian).</summary>
    public static string All(Types t) => $$"""
        CREATE TABLE sweeps(
            key TEXT PRIMARY KEY,
            description TEXT NOT NULL,
            reproduces TEXT NOT NULL,
            layout_json TEXT NOT NULL,
            notes_json TEXT NOT NULL,
            spec_text TEXT NOT NULL,
            registered_at {{t.Time}} NOT NULL,
            ordinal {{t.BigInt}} NOT NULL);
        CREATE TABLE runs(
            id TEXT PRIMARY KEY,
            config_json TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts {{t.Int}} NOT NULL DEFAULT 0,
            worker_host TEXT,
            worker_pid {{t.Int}},
            worker_started {{t.BigInt}},
            heartbeat_at {{t.Time}},
            claimed_at {{t.Time}},
            finished_at {{t.Time}},
            error TEXT,
            result_json TEXT,
            pruning_json TEXT,
            checkpoints_json TEXT);
        CREATE TABLE sweep_runs(
            sweep TEXT NOT NULL REFERENCES sweeps(key),
            run_id TEXT NOT NULL REFERENCES runs(id),
            label TEXT NOT NULL,
            coords_json TEXT NOT NULL,
            ordinal {{t.BigInt}} NOT NULL,
            PRIMARY KEY(sweep, run_id, label, coords_json));
        CREATE INDEX sweep_runs_order ON sweep_runs(sweep, ordinal);
        CREATE TABLE epochs(
            run_id TEXT NOT NULL REFERENCES runs(id),
            epoch {{t.Int}} NOT NULL,
            learning_rate {{t.Real}},
            train_loss {{t.Real}},
            test_loss {{t.Real}},
            test_accuracy {{t.Real}},
            seconds {{t.Real}},
            samples_per_second {{t.Real}},
            validation_loss {{t.Real}},
            validation_accuracy {{t.Real}},
            recorded_at {{t.Time}} NOT NULL,
            kept_fraction {{t.Real}},
            lambda {{t.Real}},
            PRIMARY KEY(run_id, epoch));
        """ + Jacobian(t);

    /// <summary>The table of recorded ‖J‖ (added by SQLite store schema 4).</summary>
    public static string Jacobian(Types t) => $$"""
        CREATE TABLE jacobian(
            run_id TEXT NOT NULL REFERENCES runs(id),
            step {{t.BigInt}} NOT NULL,
            epoch {{t.Int}} NOT NULL,
            norm {{t.Real}},
            std {{t.Real}},
            train_loss {{t.Real}},
            recorded_at {{t.Time}} NOT NULL,
            PRIMARY KEY(run_id, step));
        """;
}
