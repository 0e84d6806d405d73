package dev.clip4j.index;

/**
 * Opens the {@link VectorStore}s of one kind of vector engine, found with {@link java.util.ServiceLoader} (a
 * {@code META-INF/services/dev.clip4j.index.VectorStoreFactory} entry), so an engine's client library is needed only
 * where that engine is used. An index records its store as a location {@code SCHEME:REST} (for example
 * {@code opensearch:http://127.0.0.1:9200/photos}); the factory whose {@link #scheme()} is {@code SCHEME} opens it.
 */
public interface VectorStoreFactory {
    /** The location prefix this factory serves, e.g. {@code "opensearch"}. */
    String scheme();

    /** Opens (creating it if missing) the store at {@code location} for reading and writing. */
    VectorStore openForWriting(String location, int dimension);

    /** Opens the existing store at {@code location} for searching. */
    VectorStore openForReading(String location, int dimension);
}
