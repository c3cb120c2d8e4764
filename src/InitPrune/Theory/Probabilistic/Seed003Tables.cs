namespace InitPrune.Theory;

/// <summary>A row of seed 003 Table 2 as printed (App. D.3; N = 1000 matrices per row).</summary>
public sealed record PaperTable2Row(int N1, int N2, double K, double Mean, double Std, double[] C0, double[] Delta0);

/// <summary>A row of seed 003 Table 3 as printed (App. D.4; N = 500 matrices per row).</summary>
public sealed record PaperTable3Row(int D, Lemma4Distribution Distribution, double? Alpha, double Rows, double Columns, double Fourth, double MeanNorm, double C);

/// <summary>The values seed 003 prints in its Tables 2 and 3, for printing beside ours.</summary>
public static class Seed003Tables
{
    static readonly double S3 = Math.Sqrt(3);

    public static readonly PaperTable2Row[] Table2 =
    [
        new(32, 32, 1, 1.087, 0.038, [1.15, 1.183, 1.206, 1.218], [0.029, 0.041, 0.059, 0.077]),
        new(32, 32, S3, 1.882, 0.066, [1.996, 2.044, 2.069, 2.131], [0.029, 0.041, 0.059, 0.077]),
        new(32, 64, 1, 0.941, 0.027, [0.988, 1.015, 1.039, 1.042], [0.014, 0.021, 0.03, 0.039]),
        new(32, 64, S3, 1.631, 0.046, [1.707, 1.743, 1.786, 1.797], [0.014, 0.021, 0.03, 0.039]),
        new(32, 128, 1, 0.836, 0.018, [0.867, 0.878, 0.895, 0.902], [0.007, 0.01, 0.015, 0.019]),
        new(32, 128, S3, 1.449, 0.032, [1.503, 1.528, 1.577, 1.579], [0.007, 0.01, 0.015, 0.019]),
        new(32, 256, 1, 0.762, 0.013, [0.784, 0.794, 0.806, 0.811], [0.004, 0.005, 0.007, 0.01]),
        new(32, 256, S3, 1.319, 0.022, [1.357, 1.371, 1.39, 1.393], [0.004, 0.005, 0.007, 0.01]),
        new(32, 512, 1, 0.708, 0.009, [0.723, 0.731, 0.74, 0.747], [0.002, 0.003, 0.004, 0.005]),
        new(32, 512, S3, 1.226, 0.016, [1.253, 1.267, 1.278, 1.283], [0.002, 0.003, 0.004, 0.005]),
        new(64, 64, 1, 1.114, 0.026, [1.158, 1.183, 1.205, 1.209], [0.014, 0.021, 0.03, 0.039]),
        new(64, 64, S3, 1.932, 0.045, [2.009, 2.045, 2.07, 2.086], [0.014, 0.021, 0.03, 0.039]),
        new(64, 128, 1, 0.959, 0.018, [0.992, 1.005, 1.04, 1.054], [0.007, 0.01, 0.015, 0.019]),
        new(64, 128, S3, 1.66, 0.031, [1.711, 1.743, 1.782, 1.785], [0.007, 0.01, 0.015, 0.019]),
        new(64, 256, 1, 0.848, 0.012, [0.868, 0.88, 0.887, 0.888], [0.004, 0.005, 0.007, 0.01]),
        new(64, 256, S3, 1.47, 0.021, [1.508, 1.523, 1.53, 1.554], [0.004, 0.005, 0.007, 0.01]),
        new(64, 512, 1, 0.77, 0.008, [0.785, 0.792, 0.796, 0.801], [0.002, 0.003, 0.004, 0.005]),
        new(64, 512, S3, 1.333, 0.015, [1.359, 1.371, 1.388, 1.392], [0.002, 0.003, 0.004, 0.005]),
        new(128, 128, 1, 1.131, 0.017, [1.159, 1.173, 1.199, 1.205], [0.007, 0.01, 0.015, 0.019]),
        new(128, 128, S3, 1.956, 0.029, [2.008, 2.024, 2.044, 2.045], [0.007, 0.01, 0.015, 0.019]),
        new(128, 256, 1, 0.969, 0.012, [0.99, 0.999, 1.012, 1.013], [0.004, 0.005, 0.007, 0.01]),
        new(128, 256, S3, 1.679, 0.019, [1.712, 1.728, 1.743, 1.746], [0.004, 0.005, 0.007, 0.01]),
        new(128, 512, 1, 0.856, 0.008, [0.87, 0.875, 0.881, 0.885], [0.002, 0.003, 0.004, 0.005]),
        new(128, 512, S3, 1.482, 0.014, [1.507, 1.52, 1.527, 1.528], [0.002, 0.003, 0.004, 0.005]),
        new(256, 256, 1, 1.14, 0.011, [1.16, 1.17, 1.18, 1.181], [0.004, 0.005, 0.007, 0.01]),
        new(256, 256, S3, 1.976, 0.021, [2.01, 2.027, 2.036, 2.036], [0.004, 0.005, 0.007, 0.01]),
        new(256, 512, 1, 0.976, 0.008, [0.989, 0.995, 1.002, 1.014], [0.002, 0.003, 0.004, 0.005]),
        new(256, 512, S3, 1.691, 0.013, [1.714, 1.727, 1.735, 1.735], [0.002, 0.003, 0.004, 0.005]),
        new(512, 512, 1, 1.146, 0.007, [1.159, 1.163, 1.172, 1.174], [0.002, 0.003, 0.004, 0.005]),
        new(512, 512, S3, 1.985, 0.012, [2.006, 2.015, 2.033, 2.04], [0.002, 0.003, 0.004, 0.005]),
    ];

