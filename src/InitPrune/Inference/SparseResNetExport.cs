using System.Globalization;
using System.Text.RegularExpressions;
using InitPrune.Engine;
using InitPrune.Models;
using static TorchSharp.torch;

namespace InitPrune.Inference;

/// <summary>
/// Turns a pruned CIFAR ResNet (<see cref="ResNet"/>: <c>conv</c>, <c>bn</c>, <c>blocks.N.conv1|bn1|conv2|bn2</c>,
/// option B's <c>blocks.N.shortcut.0|1</c>, <c>fc</c>) into a <see cref="SparseResNet"/>: masks applied, every
/// BatchNorm folded into the convolution before it (<see cref="SparseConvExport.FoldBatchNorm"/>), the branch scale
/// (1/√B for a Stable ResNet, seed 001 Eq. (9)) folded into conv2's weight and bias. Dead channels are removed to a fixed point:
/// inside blocks, conv1's outputs (which conv2 alone reads) by the rules of <see cref="SparseConvExport"/>; in the
/// residual streams (stem, conv2 and projection outputs, added up by the shortcuts), the channels no kept weight reads.
/// </summary>
public static partial class SparseResNetExport
{
    [GeneratedRegex(@"^(?:(?:conv|fc)\.weight|fc\.bias|bn\.(?:weight|bias|running_mean|running_var|num_batches_tracked)|blocks\.\d+\.(?:conv1\.weight|conv2\.weight|shortcut\.0\.weight|(?:bn1|bn2|shortcut\.1)\.(?:weight|bias|running_mean|running_var|num_batches_tracked)))$")]
    private static partial Regex Key();

    [GeneratedRegex(@"^blocks\.(\d+)\.conv1\.weight$")]
    private static partial Regex BlockKey();

    [GeneratedRegex(@"^resnet(\d+)$")]
    private static partial Regex Depth();

    /// <summary>True for the models this export handles (the CIFAR ResNets), by canonical name.</summary>
    public static bool Handles(string canonical) => Depth().IsMatch(canonical);

