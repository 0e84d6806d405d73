package dev.clip4j.index;

/**
 * What an index keeps about one image besides its vector.
 *
 * @param path     the file's absolute, normalised path (the entry's key)
 * @param size     bytes of the file when it was embedded
 * @param modified its modification time then, in milliseconds since the epoch
 * @param sha256   SHA-256 of its bytes (an unchanged file under a new time or name is not embedded again)
 * @param caption  the caption from a captions file, or "" for a folder's image
 */
public record IndexedImage(String path, long size, long modified, String sha256, String caption) {}
