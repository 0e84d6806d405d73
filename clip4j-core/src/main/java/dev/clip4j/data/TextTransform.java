package dev.clip4j.data;

import dev.clip4j.tokenizer.ClipTokenizer;

/**
 * A data stage: a caption to one row of token ids (zero padded to the context length). Replaceable: pretraining
 * objectives add special tokens or masking here.
 */
@FunctionalInterface
public interface TextTransform {
    long[] apply(String caption);

    /** {@code clip.tokenize(caption, contextLength, truncate=True)}. */
    static TextTransform clip(int contextLength) {
        ClipTokenizer tok = ClipTokenizer.getDefault();
        return caption -> tok.tokenize(caption, contextLength, true);
    }
}
