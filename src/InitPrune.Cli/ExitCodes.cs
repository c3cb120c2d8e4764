namespace InitPrune.Cli;

/// <summary>The exit codes of <c>initprune</c> (docs/specs.md, "Exit codes").</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Bad input or usage, or a file or folder that cannot be used (missing, corrupt, read-only, full disk, too little memory).</summary>
    public const int BadInput = 2;

    /// <summary>Training diverged (NaN or infinite loss); the epochs before it are kept.</summary>
    public const int Diverged = 3;

    /// <summary>A sweep finished, but some of its runs failed (each with its reason); <c>--retry-failed</c> reruns them.</summary>
    public const int FailedRuns = 4;

    /// <summary>A sweep finished what it could; the runs left are being computed by another live sweep on the same store.</summary>
    public const int HeldByAnotherSweep = 5;

    /// <summary>A numerical check failed: <c>plant</c>'s planted ticket misses its bound ε (the artefacts are written).</summary>
    public const int CheckFailed = 6;

    /// <summary>A sweep was asked to stop (SIGTERM: Slurm's preemption, scancel, kill) and gave its runs back after their checkpoints; rerun it to resume.</summary>
    public const int Stopped = 7;

    /// <summary>An unexpected internal error (a bug): one line, and the stack trace with INITPRUNE_DEBUG=1.</summary>
    public const int Internal = 70;

    /// <summary>
    /// A sweep's code: failed runs first (they need --retry-failed), then a crashed worker process (its runs are left
    /// for the next run of the command), then runs held by another live sweep (rerun later to report them).
    /// </summary>
    public static int ForSweep(int failed, int pending, bool workersCrashed) =>
        failed > 0 ? FailedRuns : workersCrashed && pending > 0 ? Internal : pending > 0 ? HeldByAnotherSweep : Ok;
}
