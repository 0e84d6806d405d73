import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;

/**
 * The CPU's float32 FMA peak, measured (issue 13: "≥ 85 % of the CPU's fp32 FMA peak"). A VM hides the clock, so the
 * peak cannot be worked out from the model name; it is measured instead: each thread runs 16 independent chains of
 * fused multiply-adds on the widest vectors the JIT uses (FloatVector's preferred species: 16 floats on AVX-512, 8 on
 * AVX2), enough chains to cover the FMA units' latency × throughput (4 cycles × 2 units = 8 on current cores), with no
 * memory traffic. The best of several runs, all threads started together; one JSON line. Run with
 * {@code java --add-modules jdk.incubator.vector bench/FmaPeak.java [threads]}.
 */
public class FmaPeak {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int ITERATIONS = 20_000_000;
    static volatile float sink;

    /** 16 chains × ITERATIONS FMAs of S.length() lanes; returns a sum so that the JIT keeps the work. */
    static float chains(float seed) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f), c = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(S, seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3), a4 = a0.add(4),
                a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7), a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10),
                a11 = a0.add(11), a12 = a0.add(12), a13 = a0.add(13), a14 = a0.add(14), a15 = a0.add(15);
        for (int i = 0; i < ITERATIONS; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
            a12 = a12.fma(m, c); a13 = a13.fma(m, c); a14 = a14.fma(m, c); a15 = a15.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .add(a12).add(a13).add(a14).add(a15).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
        for (int i = 0; i < 3; i++) sink += chains(i); // compiled by C2 before timing
        double flopsPerRun = 2.0 * 16 * S.length() * (double) ITERATIONS * threads;
        double best = 0;
        for (int run = 0; run < 5; run++) {
            CyclicBarrier start = new CyclicBarrier(threads + 1), end = new CyclicBarrier(threads + 1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                float seed = t + run;
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                        sink += chains(seed);
                        end.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                th.start();
                ts.add(th);
            }
            start.await();
            long t0 = System.nanoTime();
            end.await();
            double sec = (System.nanoTime() - t0) / 1e9;
            best = Math.max(best, flopsPerRun / sec / 1e9);
            for (Thread th : ts) th.join();
        }
        System.out.printf("{\"what\": \"fp32 fma peak\", \"vector_bits\": %d, \"threads\": %d, \"gflops_best\": %.1f}%n",
                S.vectorBitSize(), threads, best);
    }
}
