package dev.clip4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Emoji art (npm {@code emoji-datasource-google@16.0.0} and {@code emoji-datasource-twitter@16.0.0}, 64 px PNGs,
 * skin-tone variations included) captioned with CLDR labels and keywords from {@code emojibase-data@17.0.0}.
 * Split by concept: an emoji's base code point sequence decides its split (a fixed hash, 1 in 8 to {@code test}),
 * so evaluation concepts never appear in training. Classes are the concepts of the split. {@code emoji:test/google}
 * and {@code emoji:test/twitter} hold one art style each: a linear probe trained on one and scored on the other
 * measures held-out concepts without zero-shot.
 */
public final class EmojiDataset extends LabelledImageFiles {
    private static final List<String> STYLES = List.of("google", "twitter");
    private static final List<String> TEMPLATES = List.of("an emoji of {}.", "a {} emoji.", "an icon of {}.",
            "a cartoon {}.", "{}", "a small picture of {}.", "the {} emoji.");
    private final List<List<String>> keywords;

    private EmojiDataset(String name, List<List<String>> classes, List<List<String>> keywords, List<Path> files, List<Integer> labels) {
        super(name, classes, files, labels);
        this.keywords = keywords;
    }

    public static boolean isTest(String unified) {
        long h = 1125899906842597L;
        for (char c : unified.toLowerCase(Locale.ROOT).toCharArray()) h = 31 * h + c;
        return Math.floorMod(h ^ (h >>> 29), 8) == 0;
    }

    public static EmojiDataset open(boolean train) {
        return open(train, null);
    }

    /** One split, optionally one art style ({@code google} or {@code twitter}; null for both). */
    public static EmojiDataset open(boolean train, String onlyStyle) {
        if (onlyStyle != null && !STYLES.contains(onlyStyle)) {
            throw new DatasetException("unknown emoji style '" + onlyStyle + "' (use google or twitter)");
        }
        Map<String, Path> styleDirs = new LinkedHashMap<>();
        for (String s : STYLES) styleDirs.put(s, Installer.npm("emoji-datasource-" + s + "@16.0.0"));
        Path base = Installer.npm("emojibase-data@17.0.0");
        ObjectMapper json = new ObjectMapper();
        Map<String, JsonNode> cldr = new HashMap<>();
        Path compact = base.resolve("en/compact.json");
        try {
            for (JsonNode e : json.readTree(compact.toFile())) cldr.put(e.path("hexcode").asText().toUpperCase(Locale.ROOT), e);
        } catch (IOException e) {
            throw new DatasetException(compact + ": cannot read: " + e.getMessage());
        }
        List<List<String>> classes = new ArrayList<>(), keywords = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        Path meta = styleDirs.get("google").resolve("emoji.json");
        JsonNode all;
        try {
            all = json.readTree(meta.toFile());
        } catch (IOException e) {
            throw new DatasetException(meta + ": cannot read: " + e.getMessage());
        }
        for (JsonNode e : all) {
            String unified = e.path("unified").asText();
            if (isTest(unified) == train) continue;
            JsonNode info = cldr.get(unified);
            if (info == null) info = cldr.get(unified.replace("-FE0F", ""));
            String label = info != null ? info.path("label").asText() : e.path("name").asText().toLowerCase(Locale.ROOT);
            List<String> tags = new ArrayList<>();
            if (info != null) info.path("tags").forEach(t -> tags.add(t.asText()));
            List<String> images = new ArrayList<>();
            images.add(e.path("image").asText());
            e.path("skin_variations").forEach(v -> images.add(v.path("image").asText()));
            int cls = classes.size();
            boolean any = false;
            for (String style : STYLES) {
                if (onlyStyle != null && !style.equals(onlyStyle)) continue;
                for (String img : images) {
                    Path f = styleDirs.get(style).resolve("img/" + style + "/64/" + img);
                    if (Files.isRegularFile(f)) {
                        files.add(f);
                        labels.add(cls);
                        any = true;
                    }
                }
            }
            if (any) {
                classes.add(List.of(label));
                keywords.add(tags);
            }
        }
        if (files.isEmpty()) throw new DatasetException("emoji: no images found in the installed packages");
        String name = "emoji:" + (train ? "train" : "test") + (onlyStyle == null ? "" : "/" + onlyStyle);
        return new EmojiDataset(name, classes, keywords, files, labels);
    }

    /** Emoji captions and zero-shot prompts use emoji templates, not photo ones. */
    @Override
    public List<String> templates() {
        return TEMPLATES;
    }

    @Override
    public String caption(int index, SplittableRandom rng) {
        int c = label(index);
        String label = classNames().get(c);
        List<String> tags = keywords.get(c);
        String text = Prompts.fill(TEMPLATES.get(rng.nextInt(TEMPLATES.size())), label);
        if (!tags.isEmpty() && rng.nextBoolean()) text = text + " " + tags.get(rng.nextInt(tags.size()));
        return text;
    }
}