    /// <param name="shortcut">The shortcut the model was built with; null: as the weights show (1 × 1 shortcut convolutions: B, none: A).</param>
    /// <param name="stable">A Stable ResNet: branches scaled by 1/√B, which the weights do not show.</param>
    internal static (SparseResNet, List<SparseExportLayer>, SparseExport.Counts) Build(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, Tensor>? masks,
        string canonical, string activation, long[]? inputShape, string padding, ShortcutKind? shortcut, bool stable, double denseAbove, Dictionary<string, string> source)
    {
        Activations.Create(activation).Dispose();
        padding = MaskedConv2d.CheckPadding(padding);
        foreach (var key in weights.Keys)
        {
            if (!Key().IsMatch(key))
                throw new InitPruneException($"the weights hold '{key}', which is not part of a {canonical} (conv.weight, bn.*, blocks.N.conv1|bn1|conv2|bn2|shortcut.*, fc.weight): pass the --model they were trained as");
        }
        int count = weights.Keys.Count(k => BlockKey().IsMatch(k));
        int perStage = (int.Parse(Depth().Match(canonical).Groups[1].Value, CultureInfo.InvariantCulture) - 2) / 6;
        if (count != 3 * perStage)
            throw new InitPruneException($"the weights hold {count} residual blocks but {canonical} has {3 * perStage}: pass {(count > 0 && count % 3 == 0 ? $"--model resnet{2 * count + 2}" : "the --model they were trained as")}");
        for (int i = 0; i < count; i++)
        {
            if (!weights.ContainsKey($"blocks.{i}.conv1.weight") || !weights.ContainsKey($"blocks.{i}.conv2.weight"))
                throw new InitPruneException($"the weights lack blocks.{i}.conv1.weight or blocks.{i}.conv2.weight: they are not a {canonical}'s");
        }
        if (!weights.ContainsKey("conv.weight") || !weights.ContainsKey("fc.weight")) throw new InitPruneException($"the weights hold no conv.weight or no fc.weight: they are not a {canonical}'s");
        bool projections = weights.Keys.Any(k => k.Contains(".shortcut.", StringComparison.Ordinal));
        if (shortcut is { } s && s == ShortcutKind.B != projections)
            throw new InitPruneException(projections ? "the weights hold 1×1 shortcut convolutions (option B): pass --shortcut b" : "the weights hold no shortcut convolutions (option A): pass --shortcut a");
        double scale = stable ? 1.0 / Math.Sqrt(count) : 1.0;

        // expectIn < 0: any input channel count (the stem's is checked against --input-shape).
        SparseConvExport.Conv Read(string name, string bn, int expectIn)
        {
            var w = weights[name + ".weight"];
            if (w.dim() != 4 || w.shape[2] != w.shape[3])
                throw new InitPruneException($"'{name}.weight' is [{string.Join(",", w.shape)}], not a square convolution kernel");
            if (expectIn >= 0 && w.shape[1] != expectIn)
                throw new InitPruneException($"'{name}.weight' takes {w.shape[1]} channels but gets {expectIn}: the weights are not one {canonical}");
            var values = SparseExport.Masked(w, masks, name + ".weight");
            var conv = new SparseConvExport.Conv(name, values, (int)w.shape[0], (int)w.shape[1], (int)w.shape[2], null, false) { KeptWeights = SparseExport.KeptCount(masks, name + ".weight", values) };
            SparseConvExport.FoldBatchNorm(conv, weights, masks, bn);
            return conv;
        }

        var stem = Read("conv", "bn", -1);
        var blocks = new List<(SparseConvExport.Conv Conv1, SparseConvExport.Conv Conv2, SparseConvExport.Conv? Projection, int Stride)>();
        var beginsStream = new List<bool>();
        int channels = stem.Out;
        for (int i = 0; i < count; i++)
        {
            string b = $"blocks.{i}";
            int stride = i > 0 && i % perStage == 0 ? 2 : 1;
            var conv1 = Read(b + ".conv1", b + ".bn1", channels);
            var conv2 = Read(b + ".conv2", b + ".bn2", conv1.Out);
            bool changes = stride != 1 || conv2.Out != channels;
            bool hasProjection = weights.ContainsKey(b + ".shortcut.0.weight");
            if (hasProjection != (changes && projections))
                throw new InitPruneException($"{b} {(hasProjection ? "holds" : "lacks")} a shortcut convolution where {canonical} {(hasProjection ? "has none" : "has one")}: the weights are not one {canonical}");
            if (!projections && conv2.Out < channels)
                throw new InitPruneException($"{b} maps {channels} channels onto {conv2.Out}: option A cannot; the weights are not one {canonical}");
            var projection = hasProjection ? Read(b + ".shortcut.0", b + ".shortcut.1", channels) : null;
            if (projection is not null && (projection.K != 1 || projection.Out != conv2.Out))
                throw new InitPruneException($"'{b}.shortcut.0.weight' is not a 1×1 convolution onto {conv2.Out} channels: the weights are not one {canonical}");
            for (int j = 0; j < conv2.W.Length; j++) conv2.W[j] = (float)(conv2.W[j] * scale);
            for (int j = 0; j < conv2.Out; j++) conv2.Bias![j] = (float)(conv2.Bias[j] * scale);
            blocks.Add((conv1, conv2, projection, stride));
            beginsStream.Add(changes);
            channels = conv2.Out;
        }
        var fcW = weights["fc.weight"];
        if (fcW.dim() != 2 || fcW.shape[1] != channels)
            throw new InitPruneException($"'fc.weight' is [{string.Join(",", fcW.shape)}] but the last block gives {channels} channels");
        var fc = new SparseExport.Work("fc", SparseExport.Masked(fcW, masks, "fc.weight"), (int)fcW.shape[0], (int)fcW.shape[1],
            weights.TryGetValue("fc.bias", out var fb) ? SparseExport.Masked(fb, masks, "fc.bias") : null);
        fc.KeptWeights = SparseExport.KeptCount(masks, "fc.weight", fc.W);

        var shape = inputShape ?? throw new InitPruneException($"a ResNet's file needs the shape of one sample: give --input-shape C,H,W (e.g. {stem.In},32,32 for CIFAR)");
        if (shape.Length != 3 || shape[0] != stem.In)
            throw new InitPruneException($"--input-shape [{string.Join(",", shape)}] does not fit: the first convolution takes {stem.In} channels, so give {stem.In},H,W");

        var all = blocks.SelectMany(b => b.Projection is null ? new[] { b.Conv1, b.Conv2 } : [b.Conv1, b.Conv2, b.Projection]).Prepend(stem).ToList();
        var (dense, kept) = SparseExport.ParameterCounts(weights, masks);
        long before = all.Sum(c => c.W.LongCount(v => v != 0) + (c.Bias?.Length ?? 0)) + fc.W.LongCount(v => v != 0) + (fc.Bias?.Length ?? 0);
        using (var phi = Activations.Create(activation))
        {
            bool changed;
            do
            {
                changed = RemoveUnreadStreamChannels(stem, blocks, beginsStream, fc);
                foreach (var (conv1, conv2, _, _) in blocks)
                    while (SparseConvExport.RemoveDeadOutputs(conv1, conv2, null, phi, padding)) changed = true;
            }
            while (changed);
        }

        var report = new List<SparseExportLayer>();
        var sparseStem = SparseConvExport.ToSparse(stem, 1, padding, denseAbove, report);
        var sparseBlocks = blocks.Select(b => new SparseResidualBlock(SparseConvExport.ToSparse(b.Conv1, b.Stride, padding, denseAbove, report),
            SparseConvExport.ToSparse(b.Conv2, 1, padding, denseAbove, report),
            b.Projection is { } p ? SparseConvExport.ToSparse(p, b.Stride, "zeros", denseAbove, report) : null,
            b.Projection is null ? (b.Conv2.OriginalOut - b.Conv1.OriginalIn) / 2 : 0)).ToList();
        var classifier = SparseConvExport.ToSparse(fc, denseAbove, report);
        source["model"] = canonical;
        var net = new SparseResNet(canonical, activation.ToLowerInvariant(), shape, scale, sparseStem, sparseBlocks, classifier, source);
        return (net, report, new SparseExport.Counts(dense, kept, before));
    }

