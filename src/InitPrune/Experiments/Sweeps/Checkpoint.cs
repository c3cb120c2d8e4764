using System.Globalization;
using InitPrune.Engine;
using InitPrune.IO;
using InitPrune.Models;
using InitPrune.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace InitPrune.Experiments.Sweeps;

/// <summary>
/// A run's per-epoch checkpoint: one safetensors file, replaced atomically after each epoch, holding the model's
/// state (<c>model.*</c>: parameters and buffers such as BatchNorm statistics), the masks (<c>mask.*</c>), fixed
/// multipliers (<c>gradient_scale.*</c>), SGD momentum (<c>momentum.i</c>) and, in its metadata, the run id, epoch and step.
/// Epoch 0 is the pruned network before training, so a crash never repeats pruning. While edge-popup searches a
/// ticket, the checkpoint after its epoch k of P has epoch k − P − 1 (negative) and also holds the scores
/// (<c>score.*</c>), their momentum (<c>score_momentum.i</c>) and, in its metadata, k and the cumulative output scale.
/// </summary>
public static class Checkpoint
{
    public static void Save(string path, string runId, nn.Module model, TrainState state, TicketState? ticket = null)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, t) in model.state_dict()) tensors["model." + name] = t;
        foreach (var (name, layer) in Network.MaskedModules(model))
        {
            var prefix = name.Length == 0 ? "" : name + ".";
            if (layer.WeightMask is { } m) tensors[$"mask.{prefix}weight"] = m;
            if (layer.BiasMask is { } b) tensors[$"mask.{prefix}bias"] = b;
            if (layer.GradientScale is { } g) tensors[$"gradient_scale.{prefix}weight"] = g;
        }
        for (int i = 0; i < state.Momentum.Count; i++)
            if (state.Momentum[i] is { } buffer) tensors[$"momentum.{i}"] = buffer;
        var meta = new Dictionary<string, string>
        {
            ["run"] = runId,
            ["epoch"] = state.Epoch.ToString(CultureInfo.InvariantCulture),
            ["steps"] = state.Steps.ToString(CultureInfo.InvariantCulture),
            ["momentum_buffers"] = state.Momentum.Count.ToString(CultureInfo.InvariantCulture),
        };
        if (ticket is not null)
        {
            foreach (var (name, t) in ticket.Scores) tensors["score." + name] = t;
            for (int i = 0; i < ticket.Momentum.Count; i++)
                if (ticket.Momentum[i] is { } buffer) tensors[$"score_momentum.{i}"] = buffer;
            meta["ticket_epoch"] = ticket.Epoch.ToString(CultureInfo.InvariantCulture);
            meta["ticket_scale"] = ticket.Scale.ToString("R", CultureInfo.InvariantCulture);
            meta["score_momentum_buffers"] = ticket.Momentum.Count.ToString(CultureInfo.InvariantCulture);
        }
        Safetensors.Save(path, tensors, meta);
    }

    /// <summary>
    /// The edge-popup state of a checkpoint written during the search (null for one written after it), owned by the
    /// caller; the model's weights are restored by <see cref="Load"/>.
    /// </summary>
    public static TicketState? LoadTicket(string path, string runId)
    {
        var (tensors, meta) = Read(path, runId);
        using (tensors)
        {
            if (!meta.TryGetValue("ticket_epoch", out var epoch)) return null;
            var scores = new TensorDict(tensors.Keys.Where(k => k.StartsWith("score.", StringComparison.Ordinal)).ToList()
                .Select(k => KeyValuePair.Create(k["score.".Length..], tensors.Take(k))));
            int count = int.Parse(meta["score_momentum_buffers"], CultureInfo.InvariantCulture);
            var momentum = Enumerable.Range(0, count).Select(i => tensors.TryGetValue($"score_momentum.{i}", out var m) ? m.detach().clone() : null).ToList();
            return new TicketState(int.Parse(epoch, CultureInfo.InvariantCulture), double.Parse(meta["ticket_scale"], CultureInfo.InvariantCulture), scores, momentum);
        }
    }

    /// <summary>The SHA-256 of the file's bytes, as lowercase hex: what the results store records for each checkpoint.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>
    /// Reads the checkpoint file. A corrupt one (torn by a crash of the disk, or edited) is moved aside to
    /// <c>.corrupt</c>, so that rerunning the failed run (<c>--retry-failed</c>) starts it from scratch.
    /// </summary>
    static (TensorDict, Dictionary<string, string>) Read(string path, string runId)
    {
        try
        {
            return Safetensors.LoadWithMetadata(path);
        }
        catch (InitPruneException e) when (e.InnerException is InvalidDataException corrupt)
        {
            var aside = path + ".corrupt";
            File.Move(path, aside, overwrite: true);
            throw new InitPruneException($"the checkpoint of run {runId} is corrupt ({corrupt.Message}); it was moved to {aside}: rerun the run from scratch with 'initprune sweep SPEC --retry-failed'", inner: e);
        }
    }

    /// <summary>Restores the model, masks and multipliers in place and returns the training state to resume from.</summary>
    public static TrainState Load(string path, string runId, nn.Module model)
    {
        var (tensors, meta) = Read(path, runId);
        try
        {
            if (!meta.TryGetValue("run", out var id) || id != runId)
                throw new InitPruneException($"{path} is the checkpoint of run {id ?? "?"}, not {runId}: delete it to restart that run");
            using (no_grad())
            {
                foreach (var (name, t) in model.state_dict())
                {
                    if (!tensors.TryGetValue("model." + name, out var saved) || !saved.shape.SequenceEqual(t.shape))
                        throw new InitPruneException($"{path} lacks '{name}' with shape [{string.Join(",", t.shape)}]: it was written for another model; delete it to restart the run");
                    t.copy_(saved);
                }
            }
            foreach (var (name, layer) in Network.MaskedModules(model))
            {
                var prefix = name.Length == 0 ? "" : name + ".";
                layer.SetMask(tensors.GetValueOrDefault($"mask.{prefix}weight"));
                if (layer.Bias is not null) layer.SetMask(tensors.GetValueOrDefault($"mask.{prefix}bias"), forBias: true);
                if (layer is MaskedLayer masked) masked.SetGradientScale(tensors.GetValueOrDefault($"gradient_scale.{prefix}weight"));
            }
            int count = int.Parse(meta["momentum_buffers"], CultureInfo.InvariantCulture);
            var momentum = Enumerable.Range(0, count).Select(i => tensors.TryGetValue($"momentum.{i}", out var m) ? m.detach().clone() : null).ToList();
            return new TrainState(int.Parse(meta["epoch"], CultureInfo.InvariantCulture), long.Parse(meta["steps"], CultureInfo.InvariantCulture), momentum);
        }
        finally
        {
            tensors.Dispose();
        }
    }
}

/// <summary>
/// Edge-popup's state after its epoch <see cref="Epoch"/> (1-based): the scores by PyTorch name, their SGD momentum
/// buffers and the cumulative output scale (1 unscaled). With the model's weights (Lemma-2-rescaled so far) it resumes the
/// search bit for bit, because batches are drawn from (seed, epoch). Disposing it disposes the tensors it owns.
/// </summary>
public sealed record TicketState(int Epoch, double Scale, IReadOnlyDictionary<string, Tensor> Scores, IReadOnlyList<Tensor?> Momentum) : IDisposable
{
    public void Dispose()
    {
        if (Scores is TensorDict owned) owned.Dispose();
        foreach (var m in Momentum) m?.Dispose();
    }
}
