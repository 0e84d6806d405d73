package dev.clip4j.cli;

/** Range checks shared by the commands' numeric options; each message names the flag. */
final class Options {
    private Options() {}

    static int threads(int threads) {
        if (threads < 0 || threads > 1024) throw new UserError("--threads must be 0 (one per core) to 1024, got " + threads);
        return threads;
    }

    static int batchSize(int n) {
        if (n < 1 || n > 65536) throw new UserError("--batch-size must be 1 to 65536, got " + n);
        return n;
    }

    static double finite(String flag, double v) {
        if (!Double.isFinite(v)) throw new UserError(flag + " must be a finite number, got " + v);
        return v;
    }
}
