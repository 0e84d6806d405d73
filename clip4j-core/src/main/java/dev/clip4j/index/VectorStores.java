package dev.clip4j.index;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Where an index's vectors live: {@link #EMBEDDED} (a Lucene index inside the index directory, the default) or an
 * external engine's location served by a {@link VectorStoreFactory} on the class path.
 */
public final class VectorStores {
    /** The store location of an index whose vectors are in its own {@code lucene/} folder. */
    public static final String EMBEDDED = "lucene";

    private VectorStores() {}

    static VectorStore open(Path indexDir, String location, int dimension, boolean writing) {
        if (EMBEDDED.equals(location)) {
            Path dir = indexDir.resolve(ImageIndex.STORE_DIR);
            return writing ? LuceneVectorStore.openForWriting(dir, dimension) : LuceneVectorStore.openForReading(dir, dimension);
        }
        VectorStoreFactory f = factory(location);
        return writing ? f.openForWriting(location, dimension) : f.openForReading(location, dimension);
    }

    /** Checks that {@code location} is the embedded store or names a scheme some factory on the class path serves. */
    public static void check(String location) {
        if (location == null || location.isBlank()) throw new IndexException("an empty --store location");
        if (!EMBEDDED.equals(location)) factory(location);
    }

    private static VectorStoreFactory factory(String location) {
        int colon = location.indexOf(':');
        String scheme = colon < 0 ? location : location.substring(0, colon);
        List<String> known = new ArrayList<>(List.of(EMBEDDED));
        for (VectorStoreFactory f : ServiceLoader.load(VectorStoreFactory.class)) {
            if (f.scheme().equals(scheme) && colon > 0) return f;
            known.add(f.scheme() + ":...");
        }
        throw new IndexException("store " + location + ": unknown; expected one of " + String.join(", ", known));
    }
}
