package dev.clip4j.opensearch;

import dev.clip4j.index.VectorStore;
import dev.clip4j.index.VectorStoreFactory;

/** Serves store locations {@code opensearch:http://HOST:PORT/INDEX} (see {@link OpenSearchVectorStore}). */
public final class OpenSearchStoreFactory implements VectorStoreFactory {
    @Override
    public String scheme() {
        return OpenSearchVectorStore.SCHEME;
    }

    @Override
    public VectorStore openForWriting(String location, int dimension) {
        return OpenSearchVectorStore.open(location, dimension, true);
    }

    @Override
    public VectorStore openForReading(String location, int dimension) {
        return OpenSearchVectorStore.open(location, dimension, false);
    }
}
