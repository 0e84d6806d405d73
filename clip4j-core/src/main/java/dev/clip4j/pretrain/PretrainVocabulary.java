package dev.clip4j.pretrain;

import dev.clip4j.tokenizer.ClipTokenizer;

/**
 * The text side of pretraining: CLIP's BPE vocabulary (49,408 ids) plus one [MASK] id. CLIP's start-of-text token
 * serves as [CLS] (the fused sequence's first position, pooled for ITM) and end-of-text as [SEP] (pooled for ITC, as in
 * CLIP); padding keeps CLIP's id 0 and is masked as keys by position (everything after end-of-text), never by id.
 */
public final class PretrainVocabulary {
    private PretrainVocabulary() {}

    public static final int CLS = ClipTokenizer.SOT;
    public static final int SEP = ClipTokenizer.EOT;
    /** The first id after CLIP's vocabulary. */
    public static final int MASK = 49408;
    /** The text encoder's vocabulary: CLIP's plus [MASK]; a CLIP text tower's 49,408 embedding rows load into the first rows. */
    public static final int SIZE = MASK + 1;
    /** MLM's random replacements are drawn from the ordinary tokens [0, CLS): never a special token. */
    public static final int ORDINARY = CLS;
}
