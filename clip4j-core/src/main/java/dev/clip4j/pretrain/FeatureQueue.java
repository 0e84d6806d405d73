package dev.clip4j.pretrain;

import dev.clip4j.nn.Module;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * ALBEF's two queues of momentum features ({@code image_queue}, {@code text_queue}: [dim, size], columns are
 * L2-normalised features, initialised at random as ALBEF's) and the write pointer {@code queue_ptr}: a FIFO ring. A
 * push writes columns {@code ptr .. ptr + B - 1} modulo the size (wrapping around; ALBEF instead requires the size to be
 * a multiple of the batch) and moves the pointer by B. All three are buffers, so checkpoints hold them and resume is exact.
 */
public final class FeatureQueue extends Module {
    private final int dim, size;

    public FeatureQueue(int dim, int size) {
        if (size < 1) throw new IllegalArgumentException("queue size must be positive, got " + size);
        this.dim = dim;
        this.size = size;
        buffer("image_queue", NN.l2Normalize(Tensors.randn(size, dim)).t().contiguous());
        buffer("text_queue", NN.l2Normalize(Tensors.randn(size, dim)).t().contiguous());
        buffer("queue_ptr", Tensors.zeros(DType.I64, 1));
    }

    public int size() {
        return size;
    }

    public Tensor images() {
        return p("image_queue");
    }

    public Tensor texts() {
        return p("text_queue");
    }

    public long pointer() {
        return Tensors.toLongs(p("queue_ptr"))[0];
    }

    /** Enqueues a batch of momentum features [B, dim] each (the oldest columns are overwritten). */
    public void push(Tensor imageFeatures, Tensor textFeatures) {
        long b = imageFeatures.size(0);
        Grad.noGrad(() -> {
            Tensor img = Tensors.to(imageFeatures.detach(), DType.F32), txt = Tensors.to(textFeatures.detach(), DType.F32);
            long n = b, ptr = pointer();
            if (n > size) { // only the newest `size` rows can stay
                img = img.narrow(0, n - size, size);
                txt = txt.narrow(0, n - size, size);
                ptr = (ptr + n - size) % size;
                n = size;
            }
            Tensor cols = Ops.remainder(Ops.add(Tensors.arange(n), ptr), size);
            p("image_queue").index_copy_(1, cols, img.t());
            p("text_queue").index_copy_(1, cols, txt.t());
            Ops.fill_(p("queue_ptr"), (ptr + n) % size);
        });
    }

    @Override
    protected Module blank() {
        return new FeatureQueue(dim, size);
    }
}
