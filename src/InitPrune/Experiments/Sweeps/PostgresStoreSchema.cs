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
        StoreTables.All(StoreTables.Postgres) + """
            CREATE INDEX runs_status ON runs(status);
            CREATE INDEX sweep_runs_run ON sweep_runs(run_id);
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
