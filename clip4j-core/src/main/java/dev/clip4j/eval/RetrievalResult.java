package dev.clip4j.eval;

/** Recall@K in both directions (fractions) and mean rank (1 = first). */
public record RetrievalResult(String dataset, int pairs, Recall imageToText, Recall textToImage) {
    public record Recall(double r1, double r5, double r10, double meanRank) {}
}
