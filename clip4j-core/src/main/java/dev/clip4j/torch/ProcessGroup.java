package dev.clip4j.torch;

import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.gloo.Device;

import java.time.Duration;

/**
 * A group of processes that exchange tensors: libtorch's c10d Gloo backend over a {@link TCPStore} (rank 0 serves
 * it), on CPU tensors, every collective blocking until done.
 *
 * <p>Pitfall 11: {@code new ProcessGroup(store, rank, size)} aborts the JVM and the 3-argument
 * {@code ProcessGroupGloo} constructor fails with "No device(s) specified", so the options carry a device made for
 * the address peers reach this process at; timeouts need JavaCPP's own natives (the {@code javacpp} jar of the
 * platform) on the class path. The store, options and device are fields so that the native objects they wrap live
 * as long as the group (pitfall 2). A dead peer surfaces as a {@link RuntimeException} from the collective that
 * waited on it ("Connection closed by peer"), or as a timeout.
 */
public final class ProcessGroup implements AutoCloseable {
    /**
     * Every group's native objects, never freed: destroying a Gloo group (or its store) from the garbage collector's
     * thread while a peer still holds the connection aborted the JVM (SIGABRT in the test suite's third group). A
     * process joins one group per run, so keeping them costs a few sockets and threads until exit.
     */
    private static final java.util.List<Object> KEEP_ALIVE = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    private final int rank, size;
    private final TCPStore store;
    private final ProcessGroupGloo.Options options;
    private final Device device;
    private final ProcessGroupGloo group;
    private volatile boolean closed;

    private ProcessGroup(int rank, int size, TCPStore store, ProcessGroupGloo.Options options, Device device, ProcessGroupGloo group) {
        this.rank = rank;
        this.size = size;
        this.store = store;
        this.options = options;
        this.device = device;
        this.group = group;
    }

    /**
     * Joins the group of {@code size} processes whose store rank 0 serves at {@code masterAddr:masterPort}.
     * {@code localAddress} is the address this process's peers connect to (a host name or IP; null: this machine's
     * host name, as torchrun's default). Blocks until every rank has joined, or {@code timeout} passes.
     */
    public static ProcessGroup join(String masterAddr, int masterPort, int rank, int size, String localAddress, Duration timeout) {
        if (size < 1) throw new IllegalArgumentException("world size must be at least 1, got " + size);
        if (rank < 0 || rank >= size) throw new IllegalArgumentException("rank " + rank + " is outside 0.." + (size - 1));
        if (masterPort < 1 || masterPort > 65535) throw new IllegalArgumentException("master port must be 1..65535, got " + masterPort);
        Torch.init();
        Milliseconds ms = new Milliseconds(Math.max(1, timeout.toMillis()));
        TCPStoreOptions so = new TCPStoreOptions();
        so.port((short) masterPort); // uint16_t in C++: the cast keeps the bits of ports above 32767
        so.isServer(rank == 0);
        so.numWorkers(new org.bytedeco.javacpp.SizeTPointer(1).put((long) size)); // std::optional<size_t>
        so.waitWorkers(true);
        so.timeout(ms);
        TCPStore store = new TCPStore(masterAddr, so);
        Device device = localAddress == null ? ProcessGroupGloo.createDefaultDevice() : ProcessGroupGloo.createDeviceForHostname(localAddress);
        ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(ms);
        GlooDeviceVector devices = new GlooDeviceVector(1);
        devices.put(0, device);
        options.devices(devices);
        ProcessGroupGloo group = new ProcessGroupGloo(store, rank, size, options);
        KEEP_ALIVE.addAll(java.util.List.of(so, store, device, options, devices, group, ms));
        return new ProcessGroup(rank, size, store, options, device, group);
    }

    public int rank() {
        return rank;
    }

    public int size() {
        return size;
    }

    /** Sums {@code t} over all ranks, in place (every rank then holds the sum). */
    public void allreduceSum(Tensor t) {
        allreduce(t, ReduceOp.RedOpType.SUM);
    }

    /**
     * Sums every tensor over all ranks, in place, a few collectives for many tensors: they are flattened into buckets
     * of about {@code bucketBytes} of one dtype, each bucket summed in one allreduce, then copied back. Every rank must
     * pass the same shapes in the same order.
     */
    public void allreduceSum(java.util.List<Tensor> tensors, long bucketBytes) {
        java.util.List<Tensor> bucket = new java.util.ArrayList<>();
        long bytes = 0;
        for (Tensor t : tensors) {
            if (!bucket.isEmpty() && (bytes + t.nbytes() > bucketBytes || Tensors.dtype(t) != Tensors.dtype(bucket.get(0)))) {
                sumBucket(bucket);
                bucket.clear();
                bytes = 0;
            }
            bucket.add(t);
            bytes += t.nbytes();
        }
        if (!bucket.isEmpty()) sumBucket(bucket);
    }

    private void sumBucket(java.util.List<Tensor> bucket) {
        if (bucket.size() == 1 && bucket.get(0).is_contiguous()) {
            allreduceSum(bucket.get(0));
            return;
        }
        Tensor[] flat = new Tensor[bucket.size()];
        for (int i = 0; i < flat.length; i++) flat[i] = bucket.get(i).reshape(-1);
        Tensor joined = Tensors.cat(0, flat);
        allreduceSum(joined);
        long offset = 0;
        for (Tensor t : bucket) {
            long n = t.numel();
            t.copy_(joined.narrow(0, offset, n).view_as(t));
            offset += n;
        }
    }

    /** The element-wise maximum over all ranks, in place. */
    public void allreduceMax(Tensor t) {
        allreduce(t, ReduceOp.RedOpType.MAX);
    }

    private void allreduce(Tensor t, ReduceOp.RedOpType op) {
        check(t);
        AllreduceOptions o = new AllreduceOptions();
        o.reduceOp(new ReduceOp(op));
        finish(group.allreduce(new TensorVector(t), o));
    }

    /** Every rank's {@code local} (same shape and type on all ranks), concatenated along dimension 0 in rank order. */
    public Tensor allgather(Tensor local) {
        check(local);
        long[] shape = Tensors.shape(local);
        long[] out = shape.clone();
        out[0] = shape[0] * size;
        Tensor result = Tensors.empty(Tensors.dtype(local), out);
        finish(group._allgather_base(result, local));
        return result;
    }

    /** Sets {@code t} on every rank to rank {@code root}'s value, in place. */
    public void broadcast(Tensor t, int root) {
        check(t);
        BroadcastOptions o = new BroadcastOptions();
        o.rootRank(root);
        finish(group.broadcast(new TensorVector(t), o)); // one tensor per call (pitfall 11)
    }

    /** Returns once every rank has called it. */
    public void barrier() {
        if (closed) throw new IllegalStateException("the process group is closed");
        finish(group.barrier());
    }

    private void check(Tensor t) {
        if (closed) throw new IllegalStateException("the process group is closed");
        if (!t.is_contiguous()) throw new IllegalArgumentException("collectives need contiguous tensors");
    }

    private static void finish(Work w) {
        w._wait();
    }

    /** Refuses further collectives; the native group stays alive until the process exits ({@link #KEEP_ALIVE}). */
    @Override
    public void close() {
        closed = true;
    }
}
