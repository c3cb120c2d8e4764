using SkiaSharp;

namespace InitPrune.Tests.Data;

/// <summary>Writes a miniature tiny-imagenet-200 tree in the real layout, with real JPEGs of flat colours.</summary>
public static class TinyImageNetFiles
{
    public static readonly string[] Wnids = ["n01443537", "n01629819", "n01641577"];
    public const int TrainPerClass = 4;

    /// <summary>Validation images: file, class index, and whether it is a grayscale JPEG.</summary>
    public static readonly (string File, int Label, bool Gray)[] Val =
        [("val_0.JPEG", 2, false), ("val_1.JPEG", 0, false), ("val_2.JPEG", 1, true), ("val_3.JPEG", 2, false), ("val_4.JPEG", 0, false)];

    /// <summary>The flat colour of training image k of class c.</summary>
    public static (byte R, byte G, byte B) TrainColour(int c, int k) => ((byte)(30 + 80 * c), (byte)(20 + 50 * k), (byte)(220 - 60 * c));

    /// <summary>The flat colour of validation image v (equal R, G and B for the grayscale one).</summary>
    public static (byte R, byte G, byte B) ValColour(int v) =>
        Val[v].Gray ? ((byte)140, (byte)140, (byte)140) : ((byte)(200 - 35 * v), (byte)(60 + 30 * v), (byte)(100 + 20 * v));

    /// <summary>Writes the tree under <paramref name="root"/> (created) and returns it.</summary>
    public static string Write(string root)
    {
        Directory.CreateDirectory(root);
        File.WriteAllLines(Path.Combine(root, "wnids.txt"), Wnids);
        for (var c = 0; c < Wnids.Length; c++)
        {
            var images = Directory.CreateDirectory(Path.Combine(root, "train", Wnids[c], "images")).FullName;
            File.WriteAllText(Path.Combine(root, "train", Wnids[c], $"{Wnids[c]}_boxes.txt"), $"{Wnids[c]}_0.JPEG\t0\t0\t63\t63\n");
            // Written out of order: the reader must sort them.
            foreach (var k in new[] { 3, 0, 2, 1 })
                WriteJpeg(Path.Combine(images, $"{Wnids[c]}_{k}.JPEG"), TrainColour(c, k));
        }
        var val = Directory.CreateDirectory(Path.Combine(root, "val", "images")).FullName;
        for (var v = 0; v < Val.Length; v++)
            WriteJpeg(Path.Combine(val, Val[v].File), ValColour(v), gray: Val[v].Gray);
        File.WriteAllLines(Path.Combine(root, "val", "val_annotations.txt"),
            Val.Select(v => $"{v.File}\t{Wnids[v.Label]}\t0\t4\t60\t62"));
        WriteJpeg(Path.Combine(Directory.CreateDirectory(Path.Combine(root, "test", "images")).FullName, "test_0.JPEG"), (1, 2, 3));
        return root;
    }

    public static void WriteJpeg(string path, (byte R, byte G, byte B) colour, bool gray = false, int side = 64)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(side, side, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(new SKColor(colour.R, colour.G, colour.B));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 95);
        File.WriteAllBytes(path, data.ToArray());
    }
}
