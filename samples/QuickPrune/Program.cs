using InitPrune.Data;
using InitPrune.Experiments;
using InitPrune.Init;
using InitPrune.Models;
using InitPrune.Pruning;
using InitPrune.Training;

// "ellipse" is a synthetic 4-class task; "fashion-mnist" reads the installed dataset (apt-get install dataset-fashion-mnist).
var data = DatasetRegistry.Load("ellipse");
using var model = Setup.Model(data, new ModelSpec("lenet300"), new InitSpec("normal", Math.Sqrt(2), 0), seed: 0);
var (x, y) = Setup.ScoringBatch(data.Train, 100, seed: 0);
using var pruned = Pruner.Prune(model, new PruneSpec("snip", 0.9), new ScoringContext(x, y, data.Train.Kind, Seed: 0));
x.Dispose();
y.Dispose();
var history = new Trainer(new TrainConfig(Epochs: 1)).Train(model, data, seed: 0);
Console.WriteLine($"snip kept {pruned.Mask.Kept} of {pruned.Mask.Total} weights");
Console.WriteLine($"test accuracy after {history.Count} epoch: {history[^1].TestAccuracy:F4}");
