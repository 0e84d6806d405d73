package dev.clip4j.dist;

import dev.clip4j.InputException;
import dev.clip4j.data.BatchLoader;
import dev.clip4j.torch.Autograd;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.ProcessGroup;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Data-parallel training over a {@link ProcessGroup}: every rank holds the whole model and optimizer, computes its
 * shard of each global batch, and the ranks agree on everything that decides the next step (gradients summed,
 * losses summed, stop requests and elapsed time shared), so the replicas never drift apart. Rank 0 alone writes
 * (checkpoints, metrics, progress).
 */
public final class DataParallel implements AutoCloseable {
    /** Bucket size of the gradient allreduce: few enough collectives, small enough copies (DDP's default is 25 MB). */
    static final long BUCKET_BYTES = 25L << 20;

    private final ProcessGroup group;
    /** Time spent in collectives and the bytes this rank handed to them, since the start (for the metrics log). */
    private long commNanos, commBytes;

    public DataParallel(ProcessGroup group) {
        this.group = group;
    }

    /** Joins the group described by the environment (torchrun's variables, {@link DistEnv}). */
    public static DataParallel join(DistEnv env) {
        try {
            return new DataParallel(ProcessGroup.join(env.masterAddr(), env.masterPort(), env.rank(), env.worldSize(),
                    env.localAddress(), env.timeout()));
        } catch (RuntimeException e) {
            throw new InputException("rank " + env.rank() + " could not join the " + env.worldSize() + "-process group at "
                    + env.masterAddr() + ":" + env.masterPort() + " within " + env.timeout().toSeconds() + " s: " + firstLine(e));
        }
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }

    public int rank() {
        return group.rank();
    }

    public int size() {
        return group.size();
    }

    /** Rank 0: the one that writes checkpoints, metrics and progress. */
    public boolean isLeader() {
        return group.rank() == 0;
    }

    /** This rank's share of a global batch, which must split evenly. */
    public int localBatch(int globalBatch) {
        if (globalBatch % size() != 0) {
            throw new InputException("--batch-size " + globalBatch + " (the global batch) must be a multiple of the " + size() + " ranks");
        }
        return globalBatch / size();
    }

    /** This rank's slice of every global batch. */
    public BatchLoader.Shard shard() {
        return new BatchLoader.Shard(rank(), size());
    }

    /** Sets every tensor (parameters, buffers) to rank 0's value, so all replicas start identical. */
    public void broadcastFromLeader(Collection<Tensor> tensors) {
        Grad.noGrad(() -> {
            for (Tensor t : tensors) {
                try (Scope s = Scope.open()) {
                    long t0 = System.nanoTime();
                    if (t.is_contiguous()) {
                        group.broadcast(t, 0);
                    } else {
                        Tensor c = t.contiguous();
                        group.broadcast(c, 0);
                        t.copy_(c);
                    }
                    count(t0, t.nbytes());
                }
            }
        });
    }

    /** Sums the gradients of {@code parameters} over the ranks (those that have one; the same on every rank). */
    public void sumGradients(Collection<Tensor> parameters) {
        List<Tensor> grads = new ArrayList<>();
        long bytes = 0;
        for (Tensor p : parameters) {
            if (Autograd.hasGrad(p)) {
                grads.add(p.grad());
                bytes += p.grad().nbytes();
            }
        }
        long t0 = System.nanoTime();
        Grad.noGrad(() -> group.allreduceSum(grads, BUCKET_BYTES));
        count(t0, bytes);
    }

    /** Sums {@code t} over the ranks, in place. */
    public void sum(Tensor t) {
        long t0 = System.nanoTime();
        group.allreduceSum(t);
        count(t0, t.nbytes());
    }

    /** The sum over the ranks of each value. */
    public double[] sum(double... values) {
        try (Scope s = Scope.open()) {
            Tensor t = Tensors.fromDoubles(values.clone(), values.length);
            group.allreduceSum(t);
            return Tensors.toDoubles(t);
        }
    }

    /** Every rank's rows of {@code local} (same shape everywhere), in rank order. */
    public Tensor gather(Tensor local) {
        long t0 = System.nanoTime();
        Tensor all = group.allgather(local.contiguous());
        count(t0, local.nbytes());
        return all;
    }

    private void count(long startNanos, long bytes) {
        commNanos += System.nanoTime() - startNanos;
        commBytes += bytes;
    }

    /** Seconds spent in collectives (waiting for peers included) and bytes sent into them, since this rank joined. */
    public record Traffic(double seconds, long bytes) {}

    public Traffic traffic() {
        return new Traffic(commNanos / 1e9, commBytes);
    }

    /** What all ranks agree on before a step: stop if any rank was asked to, and the largest elapsed time. */
    public record Agreement(boolean stop, double elapsedSeconds) {}

    public Agreement agree(boolean stop, double elapsedSeconds) {
        try (Scope s = Scope.open()) {
            Tensor t = Tensors.fromDoubles(new double[] {stop ? 1 : 0, elapsedSeconds}, 2);
            group.allreduceMax(t);
            double[] v = Tensors.toDoubles(t);
            return new Agreement(v[0] > 0, v[1]);
        }
    }

    /** Returns once every rank has reached it. */
    public void barrier() {
        group.barrier();
    }

    @Override
    public void close() {
        group.close();
    }
}
