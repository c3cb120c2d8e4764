using System.CommandLine;
using System.Globalization;
using InitPrune.Inference;
using Spectre.Console;

namespace InitPrune.Cli.Commands;

/// <summary><c>initprune infer</c>: a sparse model file's test accuracy with the sparse kernels.</summary>
internal static class InferCommand
{
    public static Command Create()
    {
        var s = new Shared();
        var model = new Option<string>("--model") { Description = "The sparse model file 'initprune export --weights … --out model.sparse.safetensors' wrote", Required = true };
        var kernel = new Option<string>("--kernel") { Description = "managed: InitPrune's CSR kernel (AVX2/FMA, multithreaded; deterministic); torch: libtorch's sparse product; auto: per layer the faster of the two, timed on the first batch (the choice can change from run to run)", DefaultValueFactory = _ => "managed" };
        var batch = new Option<int>("--batch-size") { Description = "Samples per forward pass", DefaultValueFactory = _ => 1000 };
        var outDir = new Option<string?>("--out") { Description = "Folder to write infer.json (the result) and predictions.safetensors (int64 class per test sample) to" };
        var cmd = new Command("infer", "Evaluate a sparse model file (from export) on a dataset's test split with the sparse kernels: accuracy, loss, n and time") { model };
        s.AddData(cmd);
        foreach (var o in new Option[] { kernel, batch, outDir, s.Json }) cmd.Add(o);
        cmd.SetAction(r => Output.Guard(r, null, () =>
        {
            var result = SparseInference.Infer(new InferRequest(r.GetValue(model)!, s.DatasetName(r), r.GetValue(s.DataDir), r.GetValue(kernel)!, r.GetValue(batch)));
            if (r.GetValue(outDir) is { } dir) SparseInference.WriteArtifacts(result, dir);
            if (r.GetValue(s.Json)) Output.Json(result);
            else Output.Human(false).WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Dataset} test: accuracy {result.Accuracy:F4} ({result.Correct}/{result.N}), loss {result.Loss:F4}, {result.Seconds:F3} s ({result.SamplesPerSecond:N0} samples/s), kernels {string.Join(",", result.Kernels)}{(result.Vectorized ? " (AVX2/FMA)" : " (portable)")}"));
            return 0;
        }));
        return cmd;
    }
}
