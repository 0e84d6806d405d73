package dev.clip4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.image.RasterImage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Image-caption pairs from a file: TSV or CSV ({@code image<TAB or comma>caption}, an optional header naming the
 * columns {@code image} and {@code caption}), or JSONL ({@code {"image": ..., "caption": ...}}). Image paths are
 * relative to the file. A bad row is an error naming the file and line; a missing image is reported the same way.
 */
public final class CaptionsDataset implements ImageTextDataset {
    private final String name;
    private final List<Path> paths = new ArrayList<>();
    private final List<String> captions = new ArrayList<>();
    private final DecodedImages images;

    public CaptionsDataset(Path file) {
        this.name = file.getFileName().toString();
        List<String> lines = readUtf8Lines(file);
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        boolean jsonl = lower.endsWith(".jsonl") || lower.endsWith(".ndjson");
        char sep = lower.endsWith(".csv") ? ',' : '\t';
        ObjectMapper json = new ObjectMapper();
        Path base = file.toAbsolutePath().getParent();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String where = file + ":" + (i + 1);
            if (line.isBlank()) continue;
            String image, caption;
            if (jsonl) {
                JsonNode row;
                try {
                    row = json.readTree(line);
                } catch (IOException e) {
                    throw new DatasetException(where + ": not a JSON object");
                }
                if (row == null || !row.path("image").isTextual() || !row.path("caption").isTextual()) {
                    throw new DatasetException(where + ": expected {\"image\": ..., \"caption\": ...}");
                }
                image = row.get("image").asText();
                caption = row.get("caption").asText();
            } else {
                int at = line.indexOf(sep);
                if (at <= 0 || at == line.length() - 1) {
                    throw new DatasetException(where + ": expected 'image" + (sep == '\t' ? "<TAB>" : ",") + "caption'");
                }
                image = line.substring(0, at).trim();
                caption = unquote(line.substring(at + 1).trim());
                if (i == 0 && image.equalsIgnoreCase("image") && caption.equalsIgnoreCase("caption")) continue;
            }
            Path p = base.resolve(image);
            if (!Files.isRegularFile(p)) throw new DatasetException(where + ": image " + p + " does not exist");
            paths.add(p);
            captions.add(caption);
        }
        if (paths.isEmpty()) throw new DatasetException(file + ": no image-caption rows");
        images = new DecodedImages(paths);
    }

    /** The file's lines as UTF-8 (a leading byte-order mark dropped); bytes that are not UTF-8 are an error naming the line. */
    static List<String> readUtf8Lines(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new DatasetException(file + ": no such file");
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read: " + e.getMessage());
        }
        List<String> lines = new ArrayList<>();
        java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        int start = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i < bytes.length && bytes[i] != '\n') continue;
            if (i == bytes.length && start == bytes.length) break; // ended with a newline
            int end = i > start && bytes[i - 1] == '\r' ? i - 1 : i;
            try {
                lines.add(utf8.decode(java.nio.ByteBuffer.wrap(bytes, start, end - start)).toString());
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new DatasetException(file + ":" + (lines.size() + 1) + ": not UTF-8 text (save the file as UTF-8)");
            }
            start = i + 1;
        }
        if (!lines.isEmpty() && lines.get(0).startsWith("\uFEFF")) lines.set(0, lines.get(0).substring(1));
        return lines;
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1).replace("\"\"", "\"") : s;
    }

    /** The image files, in the file's row order (row i's caption is {@link #caption(int)}). */
    public List<Path> files() {
        return List.copyOf(paths);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public RasterImage image(int index) {
        return images.get(index);
    }

    @Override
    public String caption(int index, SplittableRandom rng) {
        return captions.get(index);
    }

    public String caption(int index) {
        return captions.get(index);
    }

    @Override
    public int label(int index) {
        return -1;
    }

    @Override
    public List<String> classNames() {
        return List.of();
    }
}
