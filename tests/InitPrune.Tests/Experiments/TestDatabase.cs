using InitPrune.Experiments.Sweeps;
using Npgsql;

namespace InitPrune.Tests.Experiments;

/// <summary>
/// A throwaway PostgreSQL database for one test, created on the server <see cref="Variable"/> names and dropped
/// (with its connections) after. <c>./test</c> starts Debian's PostgreSQL and sets the variable; without it a test that
/// needs the server fails saying so.
/// </summary>
public sealed class TestDatabase : IDisposable
{
    /// <summary>A PostgreSQL location whose user may create databases (password in PGPASSWORD), e.g. postgres://initprune_test@127.0.0.1/initprune_test.</summary>
    public const string Variable = "INITPRUNE_TEST_POSTGRES";

    readonly string server;

    public TestDatabase()
    {
        var given = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(given))
            throw new InvalidOperationException($"this test needs a PostgreSQL server and {Variable} is not set: run ./test, which starts Debian's postgresql " +
                $"(pg_ctlcluster 15 main start) and sets it, or set {Variable}=postgres://USER@HOST/DB for a server where USER may create databases (password in PGPASSWORD)");
        server = ResultsStores.Parse(given).Path;
        Name = "initprune_t_" + Guid.NewGuid().ToString("N")[..20];
        try
        {
            Execute($"CREATE DATABASE {Name}");
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException($"this test needs the PostgreSQL server {Variable}={given} and could not create a database there ({e.Message}): " +
                "run ./test, which starts Debian's postgresql, or check the server", e);
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = Name }.ConnectionString;
        Location = ResultsStores.Describe(ConnectionString);
    }

    /// <summary>The database's name.</summary>
    public string Name { get; }

    /// <summary>Its Npgsql connection string (no password).</summary>
    public string ConnectionString { get; }

    /// <summary>Its <c>postgres://user@host:port/name</c> location, as <c>--store</c> takes it.</summary>
    public string Location { get; }

    /// <summary>Runs SQL in this database (as the test user), e.g. to look at or tamper with the store's tables.</summary>
    public void Run(string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row of a query in this database.</summary>
    public object? Scalar(string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar();
    }

    void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    public void Dispose() => Execute($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
}
