package dev.clip4j.model;

/**
 * The towers a piece of inference needs, so that a checkpoint's other tower is never read into memory: image
 * embeddings need the image tower only, a text query the text tower only ({@link ClipModel#dropTextTower},
 * {@link ClipModel#dropImageTower}). The logit scale is kept either way. A tower left out is still read once to be
 * hashed where a fingerprint is asked for and the checkpoint's format does not let it be hashed from the file
 * ({@link dev.clip4j.checkpoint.ModelFingerprint.FromFile}), since the fingerprint covers every weight.
 */
public enum Towers {
    BOTH, IMAGE, TEXT;

    /** Whether the state-dict entry {@code name} is read into memory for this work. */
    public boolean keeps(String name) {
        return switch (this) {
            case BOTH -> true;
            case IMAGE -> ClipModel.isImageSide(name);
            case TEXT -> ClipModel.isTextSide(name);
        };
    }

    /** Frees the tower {@code model} will not need here (before anything is read into it), returning it. */
    public ClipModel apply(ClipModel model) {
        return switch (this) {
            case BOTH -> model;
            case IMAGE -> model.dropTextTower();
            case TEXT -> model.dropImageTower();
        };
    }
}
