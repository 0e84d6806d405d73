package dev.clip4j.serve;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Search counts and the latency of the last 1,000 searches (p50, p99), for {@code /api/stats}. */
final class ServiceStats {
    private final double[] recent = new double[1000];
    private long count;
    private final long started = System.nanoTime();

    synchronized void record(double ms) {
        recent[(int) (count++ % recent.length)] = ms;
    }

    synchronized Map<String, Object> snapshot() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("searches", count);
        m.put("uptime_s", Math.round((System.nanoTime() - started) / 1e9));
        int n = (int) Math.min(count, recent.length);
        if (n > 0) {
            double[] s = Arrays.copyOf(recent, n);
            Arrays.sort(s);
            m.put("latency_ms_p50", s[(int) Math.floor(0.50 * (n - 1))]);
            m.put("latency_ms_p99", s[(int) Math.floor(0.99 * (n - 1))]);
        }
        return m;
    }
}
