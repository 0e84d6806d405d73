package dev.clip4j.train;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * SimCLR's NT-Xent: the 2N normalised projections of two views of N images; each row's positive is the other view
 * of the same image, its negatives the other 2N − 2 rows (itself excluded); cross-entropy of the similarities over
 * τ (0.1 in SLIP), averaged over the 2N rows.
 */
public final class NtXentLoss {
    public static final double TEMPERATURE = 0.1;

    private NtXentLoss() {}

    public static Tensor of(Tensor z1, Tensor z2, double temperature) {
        long n = z1.size(0);
        Tensor z = Tensors.cat(0, z1, z2);
        if (Tensors.dtype(z) != DType.F64) z = Tensors.to(z, DType.F32); // float32 (also under bf16 autocast); float64 kept
        z = NN.l2Normalize(z);
        Tensor sim = Ops.div(z.matmul(z.t()), temperature);
        sim = NN.keepOrNegativeInfinity(sim, NN.diagonalMatrix(2 * n, 0, 1)); // a row is never its own negative
        long[] target = new long[(int) (2 * n)];
        for (int i = 0; i < n; i++) {
            target[i] = i + n;
            target[(int) (i + n)] = i;
        }
        return NN.crossEntropy(sim, Tensors.fromLongs(target, 2 * n));
    }
}
