package dev.clip4j.eval;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RetrievalTest {
    private static float[] unit(double angle) {
        return new float[] {(float) Math.cos(angle), (float) Math.sin(angle)};
    }

    @Test
    void ranksAndRecallsWithSharedCaptions() {
        // Queries 0..3; candidate i is the match of query i, except that query 3's nearest candidate is 2.
        float[][] q = {unit(0), unit(1), unit(2), unit(2.05)};
        float[][] c = {unit(0), unit(1), unit(2), unit(3)};
        RetrievalResult.Recall distinct = Retrieval.recall(Similarity.scores(q, c), new int[] {0, 1, 2, 3});
        assertThat(distinct.r1()).isEqualTo(0.75);
        assertThat(distinct.meanRank()).isEqualTo((1 + 1 + 1 + 2) / 4.0);
        // Items 2 and 3 share a caption: candidate 2 now counts as correct for query 3.
        RetrievalResult.Recall shared = Retrieval.recall(Similarity.scores(q, c), new int[] {0, 1, 2, 2});
        assertThat(shared.r1()).isEqualTo(1.0);
        assertThat(shared.r5()).isEqualTo(1.0);
        assertThat(shared.meanRank()).isEqualTo(1.0);
    }
}
