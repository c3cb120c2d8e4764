using System.CommandLine;
using InitPrune.Engine;
using InitPrune.Pruning;
using InitPrune.Tickets;
using InitPrune.Training;
using Spectre.Console;

namespace InitPrune.Cli;

/// <summary>Printing: tables, progress, JSON, and the one-line errors.</summary>
internal static class Output
{
    /// <summary>Runs a command body: a user error becomes one line on stderr and its exit code, never a stack trace.</summary>
    /// <param name="device">The command's --device option; null for commands that compute no tensors (they stay on the CPU).</param>
    public static int Guard(ParseResult r, Option<string>? device, Func<int> body)
    {
        try
        {
            if (device is not null) Compute.Use(r.GetValue(device)!);
            return body();
        }
        catch (InitPruneException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (Memory.IsOutOfMemory(e) && Environment.GetEnvironmentVariable("INITPRUNE_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: out of memory: {Memory.OutOfMemoryLine(e)}; use a smaller model, batch or sweep");
            return ExitCodes.BadInput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && Environment.GetEnvironmentVariable("INITPRUNE_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: {Memory.NativeFirstLine(e.Message)}; check the path, its permissions and the free disk space");
            return ExitCodes.BadInput;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("INITPRUNE_DEBUG") is null)
        {
            var inner = e is TypeInitializationException { InnerException: { } i } ? i : e;
            Console.Error.WriteLine($"error: {inner.GetType().Name}: {Memory.NativeFirstLine(inner.Message)} (set INITPRUNE_DEBUG=1 for the stack trace)");
            return ExitCodes.Internal;
        }
    }

    /// <summary>Where human-readable text goes: stdout, or stderr when stdout carries JSON.</summary>
    public static IAnsiConsole Human(bool json)
    {
        var console = json ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : AnsiConsole.Console;
        bool redirected = json ? Console.IsErrorRedirected : Console.IsOutputRedirected;
        if (redirected) console.Profile.Width = 400; // logs: one line per record, never wrapped at 80 columns
        return console;
    }

    public static bool Interactive(bool json) => !json && !Console.IsOutputRedirected && !Console.IsErrorRedirected;

    public static void Json<T>(T value) => Console.Out.WriteLine(Artifacts.ToJson(value));

    public static void LayerTable(IAnsiConsole console, IEnumerable<LayerReport> layers)
    {
        var t = new Table().AddColumns("layer", "kept", "total", "kept %");
        foreach (var l in layers)
            t.AddRow(Markup.Escape(l.Name), l.Kept.ToString("N0"), l.Total.ToString("N0"), $"{100 * l.KeptFraction:0.00}");
        console.Write(t);
    }

    public static void Warn(IAnsiConsole console, string line) => console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(line)}");

    /// <summary>One line per epoch, under 80 columns: epoch 3/10 lr 0.05 loss 0.3761 test 0.4012 88.1% 1,498/s 5.2s (training loss, then test loss and accuracy).</summary>
    public static string EpochLine(EpochMetrics m, int epochs) =>
        $"epoch {m.Epoch}/{epochs} lr {m.LearningRate:g3} loss {m.TrainLoss:0.0000} test {m.TestLoss:0.0000}" +
        (m.TestAccuracy is { } a ? $" {100 * a:0.0}%" : "") + $" {m.SamplesPerSecond:N0}/s {m.Seconds:0.0}s";

    /// <summary>One line per edge-popup epoch: epoch 3/10 ρ 0.1 λ 1.52 lr 0.0905 loss 0.3761 test 0.4012 88.1% 5.2s.</summary>
    public static string TicketLine(TicketEpoch e, int epochs) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"epoch {e.Epoch}/{epochs} ρ {e.KeptFraction:g4} λ {e.Lambda:g4} lr {e.LearningRate:g3} loss {e.TrainLoss:0.0000} test {e.TestLoss:0.0000}{(e.TestAccuracy is { } a ? $" {100 * a:0.0}%" : "")} {e.Seconds:0.0}s");

    /// <summary>
    /// Shows edge-popup's progress: a live bar over its <paramref name="epochs"/> epochs (with ETA) and one line per
    /// epoch on a terminal, else the lines only. <paramref name="run"/> receives the per-epoch callback.
    /// </summary>
    public static T WithTicketProgress<T>(IAnsiConsole console, bool interactive, int epochs, Func<Action<TicketEpoch>, T> run)
    {
        if (!interactive) return run(e => console.WriteLine(TicketLine(e, epochs)));
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn { Width = 20 }, new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"edge-popup epoch 1/{epochs}", maxValue: epochs);
                result = run(e =>
                {
                    console.MarkupLine(Markup.Escape(TicketLine(e, epochs)));
                    task.Value = e.Epoch;
                    task.Description = $"edge-popup epoch {Math.Min(e.Epoch + 1, epochs)}/{epochs}";
                    if (e.Epoch == epochs) task.StopTask();
                });
            });
        return result;
    }

    /// <summary>
    /// Shows training progress: a live bar with throughput and ETA on a terminal, else one line per epoch.
    /// <paramref name="train"/> receives a hook that wires a trainer to the display.
    /// </summary>
    public static T WithProgress<T>(IAnsiConsole console, bool interactive, Func<Action<Trainer>, T> train)
    {
        if (!interactive)
            return train(t => t.EpochEnd += m => console.WriteLine(EpochLine(m, t.Config.Epochs)));
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn { Width = 20 }, new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn()) // ≤ 80 columns
            .Start(ctx =>
            {
                result = train(t =>
                {
                    ProgressTask? task = null;
                    t.Step += s =>
                    {
                        task ??= ctx.AddTask("training", maxValue: (double)s.Epochs * s.StepsPerEpoch);
                        task.Value = (double)(s.Epoch - 1) * s.StepsPerEpoch + s.Step;
                        task.Description = $"epoch {s.Epoch}/{s.Epochs} loss {s.Loss:0.000} {s.SamplesPerSecond:N0}/s";
                    };
                    t.EpochEnd += m =>
                    {
                        console.MarkupLine(Markup.Escape(EpochLine(m, t.Config.Epochs)));
                        if (m.Epoch == t.Config.Epochs) task?.StopTask();
                    };
                });
            });
        return result;
    }
}
