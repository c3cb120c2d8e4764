using System.Reflection;
using InitPrune.Engine;
using InitPrune.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace InitPrune.IO.Onnx;

/// <summary>What <see cref="OnnxExport.Write"/> wrote.</summary>
/// <param name="InputShape">The input's shape; -1 is the symbolic batch dimension.</param>
/// <param name="Parameters">Float parameters stored (weights ⊙ masks, biases, BatchNorm statistics).</param>
/// <param name="ZeroParameters">How many of them are exactly zero (the pruned weights among them).</param>
/// <param name="Warnings">What the user should know about the exported network (one line each).</param>
public sealed record OnnxExportSummary(string File, long IrVersion, int Opset, long[] InputShape, long[] OutputShape,
    int Nodes, IReadOnlyList<string> Operators, long Parameters, long ZeroParameters, long Bytes, IReadOnlyList<string> Warnings);

/// <summary>
/// ONNX export (IR version 8, default-domain opset 17) of an InitPrune network as its eval-mode forward computes it,
/// with every mask applied to the stored weights (weight ⊙ mask) so that any ONNX runtime gives InitPrune's outputs.
/// Input <c>input</c>: float32 [batch, sample shape…] (NCHW for images) with a symbolic batch dimension; output
/// <c>output</c>: float32 [batch, outputs]. Initializers keep the PyTorch parameter names (<c>layers.0.weight</c>).
/// Covers every model of <see cref="ModelRegistry"/>: MLPs (Gemm), conv nets (Conv; circular padding as Slice +
/// Concat, since Pad's wrap mode needs opset 19), MaxPool, global average pooling, BatchNorm (BatchNormalization with
/// the running statistics), ResNet blocks (shortcut identity, option A as strided Slice + channel Pad, option B as
/// Conv + BatchNormalization; Stable ResNets' branch factor as Mul), and every activation of
/// <see cref="Activations"/> (GELU as its erf form, Softplus with PyTorch's threshold). Anything else is a one-line
/// <see cref="InitPruneException"/>.
/// </summary>
public static class OnnxExport
{
    public const long IrVersion = 8;
    public const int Opset = 17;
    public const string Producer = "InitPrune";
    public const string InputName = "input";
    public const string OutputName = "output";

    /// <summary>Exports <paramref name="model"/> for samples of <paramref name="sampleShape"/> to <paramref name="path"/> (written atomically).</summary>
    public static OnnxExportSummary Write(nn.Module<Tensor, Tensor> model, long[] sampleShape, string path)
    {
        var outputShape = OutputShape(model, sampleShape);
        var graph = new OnnxGraph();
        var exporter = new Exporter(graph, sampleShape.Length + 1);
        string result;
        using (no_grad())
        {
            result = exporter.Emit(model, "", graph.Fresh(InputName));
        }
        if (graph.Nodes.Count == 0 || graph.Nodes[^1].Outputs[0] != result) graph.Add("Identity", "result", [result]);
        graph.RenameLastOutput(OutputName);
        long?[] input = [null, .. sampleShape.Select(d => (long?)d)];
        long?[] output = [null, .. outputShape.Skip(1).Select(d => (long?)d)];
        var version = typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";
        var proto = graph.Model(model.GetName(), InputName, input, OutputName, output, IrVersion, Opset, Producer, version);
        Artifacts.WriteAtomic(path, proto.WriteTo);
        return new OnnxExportSummary(Path.GetFullPath(path), IrVersion, Opset, [-1, .. sampleShape], [-1, .. outputShape.Skip(1)],
            graph.Nodes.Count, [.. graph.Nodes.Select(n => n.OpType).Distinct().Order(StringComparer.Ordinal)],
            graph.Parameters, graph.Zeros, proto.Size, []);
    }

