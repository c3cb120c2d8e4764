using System.Diagnostics;
using System.Text.Json.Serialization;
using InitPrune.Data;
using InitPrune.Engine;
using static TorchSharp.torch;

namespace InitPrune.Inference;

/// <summary>What <see cref="SparseInference.Infer"/> evaluates: a sparse model file on a dataset's test split.</summary>
/// <param name="Kernel">managed (deterministic), torch, or auto (per layer, the faster of the two on the first batch).</param>
public sealed record InferRequest(string Model, string Dataset = "fashion-mnist", string? DataDir = null, string Kernel = "managed", int BatchSize = 1000);

/// <summary>Accuracy and mean cross-entropy of a sparse model on a test split, the kernels used and the time the forward passes took.</summary>
public sealed record InferResult(
    string Model,
    string Dataset,
    string? DataSource,
    long N,
    long Correct,
    double Accuracy,
    double Loss,
    double Seconds,
    double SamplesPerSecond,
    IReadOnlyList<string> Kernels,
    bool Vectorized,
    int Threads,
    long StoredParameters)
{
    /// <summary>The predicted class of every test sample, in order.</summary>
    [JsonIgnore]
    public int[] Predictions { get; init; } = [];
}

/// <summary>Runs a sparse model file on a dataset with the sparse kernels.</summary>
public static class SparseInference
{
    public static readonly IReadOnlyList<string> KernelNames = ["auto", "managed", "torch"];

    public static InferResult Infer(InferRequest r)
    {
        if (!KernelNames.Contains(r.Kernel))
            throw new InitPruneException($"unknown --kernel '{r.Kernel}': use {string.Join(", ", KernelNames)}");
        if (r.BatchSize < 1) throw new InitPruneException($"--batch-size {r.BatchSize} is impossible: use 1 or more");
        var model = SparseFile.Load(r.Model);
        if (model is not SparseModel && r.Kernel == "torch")
            throw new InitPruneException($"--kernel torch runs MLP files only; {r.Model} is a conv net, which runs the managed kernels: use --kernel managed");
        using var data = DatasetRegistry.Load(r.Dataset, r.DataDir);
        var test = data.Test;
        if (test.Kind != TaskKind.Classification)
            throw new InitPruneException($"{r.Dataset} is a regression task: infer reports classification accuracy");
        if (test.InputSize != model.InputSize || test.NumClasses != model.Outputs)
            throw new InitPruneException($"{r.Model} takes {model.InputSize} inputs and gives {model.Outputs} classes but {r.Dataset} has {test.InputSize} inputs and {test.NumClasses} classes");
        if (model is not SparseModel && !test.Inputs.shape.Skip(1).SequenceEqual(model.InputShape))
            throw new InitPruneException($"{r.Model} takes samples of shape [{string.Join(",", model.InputShape)}] but {r.Dataset}'s are [{string.Join(",", test.Inputs.shape.Skip(1))}]: export it with the dataset's --input-shape");
        float[] inputs;
        long[] targets;
        using (var scope = NewDisposeScope())
        {
            inputs = test.Inputs.cpu().to(ScalarType.Float32).flatten().contiguous().data<float>().ToArray();
            targets = test.Targets.cpu().to(ScalarType.Int64).data<long>().ToArray();
        }
        var result = Evaluate(model, inputs, targets, r.Kernel, r.BatchSize);
        return result with { Model = Path.GetFullPath(r.Model), Dataset = r.Dataset, DataSource = data.Source };
    }

    /// <summary>Writes infer.json (the result) and predictions.safetensors (int64 class per test sample) to <paramref name="dir"/>.</summary>
    public static void WriteArtifacts(InferResult result, string dir)
    {
        Artifacts.PrepareOutput(dir);
        Artifacts.WriteJson(Path.Combine(dir, "infer.json"), result);
        using var predictions = tensor(result.Predictions.Select(p => (long)p).ToArray());
        IO.Safetensors.Save(Path.Combine(dir, "predictions.safetensors"), new Dictionary<string, Tensor> { ["predictions"] = predictions });
    }

    /// <summary>Evaluates <paramref name="model"/> on flattened <paramref name="inputs"/> with their <paramref name="targets"/> (conv nets: managed kernels; auto picks them).</summary>
    public static InferResult Evaluate(ISparseNetwork model, float[] inputs, long[] targets, string kernel = "managed", int batchSize = 1000)
    {
        int n = targets.Length, size = model.InputSize, classes = model.Outputs;
        if (inputs.Length != (long)n * size) throw new ArgumentException($"{inputs.Length} inputs for {n} samples of {size}", nameof(inputs));
        var mlp = model as SparseModel;
        var torchLayers = kernel == "managed" || mlp is null ? null : mlp.ToTorch();
        try
        {
            List<KernelKind> kernels = (kernel, mlp) switch
            {
                ("torch", not null) => [.. mlp.Layers.Select(_ => KernelKind.Torch)],
                ("auto", not null) => mlp.ChooseKernels(inputs.AsSpan(0, Math.Min(batchSize, n) * size).ToArray(), Math.Min(batchSize, n), torchLayers!),
                _ => [.. model.LayerNames.Select(_ => KernelKind.Managed)],
            };
            var predictions = new int[n];
            double loss = 0;
            long correct = 0;
            var clock = Stopwatch.StartNew();
            for (int start = 0; start < n; start += batchSize)
            {
                int b = Math.Min(batchSize, n - start);
                var batchInputs = inputs.AsSpan(start * size, b * size).ToArray();
                var logits = mlp is not null ? mlp.Forward(batchInputs, b, kernels, torchLayers) : model.Forward(batchInputs, b);
                for (int i = 0; i < b; i++)
                {
                    var row = logits.AsSpan(i * classes, classes);
                    int best = 0;
                    for (int c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
                    double max = row[best], sum = 0;
                    for (int c = 0; c < classes; c++) sum += Math.Exp(row[c] - max);
                    loss += max + Math.Log(sum) - row[(int)targets[start + i]];
                    predictions[start + i] = best;
                    if (best == targets[start + i]) correct++;
                }
            }
            double seconds = clock.Elapsed.TotalSeconds;
            return new InferResult("", "", null, n, correct, n == 0 ? 0 : (double)correct / n, n == 0 ? 0 : loss / n, seconds, seconds > 0 ? n / seconds : 0,
                [.. kernels.Select(k => k.ToString().ToLowerInvariant())], SparseKernels.Vectorized, Environment.ProcessorCount, model.StoredParameters)
            { Predictions = predictions };
        }
        finally
        {
            if (torchLayers is not null) foreach (var t in torchLayers) t.Dispose();
        }
    }
}