    /// <summary>
    /// One pass over the residual streams, last to first: removes every channel of a stream that no kept weight reads
    /// (no conv1 or projection of a block on the stream, no option-A target kept in the next stream, not the
    /// classifier) from the convolutions writing it (the stem, or the conv2 and projection that begin the stream, and
    /// every identity block's conv2) and from those reading it. Its values reach nothing, so nothing is folded. A
    /// stream keeps at least one channel. <paramref name="changes"/>[i]: block i begins a new stream. True when a channel went.
    /// </summary>
    static bool RemoveUnreadStreamChannels(SparseConvExport.Conv stem, List<(SparseConvExport.Conv Conv1, SparseConvExport.Conv Conv2, SparseConvExport.Conv? Projection, int Stride)> blocks,
        IReadOnlyList<bool> changes, SparseExport.Work fc)
    {
        // input[i]: the stream block i reads; a block that changes the shape writes the next one.
        var input = new int[blocks.Count];
        for (int i = 0, stream = 0; i < blocks.Count; i++)
        {
            input[i] = stream;
            if (changes[i]) stream++;
        }
        int streams = blocks.Count == 0 ? 1 : input[^1] + (changes[^1] ? 2 : 1);
        bool any = false;
        for (int s = streams - 1; s >= 0; s--)
        {
            var readers = Enumerable.Range(0, blocks.Count).Where(i => input[i] == s).ToList();
            var writers = s == 0 ? new List<SparseConvExport.Conv> { stem } : [];
            for (int i = 0; i < blocks.Count; i++)
                if (input[i] + (changes[i] ? 1 : 0) == s)
                {
                    if (blocks[i].Projection is { } p) writers.Add(p);
                    writers.Add(blocks[i].Conv2);
                }
            var kept = writers[0].Kept;
            int leaving = readers.FirstOrDefault(i => changes[i], -1);
            bool Read(int c) =>
                readers.Any(i => !blocks[i].Conv1.InputUnused(c) || blocks[i].Projection?.InputUnused(c) == false)
                || leaving >= 0 && blocks[leaving].Projection is null
                    && blocks[leaving].Conv2.Kept.Contains(kept[c] + (blocks[leaving].Conv2.OriginalOut - blocks[leaving].Conv1.OriginalIn) / 2)
                || s == streams - 1 && !fc.ColumnEmpty(c);
            var dead = new HashSet<int>();
            for (int c = 0; c < writers[0].Out && dead.Count < writers[0].Out - 1; c++)
                if (!Read(c)) dead.Add(c);
            if (dead.Count == 0) continue;
            foreach (var w in writers)
            {
                w.RemoveOutputs(dead);
                w.Removed += dead.Count;
            }
            foreach (var i in readers)
            {
                blocks[i].Conv1.RemoveInputs(dead);
                blocks[i].Projection?.RemoveInputs(dead);
            }
            if (s == streams - 1) fc.RemoveColumns(dead);
            any = true;
        }
        return any;
    }
}