    /// <summary>
    /// Builds <paramref name="model"/> for <paramref name="dataset"/>'s samples, loads <paramref name="weightsPath"/>
    /// (safetensors or PyTorch .pt, any layout <see cref="StateDictLayout.Read"/> takes; BatchNorm running statistics
    /// when the file has them), applies the mask of <paramref name="maskPath"/> (default: the masks the weights file
    /// carries) and exports the network to <paramref name="path"/>.
    /// </summary>
    public static OnnxExportSummary WriteFromFiles(string dataset, ModelSpec model, string weightsPath, string? maskPath, string path)
    {
        var (shape, outputs) = Data.DatasetRegistry.NominalShape(dataset);
        TensorFile.RequireFile(weightsPath, "weights file");
        if (maskPath is not null) TensorFile.RequireFile(maskPath, "mask file");
        using var net = ModelRegistry.Create(model, shape, outputs);
        bool statistics;
        using (var file = StateDictLayout.Read(weightsPath, "weights file"))
        {
            Network.LoadStateDict(net, file.Weights, weightsPath);
            statistics = file.Weights.Keys.Any(k => k.EndsWith(".running_mean", StringComparison.Ordinal));
        }
        using (var mask = maskPath is not null ? Pruning.Mask.Load(maskPath) : Pruning.Mask.Embedded(weightsPath))
        {
            mask?.ApplyTo(net);
        }
        var summary = Write(net, shape, path);
        return Network.HasBatchNorm(net) && !statistics
            ? summary with { Warnings = [$"{Path.GetFileName(weightsPath)} holds no BatchNorm running statistics: the export normalizes with the initial ones (mean 0, variance 1)"] }
            : summary;
    }

