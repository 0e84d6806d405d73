package dev.clip4j.index;

/**
 * How to search.
 *
 * @param k          results to return (at most), 1 to {@link #MAX_K}
 * @param minScore   drop results under this cosine; {@code Float.NEGATIVE_INFINITY} keeps all
 * @param dedup      collapse near-duplicates: a result whose cosine with a better one is at least this is dropped (as
 *                   clip-retrieval does); {@code Float.NaN} keeps them
 * @param method     {@link Method#AUTO}: brute force under {@link #EXACT_BELOW} vectors, the HNSW graph above;
 *                   or always {@link Method#EXACT} or always {@link Method#GRAPH}
 * @param candidates how many candidates the graph search collects before exact rescoring (HNSW's ef); at least k
 */
public record SearchOptions(int k, float minScore, float dedup, Method method, int candidates) {
    public enum Method { AUTO, EXACT, GRAPH }

    public static final int MAX_K = 1000;
    /** Below this many vectors brute force is as fast as the graph and always exact. */
    public static final int EXACT_BELOW = 20_000;
    /** The graph's default candidate count: recall@10 0.978 on 100k 512-d vectors built as index build writes them, 18.8 ms on Zen 5 (bench/RESULTS.md). */
    public static final int DEFAULT_CANDIDATES = 200;

    public SearchOptions {
        java.util.Objects.requireNonNull(method, "method");
        if (k < 1 || k > MAX_K) throw new IndexException("k = " + k + ": expected 1 to " + MAX_K);
        if (Float.isNaN(minScore) || minScore > 1) throw new IndexException("min score " + minScore + ": expected a cosine, at most 1");
        if (!Float.isNaN(dedup) && (dedup <= 0 || dedup > 1)) throw new IndexException("dedup threshold " + dedup + ": expected a cosine in (0, 1]");
        if (candidates < 1 || candidates > 100_000) throw new IndexException("candidates = " + candidates + ": expected 1 to 100000");
    }

    public static SearchOptions top(int k) {
        return new SearchOptions(k, Float.NEGATIVE_INFINITY, Float.NaN, Method.AUTO, Math.max(k, DEFAULT_CANDIDATES));
    }

    public SearchOptions withMinScore(float s) {
        return new SearchOptions(k, s, dedup, method, candidates);
    }

    public SearchOptions withDedup(float threshold) {
        return new SearchOptions(k, minScore, threshold, method, candidates);
    }

    public SearchOptions withMethod(Method m) {
        return new SearchOptions(k, minScore, dedup, m, candidates);
    }

    public SearchOptions withCandidates(int c) {
        return new SearchOptions(k, minScore, dedup, method, Math.max(k, c));
    }
}
