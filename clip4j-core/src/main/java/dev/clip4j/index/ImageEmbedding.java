package dev.clip4j.index;

/**
 * One image's row in an embeddings file ({@code embed --images DIR}'s JSON lines, {@code spark-embed}'s Parquet), which
 * {@code index build --embeddings} turns into an index without running the model again.
 *
 * @param path      the file's absolute, normalised path
 * @param embedding the normalised image features, or null when the image could not be read ({@code error} says why)
 * @param width     the decoded image's width in pixels (0 when unreadable)
 * @param height    its height
 * @param size      bytes of the file
 * @param modified  its modification time, milliseconds since the epoch (0 if unknown)
 * @param sha256    SHA-256 of its bytes
 * @param error     why the image has no embedding, or null
 * @param model     the fingerprint (weights SHA-256) of the model that embedded it, so an index is built only with its model
 */
public record ImageEmbedding(String path, float[] embedding, int width, int height, long size, long modified, String sha256,
                             String error, String model) {}
