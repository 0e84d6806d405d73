package dev.clip4j.index;

import org.apache.lucene.util.VectorUtil;

import java.util.ArrayList;
import java.util.List;

/**
 * Near-duplicate collapsing as clip-retrieval does it: walking the results best first, a result whose cosine with
 * one already kept is at least the threshold is dropped (the kept one stands for it).
 */
final class NearDuplicates {
    private NearDuplicates() {}

    static List<VectorStore.Scored> collapse(List<VectorStore.Scored> bestFirst, float threshold, int limit) {
        List<VectorStore.Scored> kept = new ArrayList<>();
        for (VectorStore.Scored s : bestFirst) {
            if (kept.size() == limit) break;
            boolean duplicate = false;
            for (VectorStore.Scored k : kept) {
                if (VectorUtil.dotProduct(s.vector(), k.vector()) >= threshold) {
                    duplicate = true;
                    break;
                }
            }
            if (!duplicate) kept.add(s);
        }
        return kept;
    }
}