    /// <summary>The shape of the eval-mode output for one sample (checks that the model takes such samples).</summary>
    static long[] OutputShape(nn.Module<Tensor, Tensor> model, long[] sampleShape)
    {
        if (sampleShape.Length == 0 || sampleShape.Any(d => d < 1))
            throw new InitPruneException($"ONNX export: impossible sample shape [{string.Join(",", sampleShape)}]; every size must be positive");
        var first = model.parameters().FirstOrDefault()
            ?? throw new InitPruneException("ONNX export: the model has no parameters");
        bool training = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var probe = zeros([1, .. sampleShape], first.dtype, first.device);
            return model.forward(probe).shape;
        }
        catch (Exception e) when (e is not InitPruneException)
        {
            throw new InitPruneException($"ONNX export: the model does not take samples [{string.Join(",", sampleShape)}]: {e.Message.Split('\n')[0]}");
        }
        finally
        {
            model.train(training);
        }
    }

    /// <summary>Walks the module tree as the forward passes compose it, adding nodes to the graph.</summary>
    sealed class Exporter(OnnxGraph g, int inputRank)
    {
        /// <summary>Emits <paramref name="module"/> (named <paramref name="name"/>) applied to value <paramref name="x"/>; returns the result's name.</summary>
        public string Emit(nn.Module module, string name, string x)
        {
            switch (module)
            {
                case Mlp:
                    if (inputRank > 2) x = g.Add("Flatten", "flatten", [x], ("axis", 1L));
                    return Emit(Child(module, name, "layers"), Join(name, "layers"), x);
                case ConvN:
                    x = Emit(Child(module, name, "layers"), Join(name, "layers"), x);
                    x = g.Add("Flatten", "flatten", [x], ("axis", 1L));
                    return Emit(Child(module, name, "classifier"), Join(name, "classifier"), x);
                case PooledConvNet:
                    x = Emit(Child(module, name, "layers"), Join(name, "layers"), x);
                    return Emit(Child(module, name, "fc"), Join(name, "fc"), Pool(x));
                case ResNet:
                    foreach (var part in new[] { "conv", "bn", "act", "blocks" }) x = Emit(Child(module, name, part), Join(name, part), x);
                    return Emit(Child(module, name, "fc"), Join(name, "fc"), Pool(x));
                case BasicBlock block:
                    return Block(block, name, x);
                case Sequential or ConvModule:
                    foreach (var (child, m) in module.named_children()) x = Emit(m, Join(name, child), x);
                    return x;
                case MaskedLinear linear:
                    {
                        var (w, b) = Parameters(linear, name);
                        return g.Add("Gemm", Join(name, "gemm"), b is null ? [x, w] : [x, w, b], ("transB", 1L));
                    }
                case MaskedConv2d conv:
                    return Conv(conv, name, x);
                case MaskedBatchNorm2d bn:
                    return BatchNorm(bn, name, x);
                case MaxPool2d pool:
                    return MaxPool(pool, name, x);
                default:
                    return Activation(module, name, x);
            }
        }

        /// <summary>Global average pooling to [batch, channels] (the models' mean over H and W).</summary>
        string Pool(string x) => g.Add("Flatten", "flatten", [g.Add("GlobalAveragePool", "pool", [x])], ("axis", 1L));

        (string Weight, string? Bias) Parameters(MaskedLayer layer, string name)
        {
            using var scope = NewDisposeScope();
            var (w, b) = layer.ForwardOverride?.Invoke() ?? (layer.weight, layer.bias);
            var weight = Store(Join(name, "weight"), Masked(w, layer.WeightMask));
            var bias = b is null ? null : Store(Join(name, "bias"), Masked(b, layer.BiasMask));
            return (weight, bias);
        }

        static Tensor Masked(Tensor t, Tensor? mask) => mask is null ? t : t.mul(mask);

        string Store(string name, Tensor t)
        {
            using var c = t.detach().to(ScalarType.Float32).cpu().contiguous();
            return g.Floats(name, c.data<float>().ToArray(), c.shape);
        }

        string Conv(MaskedConv2d conv, string name, string x)
        {
            var (w, b) = Parameters(conv, name);
            long p = conv.Padding;
            long[] pads = [p, p, p, p];
            if (conv.PaddingMode == "circular" && p > 0)
            {
                // Pad's "wrap" mode is opset 19: wrap H, then W, by concatenating the opposite edges (PyTorch's circular padding).
                foreach (long axis in new long[] { 2, 3 })
                {
                    var before = g.Add("Slice", Join(name, "wrap_before"), [x, g.Ints(-p), g.Ints(long.MaxValue), g.Ints(axis)]);
                    var after = g.Add("Slice", Join(name, "wrap_after"), [x, g.Ints(0), g.Ints(p), g.Ints(axis)]);
                    x = g.Add("Concat", Join(name, "wrap"), [before, x, after], ("axis", axis));
                }
                pads = [0, 0, 0, 0];
            }
            long k = conv.KernelSize, s = conv.Stride;
            return g.Add("Conv", Join(name, "conv"), b is null ? [x, w] : [x, w, b],
                ("kernel_shape", new[] { k, k }), ("strides", new[] { s, s }), ("pads", pads), ("dilations", new[] { 1L, 1L }), ("group", 1L));
        }

        string BatchNorm(MaskedBatchNorm2d bn, string name, string x)
        {
            using var scope = NewDisposeScope();
            var gamma = bn.weight is null ? ones(bn.num_features) : Masked(bn.weight, bn.WeightMask);
            var beta = bn.bias is null ? zeros(bn.num_features) : Masked(bn.bias, bn.BiasMask);
            if (bn.running_mean is null || bn.running_var is null)
                throw new InitPruneException($"ONNX export: BatchNorm '{name}' keeps no running statistics, so it has no eval-mode form");
            string[] inputs =
            [
                x, Store(Join(name, "weight"), gamma), Store(Join(name, "bias"), beta),
                Store(Join(name, "running_mean"), bn.running_mean), Store(Join(name, "running_var"), bn.running_var),
            ];
            return g.Add("BatchNormalization", Join(name, "bn"), inputs, ("epsilon", (float)bn.eps));
        }

        string MaxPool(MaxPool2d pool, string name, string x)
        {
            static long[] Two(long[]? v, long fallback) => v is null || v.Length == 0 ? [fallback, fallback] : v.Length == 1 ? [v[0], v[0]] : v;
            var kernel = Two(pool.kernel_size, 1);
            var stride = pool.stride is null || pool.stride.Length == 0 ? kernel : Two(pool.stride, 1);
            var pad = Two(pool.padding, 0);
            return g.Add("MaxPool", Join(name, "maxpool"), [x], ("kernel_shape", kernel), ("strides", stride),
                ("pads", new[] { pad[0], pad[1], pad[0], pad[1] }), ("dilations", Two(pool.dilation, 1)), ("ceil_mode", pool.ceil_mode ? 1L : 0L));
        }

        /// <summary>act(shortcut(x) + scale · F(x)), F = bn2 ∘ conv2 ∘ act ∘ bn1 ∘ conv1 (<see cref="BasicBlock.forward"/>).</summary>
        string Block(BasicBlock block, string name, string x)
        {
            var conv1 = (MaskedConv2d)Child(block, name, "conv1");
            var act = Child(block, name, "act");
            var h = Emit(conv1, Join(name, "conv1"), x);
            h = Emit(Child(block, name, "bn1"), Join(name, "bn1"), h);
            h = Emit(act, Join(name, "act"), h);
            h = Emit(Child(block, name, "conv2"), Join(name, "conv2"), h);
            h = Emit(Child(block, name, "bn2"), Join(name, "bn2"), h);
            if (block.BranchScale != 1.0) h = g.Add("Mul", Join(name, "scaled"), [h, g.Scalar((float)block.BranchScale)]);
            string shortcut;
            var option = block.named_children().FirstOrDefault(c => c.name == "shortcut").module;
            bool downsample = conv1.Stride != 1;
            if (option is not null)
            {
                shortcut = Emit(option, Join(name, "shortcut"), x);
            }
            else if (!downsample && conv1.InChannels == conv1.OutChannels)
            {
                shortcut = x;
            }
            else
            {
                // Option A: x[:, :, ::2, ::2], then zero channels split before and after (BasicBlock.Shortcut).
                shortcut = downsample
                    ? g.Add("Slice", Join(name, "subsample"), [x, g.Ints(0, 0), g.Ints(long.MaxValue, long.MaxValue), g.Ints(2, 3), g.Ints(2, 2)])
                    : x;
                long extra = conv1.OutChannels - conv1.InChannels;
                shortcut = g.Add("Pad", Join(name, "zero_channels"), [shortcut, g.Ints(0, extra / 2, 0, 0, 0, extra - extra / 2, 0, 0)]);
            }
            return Emit(act, Join(name, "act"), g.Add("Add", Join(name, "residual"), [shortcut, h]));
        }

        string Activation(nn.Module module, string name, string x)
        {
            string Op(string op, params (string, object)[] attributes) => g.Add(op, Join(name, op.ToLowerInvariant()), [x], attributes);
            switch (module)
            {
                case ReLU: return Op("Relu");
                case Tanh: return Op("Tanh");
                case Sigmoid: return Op("Sigmoid");
                case ELU elu: return Op("Elu", ("alpha", (float)elu.alpha));
                case LeakyReLU leaky: return Op("LeakyRelu", ("alpha", (float)leaky.negative_slope));
                case SELU: return Op("Selu", ("alpha", 1.6732632423543772f), ("gamma", 1.0507009873554805f));
                case Identity: return x;
                case GELU gelu when gelu.approximate == GELU.Approximate.none:
                    {
                        // Gelu is opset 20: x · ½(1 + erf(x/√2)), PyTorch's exact GELU.
                        var erf = g.Add("Erf", Join(name, "erf"), [g.Add("Mul", Join(name, "scaled"), [x, g.Scalar((float)(1 / Math.Sqrt(2)))])]);
                        var half = g.Add("Mul", Join(name, "half"), [g.Add("Add", Join(name, "one_plus"), [erf, g.Scalar(1)]), g.Scalar(0.5f)]);
                        return g.Add("Mul", Join(name, "gelu"), [x, half]);
                    }
                case Softplus softplus:
                    {
                        // PyTorch: softplus(βx)/β, and x itself where βx > threshold.
                        var bx = softplus.beta == 1 ? x : g.Add("Mul", Join(name, "beta_x"), [x, g.Scalar((float)softplus.beta)]);
                        var sp = g.Add("Softplus", Join(name, "softplus"), [bx]);
                        if (softplus.beta != 1) sp = g.Add("Div", Join(name, "over_beta"), [sp, g.Scalar((float)softplus.beta)]);
                        var linear = g.Add("Greater", Join(name, "linear"), [bx, g.Scalar((float)softplus.threshold)]);
                        return g.Add("Where", Join(name, "softplus_thresholded"), [linear, x, sp]);
                    }
                case GELU:
                    throw new InitPruneException($"ONNX export (opset {Opset}) does not support '{name}': GELU with the tanh approximation; use the exact GELU");
                default:
                    throw new InitPruneException($"ONNX export does not support '{(name.Length == 0 ? module.GetName() : name)}' ({module.GetType().Name}): it exports InitPrune's models (mlp, lenet300, vcnn, conv2-8, vgg*, resnet*) with activations {string.Join(", ", Activations.Names)}");
            }
        }

        static nn.Module Child(nn.Module module, string name, string child) =>
            module.named_children().FirstOrDefault(c => c.name == child).module
            ?? throw new InitPruneException($"ONNX export: '{(name.Length == 0 ? module.GetName() : name)}' has no submodule '{child}'");

        static string Join(string prefix, string leaf) => prefix.Length == 0 ? leaf : $"{prefix}.{leaf}";
    }
}
