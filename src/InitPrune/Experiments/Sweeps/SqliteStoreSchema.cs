using System.Globalization;
using InitPrune.Engine;
using Microsoft.Data.Sqlite;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// The tables of a <see cref="SqliteResultsStore"/> and the checks that a file is one. A store is marked by its
/// <c>application_id</c>; <c>user_version</c> is the schema version, so later versions can migrate older stores.
/// </summary>
static class SqliteStoreSchema
{
    /// <summary>"IPrS" in ASCII.</summary>
    public const int ApplicationId = 0x49507253;

    /// <summary>
    /// 1: the first release; 2: <c>runs.checkpoints_json</c>, the checkpoints a run may resume from; 3:
    /// <c>epochs.kept_fraction</c> and <c>epochs.lambda</c>, the figures of edge-popup epochs (stored with epoch numbers ≤ −1);
    /// 4: the table <c>jacobian</c>, ‖J‖ recorded during training (<c>train.jacobian_every</c>).
    /// </summary>
    public const int Version = 4;

    static readonly string Tables = StoreTables.All(StoreTables.Sqlite);

    /// <summary>
    /// The store's schema version (0 for a new, empty file); throws when the file is something else or was written
    /// by a newer schema. Reads only, so a foreign file is left untouched.
    /// </summary>
    public static long Check(SqliteConnection connection, SqliteTransaction? transaction, string path)
    {
        var applicationId = Scalar(connection, transaction, "PRAGMA application_id");
        var version = Scalar(connection, transaction, "PRAGMA user_version");
        var tables = Scalar(connection, transaction, "SELECT count(*) FROM sqlite_master");
        if (applicationId == 0 && version == 0 && tables == 0) return 0;
        if (applicationId != ApplicationId)
            throw NotAStore(path, applicationId == 0
                ? "a SQLite database of another program"
                : $"a SQLite database with application id 0x{applicationId.ToString("x8", CultureInfo.InvariantCulture)}");
        if (version > Version)
            throw new InitPruneException($"{path} was written by a newer InitPrune (store schema {version}, this one reads up to {Version}): upgrade InitPrune or pass another --store");
        if (version < 1)
            throw NotAStore(path, $"InitPrune's application id but schema version {version}");
        return version;
    }

    /// <summary>Creates the tables of a new store.</summary>
    public static void Create(SqliteConnection connection, SqliteTransaction transaction) =>
        Execute(connection, transaction, Tables + $"PRAGMA application_id = {ApplicationId}; PRAGMA user_version = {Version};");

    /// <summary>Brings a store of schema <paramref name="from"/> up to <see cref="Version"/>, keeping everything it holds.</summary>
    public static void Migrate(SqliteConnection connection, SqliteTransaction transaction, long from)
    {
        // 1 → 2: runs computed before have no recorded checkpoints (such a checkpoint is refused on resume).
        if (from < 2) Execute(connection, transaction, "ALTER TABLE runs ADD COLUMN checkpoints_json TEXT");
        // 2 → 3: epochs computed before are training epochs, without kept fraction or λ.
        if (from < 3) Execute(connection, transaction, "ALTER TABLE epochs ADD COLUMN kept_fraction REAL; ALTER TABLE epochs ADD COLUMN lambda REAL");
        // 3 → 4: runs computed before tracked no Jacobian.
        if (from < 4) Execute(connection, transaction, StoreTables.Jacobian(StoreTables.Sqlite));
        Execute(connection, transaction, $"PRAGMA user_version = {Version}");
    }

    public static InitPruneException NotAStore(string path, string why, Exception? inner = null) =>
        new($"{path} is not an InitPrune results store ({why}): pass another --store or delete it", inner: inner);

    static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    static long Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