    public static readonly PaperTable3Row[] Table3 =
    [
        new(32, Lemma4Distribution.Uniform, null, 1.006, 1.006, 1.159, 1.888, 0.596),
        new(64, Lemma4Distribution.Uniform, null, 1.006, 1.005, 1.159, 1.934, 0.61),
        new(128, Lemma4Distribution.Uniform, null, 1.005, 1.005, 1.159, 1.958, 0.618),
        new(256, Lemma4Distribution.Uniform, null, 1.004, 1.003, 1.158, 1.976, 0.624),
        new(512, Lemma4Distribution.Uniform, null, 1.003, 1.002, 1.158, 1.985, 0.627),
        new(32, Lemma4Distribution.Normal1, null, 1.011, 1.014, 1.314, 1.905, 0.571),
        new(64, Lemma4Distribution.Normal1, null, 1.008, 1.008, 1.315, 1.947, 0.585),
        new(128, Lemma4Distribution.Normal1, null, 1.005, 1.007, 1.316, 1.965, 0.59),
        new(256, Lemma4Distribution.Normal1, null, 1.005, 1.006, 1.316, 1.979, 0.595),
        new(512, Lemma4Distribution.Normal1, null, 1.004, 1.004, 1.316, 1.988, 0.598),
        new(32, Lemma4Distribution.Normal3, null, 1.751, 1.745, 2.279, 3.295, 0.571),
        new(64, Lemma4Distribution.Normal3, null, 1.755, 1.744, 2.28, 3.361, 0.582),
        new(128, Lemma4Distribution.Normal3, null, 1.742, 1.743, 2.28, 3.405, 0.591),
        new(256, Lemma4Distribution.Normal3, null, 1.743, 1.742, 2.28, 3.428, 0.595),
        new(512, Lemma4Distribution.Normal3, null, 1.74, 1.739, 2.279, 3.441, 0.598),
        new(32, Lemma4Distribution.PrunedNormal1, 0.01, 0.626, 0.63, 1.033, 1.237, 0.54),
        new(64, Lemma4Distribution.PrunedNormal1, 0.01, 0.632, 0.629, 1.035, 1.239, 0.54),
        new(128, Lemma4Distribution.PrunedNormal1, 0.01, 0.63, 0.63, 1.037, 1.242, 0.541),
        new(256, Lemma4Distribution.PrunedNormal1, 0.01, 0.63, 0.63, 1.039, 1.246, 0.542),
        new(32, Lemma4Distribution.PrunedNormal1, 0.1, 0.714, 0.713, 1.103, 1.379, 0.545),
        new(64, Lemma4Distribution.PrunedNormal1, 0.1, 0.729, 0.729, 1.117, 1.426, 0.554),
        new(128, Lemma4Distribution.PrunedNormal1, 0.1, 0.744, 0.744, 1.129, 1.459, 0.558),
        new(256, Lemma4Distribution.PrunedNormal1, 0.1, 0.758, 0.756, 1.14, 1.491, 0.562),
        new(32, Lemma4Distribution.PrunedNormal1, 0.5, 0.928, 0.925, 1.258, 1.759, 0.565),
        new(64, Lemma4Distribution.PrunedNormal1, 0.5, 0.95, 0.948, 1.275, 1.831, 0.577),
        new(128, Lemma4Distribution.PrunedNormal1, 0.5, 0.964, 0.964, 1.288, 1.883, 0.586),
        new(256, Lemma4Distribution.PrunedNormal1, 0.5, 0.975, 0.974, 1.296, 1.92, 0.592),
    ];
}
