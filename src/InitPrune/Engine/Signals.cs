using System.Runtime.InteropServices;

namespace InitPrune.Engine;

/// <summary>POSIX signals .NET cannot send itself: SIGTERM to another process (Process.Kill sends SIGKILL).</summary>
public static partial class Signals
{
    const int SIGTERM = 15;

    /// <summary>Asks process <paramref name="pid"/> to stop (SIGTERM); false when it is gone or the signal is refused.</summary>
    public static bool Terminate(int pid) => OperatingSystem.IsWindows() ? false : Kill(pid, SIGTERM) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
