using InitPrune.Data;

namespace InitPrune.Tests.Data;

/// <summary>Sets INITPRUNE_DATA, HOME and the system data folder for a test, restoring them on dispose.</summary>
public sealed class DataEnvironment : IDisposable
{
    readonly string? env = Environment.GetEnvironmentVariable(DataRoot.EnvVar);
    readonly string? home = Environment.GetEnvironmentVariable("HOME");
    readonly string system = DataRoot.SystemFolder;

    public DataEnvironment(string? newDataEnv, string newHome, string newSystem)
    {
        Environment.SetEnvironmentVariable(DataRoot.EnvVar, newDataEnv);
        Environment.SetEnvironmentVariable("HOME", newHome);
        DataRoot.SystemFolder = newSystem;
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(DataRoot.EnvVar, env);
        Environment.SetEnvironmentVariable("HOME", home);
        DataRoot.SystemFolder = system;
    }
}
