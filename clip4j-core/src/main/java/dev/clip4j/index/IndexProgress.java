package dev.clip4j.index;

/** Progress of a build or update: of the images that needed hashing or embedding, how many are done. */
@FunctionalInterface
public interface IndexProgress {
    void progress(int done, int total);

    IndexProgress NONE = (done, total) -> {};
}
