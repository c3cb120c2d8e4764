using System.Globalization;
using InitPrune.Engine;
using Npgsql;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// The tables of a <see cref="PostgresResultsStore"/>: SQLite's (<see cref="SqliteStoreSchema"/>) in a PostgreSQL
/// schema of their own (<see cref="Namespace"/>, so they share a database with anything), with PostgreSQL's types
/// (timestamptz, double precision). The program creates and migrates them; <c>migrations</c> lists every schema
/// version applied (version, when, by which InitPrune), and a database migrated by a newer InitPrune is refused.
/// </summary>
static class PostgresStoreSchema
{
    /// <summary>The PostgreSQL schema (namespace) holding the tables.</summary>
    public const string Namespace = "initprune";

    /// <summary>1: the tables of SQLite store schema 4 (runs, sweeps, epochs with edge-popup figures, ‖J‖, checkpoints).</summary>
    public const int Version = 1;

    /// <summary>Held while the tables are created or migrated, so that workers starting together create them once.</summary>
    const long SchemaLock = 0x49507253;

    static readonly string[] Migrations =
    [
        """
        CREATE TABLE sweeps(
            key TEXT PRIMARY KEY,
            description TEXT NOT NULL,
            reproduces TEXT NOT NULL,
            layout_json TEXT NOT NULL,
            notes_json TEXT NOT NULL,
            spec_text TEXT NOT NULL,
            registered_at TIMESTAMPTZ NOT NULL,
            ordinal BIGINT NOT NULL);
        CREATE TABLE runs(
            id TEXT PRIMARY KEY,
            config_json TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            worker_host TEXT,
            worker_pid INTEGER,
            worker_started BIGINT,
            heartbeat_at TIMESTAMPTZ,
            claimed_at TIMESTAMPTZ,
            finished_at TIMESTAMPTZ,
            error TEXT,
            result_json TEXT,
            pruning_json TEXT,
            checkpoints_json TEXT);
        CREATE INDEX runs_status ON runs(status);
        CREATE TABLE sweep_runs(
            sweep TEXT NOT NULL REFERENCES sweeps(key),
            run_id TEXT NOT NULL REFERENCES runs(id),
            label TEXT NOT NULL,
            coords_json TEXT NOT NULL,
            ordinal BIGINT NOT NULL,
            PRIMARY KEY(sweep, run_id, label, coords_json));
        CREATE INDEX sweep_runs_order ON sweep_runs(sweep, ordinal);
        CREATE INDEX sweep_runs_run ON sweep_runs(run_id);
        CREATE TABLE epochs(
            run_id TEXT NOT NULL REFERENCES runs(id),
            epoch INTEGER NOT NULL,
            learning_rate DOUBLE PRECISION,
            train_loss DOUBLE PRECISION,
            test_loss DOUBLE PRECISION,
            test_accuracy DOUBLE PRECISION,
            seconds DOUBLE PRECISION,
            samples_per_second DOUBLE PRECISION,
            validation_loss DOUBLE PRECISION,
            validation_accuracy DOUBLE PRECISION,
            recorded_at TIMESTAMPTZ NOT NULL,
            kept_fraction DOUBLE PRECISION,
            lambda DOUBLE PRECISION,
            PRIMARY KEY(run_id, epoch));
        CREATE TABLE jacobian(
            run_id TEXT NOT NULL REFERENCES runs(id),
            step BIGINT NOT NULL,
            epoch INTEGER NOT NULL,
            norm DOUBLE PRECISION,
            std DOUBLE PRECISION,
            train_loss DOUBLE PRECISION,
            recorded_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY(run_id, step));
        """,
    ];

    /// <summary>
    /// Creates the schema and brings its tables to <see cref="Version"/> (under an advisory lock); refuses a database
    /// migrated past it. Returns the version found before (0 for a new store).
    /// </summary>
    public static int Prepare(NpgsqlConnection connection, string location)
    {
        using var t = connection.BeginTransaction();
        Execute(connection, t, $"SELECT pg_advisory_xact_lock({SchemaLock})");
        Execute(connection, t, $"""
            CREATE SCHEMA IF NOT EXISTS {Namespace};
            CREATE TABLE IF NOT EXISTS {Namespace}.migrations(
                version INTEGER PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
                program TEXT NOT NULL)
            """);
        using (var command = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {Namespace}.migrations", connection, t))
        {
            var found = Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (found > Version)
                throw new InitPruneException($"the PostgreSQL store {location} was migrated by a newer InitPrune (store schema {found}, this one reads up to {Version}): upgrade InitPrune or pass another --store");
            for (int v = found + 1; v <= Version; v++)
            {
                Execute(connection, t, $"SET LOCAL search_path TO {Namespace}; " + Migrations[v - 1]);
                using var record = new NpgsqlCommand($"INSERT INTO {Namespace}.migrations(version, program) VALUES(@version, @program)", connection, t);
                record.Parameters.AddWithValue("version", v);
                record.Parameters.AddWithValue("program", $"InitPrune {typeof(PostgresStoreSchema).Assembly.GetName().Version}");
                record.ExecuteNonQuery();
            }
            t.Commit();
            return found;
        }
    }

    static void Execute(NpgsqlConnection connection, NpgsqlTransaction t, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, t);
        command.ExecuteNonQuery();
    }
}
