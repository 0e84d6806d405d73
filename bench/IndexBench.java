import dev.clip4j.index.IndexedImage;
import dev.clip4j.index.LuceneVectorStore;
import dev.clip4j.index.VectorStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The search index at scale (issue 12): N normalised vectors with realistic low-rank structure (rank 64 plus
 * noise, like CLIP features) put into the Lucene store exactly as `index build` does (a commit every 32), then
 * QUERIES fresh queries searched exactly (brute force, the ground truth) and through the HNSW graph at several
 * candidate counts: recall@10, p50/p99 latency, build time, size on disk. One JSON line per setting.
 *   java -cp "$(ls clip4j-cli/target/lib/*.jar | tr '\n' :)" bench/IndexBench.java N DIM QUERIES DIR
 */
public class IndexBench {
    public static void main(String[] a) throws Exception {
        int n = Integer.parseInt(a[0]), dim = Integer.parseInt(a[1]), queries = Integer.parseInt(a[2]);
        Path dir = Path.of(a[3]);
        Random rng = new Random(1);
        int rank = 64;
        float[][] basis = new float[rank][dim];
        for (float[] b : basis) for (int j = 0; j < dim; j++) b[j] = (float) rng.nextGaussian();
        long t0 = System.nanoTime();
        try (LuceneVectorStore store = LuceneVectorStore.openForWriting(dir, dim)) {
            for (int i = 0; i < n; i++) {
                store.put(new IndexedImage("/images/" + i + ".jpg", 1000 + i, 0, Integer.toHexString(i), ""), sample(rng, basis, dim));
                if (i % 32 == 31) store.commit();
            }
            store.commit();
        }
        double buildS = (System.nanoTime() - t0) / 1e9;
        long bytes;
        try (var s = Files.list(dir)) {
            bytes = s.mapToLong(p -> p.toFile().length()).sum();
        }
        System.out.printf("{\"n\": %d, \"dim\": %d, \"build_s\": %.1f, \"size_mb\": %.1f, \"cpu\": \"%s\"}%n", n, dim, buildS, bytes / 1e6,
                System.getenv().getOrDefault("CPU", "?"));
        float[][] q = new float[queries][];
        for (int i = 0; i < queries; i++) q[i] = sample(rng, basis, dim);
        try (LuceneVectorStore store = LuceneVectorStore.openForReading(dir, dim)) {
            for (int w = 0; w < 20; w++) store.nearest(q[w % queries], 10, true);
            List<Set<String>> truth = new java.util.ArrayList<>();
            double[] ms = new double[queries];
            for (int i = 0; i < queries; i++) {
                long s = System.nanoTime();
                List<VectorStore.Scored> r = store.nearest(q[i], 10, true);
                ms[i] = (System.nanoTime() - s) / 1e6;
                Set<String> ids = new HashSet<>();
                for (VectorStore.Scored x : r) ids.add(x.image().path());
                truth.add(ids);
            }
            report("exact", 0, 1.0, ms);
            for (int cand : new int[] {10, 50, 100, 200, 400, 800}) {
                for (int w = 0; w < 20; w++) store.nearest(q[w % queries], cand, false);
                int hit = 0;
                for (int i = 0; i < queries; i++) {
                    long s = System.nanoTime();
                    List<VectorStore.Scored> r = store.nearest(q[i], cand, false);
                    ms[i] = (System.nanoTime() - s) / 1e6;
                    for (int k = 0; k < Math.min(10, r.size()); k++) if (truth.get(i).contains(r.get(k).image().path())) hit++;
                }
                report("hnsw", cand, hit / (10.0 * queries), ms);
            }
        }
    }

    static float[] sample(Random rng, float[][] basis, int dim) {
        float[] v = new float[dim];
        for (float[] b : basis) {
            float z = (float) rng.nextGaussian();
            for (int j = 0; j < dim; j++) v[j] += z * b[j];
        }
        double norm = 0;
        for (int j = 0; j < dim; j++) {
            v[j] += (float) (rng.nextGaussian() * 2.0);
            norm += v[j] * v[j];
        }
        for (int j = 0; j < dim; j++) v[j] /= (float) Math.sqrt(norm);
        return v;
    }

    static void report(String method, int candidates, double recall, double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        System.out.printf("{\"method\": \"%s\", \"candidates\": %d, \"recall_at_10\": %.4f, \"p50_ms\": %.2f, \"p99_ms\": %.2f}%n", method, candidates,
                recall, s[s.length / 2], s[(int) Math.floor(0.99 * (s.length - 1))]);
    }
}
