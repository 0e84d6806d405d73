package dev.clip4j.index;

import dev.clip4j.data.CaptionsDataset;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where an index's images come from: a folder walked recursively, or a captions file (TSV, CSV or JSONL, as
 * training reads them) whose captions are kept with the images. An index remembers its sources, so that
 * {@code index update} can walk them again.
 *
 * @param kind {@code folder} or {@code captions}
 * @param path the folder or file, absolute and normalised
 */
public record IndexSource(String kind, Path path) {
    public static final String FOLDER = "folder", CAPTIONS = "captions";

    public IndexSource {
        if (!kind.equals(FOLDER) && !kind.equals(CAPTIONS)) throw new IndexException("unknown index source kind '" + kind + "'");
        path = path.toAbsolutePath().normalize();
    }

    /** A folder, or a captions file ({@code .tsv}, {@code .csv}, {@code .jsonl}), by what {@code path} is. */
    public static IndexSource of(Path path) {
        if (Files.isDirectory(path)) return new IndexSource(FOLDER, path);
        if (Files.isRegularFile(path)) return new IndexSource(CAPTIONS, path);
        throw new IndexException(path + ": no such folder or captions file");
    }

    /** An image this source lists. */
    public record Entry(Path file, String caption) {}

    /** A file this source could not list or that lies outside it (a symbolic link out of the folder). */
    public record Skipped(String path, String reason) {}

    /** The images of this source in sorted (folder) or row (captions) order; problems go to {@code skipped}. */
    public List<Entry> list(List<Skipped> skipped) {
        if (kind.equals(CAPTIONS)) {
            CaptionsDataset d = new CaptionsDataset(path);
            List<Path> files = d.files();
            List<Entry> out = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) out.add(new Entry(files.get(i).toAbsolutePath().normalize(), d.caption(i)));
            return out;
        }
        if (!Files.isDirectory(path)) throw new IndexException(path + ": the indexed folder no longer exists");
        Path realRoot;
        try {
            realRoot = path.toRealPath();
        } catch (IOException e) {
            throw new IndexException(path + ": cannot read the folder: " + e.getMessage());
        }
        List<Entry> out = new ArrayList<>();
        try {
            Files.walkFileTree(path, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (!isImageName(file)) return FileVisitResult.CONTINUE;
                    try {
                        if (!Files.isRegularFile(file)) return FileVisitResult.CONTINUE;
                        if (!file.toRealPath().startsWith(realRoot)) {
                            skipped.add(new Skipped(file.toString(), "a link to a file outside " + path));
                            return FileVisitResult.CONTINUE;
                        }
                    } catch (IOException e) {
                        skipped.add(new Skipped(file.toString(), "cannot resolve: " + e.getMessage()));
                        return FileVisitResult.CONTINUE;
                    }
                    out.add(new Entry(file.toAbsolutePath().normalize(), ""));
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    skipped.add(new Skipped(file.toString(), "cannot read: " + e.getClass().getSimpleName()));
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new IndexException(path + ": cannot list: " + e.getMessage());
        }
        out.sort(java.util.Comparator.comparing(e -> e.file().toString()));
        return out;
    }

    /** The file names a folder source picks up: PNG, JPEG, GIF, BMP, and WebP when an ImageIO reader for it is installed. */
    static boolean isImageName(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = n.lastIndexOf('.');
        if (dot < 0) return false;
        String ext = n.substring(dot + 1);
        return switch (ext) {
            case "png", "jpg", "jpeg", "gif", "bmp" -> true;
            case "webp" -> WEBP;
            default -> false;
        };
    }

    private static final boolean WEBP = javax.imageio.ImageIO.getImageReadersBySuffix("webp").hasNext();

    Map<String, String> toJson() {
        return Map.of(kind, path.toString());
    }
}
