package dev.clip4j.index;

import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Where an index keeps its vectors and metadata, behind one interface so that a distributed vector engine can back
 * the same {@link ImageIndex} API when one machine is not enough. The embedded default is {@link LuceneVectorStore}.
 * Vectors are L2-normalised; scores are their dot products (cosines).
 */
public interface VectorStore extends AutoCloseable {
    /** A candidate with its exact cosine to the query and its stored vector. */
    record Scored(IndexedImage image, float[] vector, float score) {}

    int dimension();

    /** Entries (live images) in the store. */
    long size();

    /** Every entry by path. */
    Map<String, IndexedImage> entries();

    /** Calls {@code action} with every entry and its vector (a fresh array each time). */
    void forEach(BiConsumer<IndexedImage, float[]> action);

    /** The stored vector of {@code path}, or null if it is not in the store. */
    float[] vector(String path);

    /**
     * The nearest entries to {@code query}, best first, with exact cosines: all of them when {@code exact}, else the
     * approximate graph's {@code candidates} best, rescored exactly.
     */
    List<Scored> nearest(float[] query, int candidates, boolean exact);

    /** Adds or replaces the entry for {@code image.path()}. */
    void put(IndexedImage image, float[] vector);

    void remove(String path);

    /** Makes every change so far durable and visible at once (a crash keeps the last commit). */
    void commit();

    @Override
    void close();
}
