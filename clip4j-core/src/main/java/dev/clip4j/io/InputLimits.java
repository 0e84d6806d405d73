package dev.clip4j.io;

import dev.clip4j.InputException;

/**
 * The limits clip4j puts on what it reads, so that no file, image or request can take unbounded memory. Each is a
 * system property ({@code -Dclip4j.limits.NAME=VALUE}, e.g. in {@code CLIP4J_JAVA_OPTS}), read when it is used.
 * A refusal names the file and the limit.
 */
public enum InputLimits {
    /** Pixels per image, checked from the header before decoding: PIL's {@code MAX_IMAGE_PIXELS} (2^30 / 4 / 3). */
    MAX_IMAGE_PIXELS("maxImagePixels", 178_956_970L),
    /** Bytes of one pickle inside a checkpoint (a CLIP model's is under 1 MB; the tensors are separate records). */
    MAX_PICKLE_BYTES("maxPickleBytes", 64L << 20),
    /** Bytes inflated from compressed zip entries of one archive (torch.save stores tensors uncompressed). */
    MAX_INFLATED_BYTES("maxInflatedBytes", 256L << 20),
    /** Tokens per text row ({@code context_length}); OpenAI's models use 77. */
    MAX_CONTEXT_LENGTH("maxContextLength", 8192),
    /** Class labels encoded in one text batch by classification (more labels are encoded in several batches). */
    LABELS_PER_BATCH("labelsPerBatch", 256),
    /** Bytes of one image file read into memory by the index build (its pixels are limited separately). */
    MAX_IMAGE_FILE_BYTES("maxImageFileBytes", 256L << 20),
    /** Bytes of one upload to the HTTP service. */
    MAX_UPLOAD_BYTES("maxUploadBytes", 32L << 20),
    /** Characters of one text query to the HTTP service. */
    MAX_QUERY_CHARS("maxQueryChars", 2048);

    public final String property;
    public final long defaultValue;

    InputLimits(String name, long defaultValue) {
        this.property = "clip4j.limits." + name;
        this.defaultValue = defaultValue;
    }

    /** The value in force: the system property if set (a positive integer), else the default. */
    public long get() {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) return defaultValue;
        try {
            long n = Long.parseLong(v.trim().replace("_", ""));
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new InputException("-D" + property + "=" + v + ": expected a positive integer");
    }

    public int getInt() {
        return (int) Math.min(Integer.MAX_VALUE, get());
    }

    /** How a refusal tells the user to raise this limit. */
    public String hint() {
        return "limit " + property + "=" + get() + "; raise it with -D" + property + "=N in CLIP4J_JAVA_OPTS";
    }
}
