package dev.clip4j.dist;

import dev.clip4j.InputException;

import java.time.Duration;
import java.util.Map;

/**
 * Where this process stands in a distributed run, from torchrun's environment variables: {@code RANK},
 * {@code WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}, {@code LOCAL_RANK}; plus {@code CLIP4J_DIST_TIMEOUT}
 * (seconds a collective may wait for a peer, default 1800: rank 0's checkpoints and evaluations run while the others
 * wait) and {@code CLIP4J_DIST_ADDR} (the address peers reach this process at; default: 127.0.0.1 when the master
 * is local, else this machine's host name, as Gloo's default device).
 */
public record DistEnv(int rank, int worldSize, int localRank, String masterAddr, int masterPort, String localAddress,
                      Duration timeout) {
    public static final int DEFAULT_TIMEOUT_SECONDS = 1800;

    /** The run's place from {@code env}; null when {@code WORLD_SIZE} is unset (a single-process run). */
    public static DistEnv from(Map<String, String> env) {
        String world = env.get("WORLD_SIZE");
        if (world == null || world.isBlank()) return null;
        int size = integer(env, "WORLD_SIZE", 1, 65536);
        int rank = integer(env, "RANK", 0, size - 1);
        int localRank = env.containsKey("LOCAL_RANK") ? integer(env, "LOCAL_RANK", 0, size - 1) : rank;
        String addr = env.getOrDefault("MASTER_ADDR", "127.0.0.1");
        if (addr.isBlank()) throw new InputException("MASTER_ADDR is empty");
        int port = integer(env, "MASTER_PORT", 1, 65535);
        int timeout = env.containsKey("CLIP4J_DIST_TIMEOUT") ? integer(env, "CLIP4J_DIST_TIMEOUT", 1, 86400) : DEFAULT_TIMEOUT_SECONDS;
        String local = env.get("CLIP4J_DIST_ADDR");
        if (local == null || local.isBlank()) local = isLoopback(addr) ? "127.0.0.1" : null;
        return new DistEnv(rank, size, localRank, addr, port, local, Duration.ofSeconds(timeout));
    }

    /** The environment of this process. */
    public static DistEnv fromSystem() {
        return from(System.getenv());
    }

    static boolean isLoopback(String host) {
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
    }

    private static int integer(Map<String, String> env, String name, int min, int max) {
        String v = env.get(name);
        if (v == null || v.isBlank()) throw new InputException(name + " is not set (a distributed run needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)");
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) throw new InputException(name + " must be " + min + ".." + max + ", got " + n);
            return n;
        } catch (NumberFormatException e) {
            throw new InputException(name + " must be an integer, got '" + v + "'");
        }
    }
}
