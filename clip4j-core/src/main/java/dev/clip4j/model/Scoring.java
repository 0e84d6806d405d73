package dev.clip4j.model;

/**
 * How a model compares an image with a text. {@link #POOLED} is CLIP's: the cosine of one pooled vector per side.
 * {@link #TOKEN_WISE} is FILIP's late interaction over token features ({@link TokenWiseSimilarity}), for models
 * trained with it; zero-shot and retrieval then score with it too. Saved in a clip4j model's {@code clip4j.json}.
 */
public enum Scoring {
    POOLED("pooled"),
    TOKEN_WISE("token-wise");

    private final String id;

    Scoring(String id) {
        this.id = id;
    }

    /** The name in {@code clip4j.json} ({@code "scoring"}). */
    public String id() {
        return id;
    }

    public static Scoring fromId(String id, String origin) {
        for (Scoring s : values()) if (s.id.equals(id)) return s;
        throw new IllegalArgumentException(origin + ": unknown scoring '" + id + "' (expected pooled or token-wise)");
    }
}
