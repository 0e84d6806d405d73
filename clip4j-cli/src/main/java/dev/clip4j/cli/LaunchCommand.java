package dev.clip4j.cli;

import dev.clip4j.io.StopSignal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Starts the ranks of a distributed run on this machine as child JVMs, as torchrun does: each gets torchrun's
 * variables (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) and its share of the cores; their output comes
 * back here (rank 0's as is, the others' prefixed with their rank); when one rank fails, the others are stopped and
 * the launcher exits with the failed rank's code; a signal here is passed on to every rank (they checkpoint and stop
 * together); and a rank whose launcher disappears stops itself ({@link ParentWatch}).
 */
@Command(name = "launch", description = "Run a command (train) as N data-parallel ranks: ./clip4j launch --nproc 2 -- train ...")
final class LaunchCommand implements Callable<Integer> {
    /** Seconds the others get to exit after a rank failed or a signal was passed on, before they are killed. */
    static final long GRACE_SECONDS = 20;

    @Option(names = "--nproc", required = true, description = "Ranks on this machine (1..64).")
    int nproc;

    @Option(names = "--threads-per-proc", defaultValue = "0", description = "libtorch threads of each rank (default: the "
            + "machine's cores divided among the ranks, at least 1).")
    int threadsPerProc;

    @Option(names = "--nnodes", defaultValue = "1", description = "Machines taking part (each runs this launcher).")
    int nnodes;

    @Option(names = "--node-rank", defaultValue = "0", description = "This machine's place, 0..nnodes-1 (node 0 hosts rank 0).")
    int nodeRank;

    @Option(names = "--master-addr", defaultValue = "127.0.0.1", description = "Address of node 0 (default ${DEFAULT-VALUE}).")
    String masterAddr;

