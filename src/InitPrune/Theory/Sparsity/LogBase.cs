namespace InitPrune.Theory;

/// <summary>
/// Which logarithm a formula's "log" is read with. The seeds write "log" without a base; seed 001's worked
/// example of Theorem 1 only comes out with base 10, so calculators offer both.
/// </summary>
public enum LogBase { Natural, Ten }

internal static class LogBaseExtensions
{
    public static double Log(this LogBase b, double x) => b == LogBase.Ten ? Math.Log10(x) : Math.Log(x);

    public static string Label(this LogBase b) => b == LogBase.Ten ? "log10" : "ln";
}
