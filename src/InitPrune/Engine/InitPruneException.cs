namespace InitPrune.Engine;

/// <summary>
/// A problem the user can fix (bad file, bad hyper-parameter, divergence). Its message is one line that
/// says what is wrong and what to do; the CLI prints it without a stack trace and exits with <see cref="ExitCode"/>.
/// </summary>
public class InitPruneException(string message, int exitCode = 2, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Training produced a NaN or infinite loss.</summary>
public sealed class DivergenceException(string message) : InitPruneException(message, exitCode: 3);