    @Option(names = "--master-port", defaultValue = "0", description = "Port of rank 0's store (default: a free port on one "
            + "machine; required with --nnodes > 1).")
    int masterPort;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "After --: the command every rank runs (train ...).")
    List<String> command;

    @Override
    public Integer call() throws Exception {
        if (nproc < 1 || nproc > 64) throw new UserError("--nproc must be 1..64, got " + nproc);
        if (nnodes < 1 || nnodes > 4096) throw new UserError("--nnodes must be 1..4096, got " + nnodes);
        if (nodeRank < 0 || nodeRank >= nnodes) throw new UserError("--node-rank must be 0.." + (nnodes - 1) + ", got " + nodeRank);
        if (threadsPerProc < 0 || threadsPerProc > 1024) throw new UserError("--threads-per-proc must be 0..1024, got " + threadsPerProc);
        if (masterPort < 0 || masterPort > 65535) throw new UserError("--master-port must be 1..65535, got " + masterPort);
        if (nnodes > 1 && masterPort == 0) throw new UserError("--master-port is required with --nnodes > 1 (the same on every node)");
        String sub = command.get(0);
        if (!sub.equals("train") && !sub.equals("pretrain")) {
            throw new UserError("launch runs train (distributed CLIP training), got '" + sub + "'");
        }
        int port = masterPort != 0 ? masterPort : freePort();
        int threads = threadsPerProc > 0 ? threadsPerProc : Math.max(1, Runtime.getRuntime().availableProcessors() / nproc);
        int world = nnodes * nproc;
        List<Process> ranks = new ArrayList<>();
        List<Thread> pumps = new ArrayList<>();
        try {
            for (int local = 0; local < nproc; local++) {
                int rank = nodeRank * nproc + local;
                ProcessBuilder pb = new ProcessBuilder(childCommand());
                Map<String, String> env = pb.environment();
                env.put("RANK", Integer.toString(rank));
                env.put("LOCAL_RANK", Integer.toString(local));
                env.put("WORLD_SIZE", Integer.toString(world));
                env.put("MASTER_ADDR", masterAddr);
                env.put("MASTER_PORT", Integer.toString(port));
                env.put(CommonOptions.Threads.ENV, Integer.toString(threads));
                // OpenBLAS sizes its pool at load: as many as the rank's libtorch threads (pitfall 5; ./clip4j sets
                // OMP_WAIT_POLICY=PASSIVE, which the ranks inherit)
                env.put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
                // MKL (libtorch's BLAS on Intel CPUs) likewise, reproducible run to run (dev.clip4j.torch.Blas)
                env.put("MKL_NUM_THREADS", Integer.toString(threads));
                env.put("MKL_DYNAMIC", "FALSE");
                env.putIfAbsent("MKL_CBWR", "AUTO,STRICT");
                env.put(ParentWatch.ENV, Long.toString(ProcessHandle.current().pid()));
                Process p = pb.start();
                ranks.add(p);
                System.err.println("clip4j: launch: rank " + rank + " of " + world + " is pid " + p.pid() + " (" + threads
                        + " thread" + (threads == 1 ? "" : "s") + ")");
                pumps.add(pump(p.getInputStream(), rank, true));
                pumps.add(pump(p.getErrorStream(), rank, false));
            }
            int code = supervise(ranks, nodeRank * nproc);
            for (Thread t : pumps) t.join(5000);
            return code;
        } finally {
            for (Process p : ranks) if (p.isAlive()) p.destroyForcibly();
        }
    }

    /** Waits for every rank; the first to fail (or a signal here) stops the others. The exit code. */
    private static int supervise(List<Process> ranks, int firstRank) throws InterruptedException {
        boolean forwarded = false;
        boolean[] reported = new boolean[ranks.size()];
        while (true) {
            boolean allDone = true;
            for (int i = 0; i < ranks.size(); i++) {
                Process p = ranks.get(i);
                if (p.isAlive()) {
                    allDone = false;
                    continue;
                }
                int code = p.exitValue();
                if (!reported[i] && forwarded) {
                    reported[i] = true;
                    System.err.println("clip4j: launch: rank " + (firstRank + i) + " " + describe(code));
                }
                if (code != 0 && !forwarded) {
                    System.err.println("clip4j: launch: rank " + (firstRank + i) + " " + describe(code) + "; stopping the other ranks");
                    stopAll(ranks);
                    return code;
                }
            }
            if (allDone) {
                int code = 0;
                for (Process p : ranks) if (p.exitValue() != 0 && code == 0) code = p.exitValue();
                return code;
            }
            if (StopSignal.requested() && !forwarded) {
                // the ranks agree on a stop between steps and checkpoint; SIGTERM is how each learns of it
                forwarded = true;
                for (Process p : ranks) terminate(p);
            }
            Thread.sleep(100);
        }
    }

    static String describe(int code) {
        return switch (code) {
            case 0 -> "finished";
            case 137 -> "was killed (SIGKILL, exit code 137)";
            case 143 -> "stopped on SIGTERM (exit code 143)";
            case 130 -> "stopped on SIGINT (exit code 130)";
            default -> code > 128 && code < 160 ? "was ended by signal " + (code - 128) + " (exit code " + code + ")"
                    : "exited with code " + code;
        };
    }

    /** SIGTERM to every rank still running, then SIGKILL to those left after the grace period. */
    private static void stopAll(List<Process> ranks) throws InterruptedException {
        for (Process p : ranks) if (p.isAlive()) terminate(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(GRACE_SECONDS);
        for (Process p : ranks) {
            long left = deadline - System.nanoTime();
            if (left > 0) p.waitFor(left, TimeUnit.NANOSECONDS);
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * SIGTERM through the process handle: {@code Process.destroy()} also closes our ends of the rank's pipes, and the
     * rank's last words (the checkpoint it wrote, its result line) would be lost.
     */
    private static void terminate(Process p) {
        p.toHandle().destroy();
    }

    /** The same JVM (its options, class path and main class) running the command. */
    private List<String> childCommand() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib:jdwp")) cmd.add(a); // a debugger port can be bound once only
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(command);
        return cmd;
    }

    /**
     * Copies a rank's output here. Rank 0's standard error goes through untouched (its progress bar redraws with
     * carriage returns); everything else is line by line, prefixed with the rank. Gloo prints its connection line on
     * standard output: it goes to standard error, so that standard output stays rank 0's JSON result.
     */
    private static Thread pump(InputStream in, int rank, boolean stdout) {
        Thread t = new Thread(() -> {
            try {
                if (rank == 0 && !stdout) {
                    in.transferTo(System.err); // System.err flushes every write; transferTo leaves it open
                    return;
                }
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                String line;
                while ((line = r.readLine()) != null) {
                    if (stdout && rank == 0 && !line.startsWith("[Gloo]")) {
                        System.out.println(line);
                    } else {
                        System.err.println("[rank " + rank + "] " + line);
                    }
                }
            } catch (IOException e) {
                // the rank ended
            }
        }, "clip4j-launch-rank" + rank + (stdout ? "-out" : "-err"));
        t.setDaemon(true);
        t.start();
        return t;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
