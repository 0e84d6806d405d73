package dev.clip4j.pretrain;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * The seed's {@code calculate_mfm_loss} (masked frame modelling as NCE): every predicted frame [B·T, D] is scored
 * against every input frame of the batch [D, B·T]; pairs touching an invalid frame get -1e8; the loss is the mean of
 * −log_softmax on the diagonal (a frame's own input is its positive), taken only at the chosen frames. With
 * {@code normalize} both sides are L2-normalised and the scores divided by {@code temperature} (the seed runs with
 * normalize=False).
 */
public final class MfmLoss {
    private MfmLoss() {}

    /**
     * @param predicted [B, T, D] the head's output at the frame positions
     * @param input     [B, T, D] the frames before masking (the targets)
     * @param valid     [B, T] 1/0 or bool: which frames exist
     * @param chosen    [B, T] bool: which frames were masked (only these count)
     */
    public static Tensor of(Tensor predicted, Tensor input, Tensor valid, Tensor chosen, boolean normalize, double temperature) {
        long d = predicted.size(2);
        Tensor out = Tensors.to(predicted, DType.F32), in = Tensors.to(input.detach(), DType.F32);
        if (normalize) {
            out = NN.l2Normalize(out);
            in = NN.l2Normalize(in);
        }
        Tensor rows = out.reshape(-1, d);                          // [B·T, D]
        Tensor cols = in.permute(2, 0, 1).reshape(d, -1);          // [D, B·T]
        Tensor logits = rows.matmul(cols);
        if (normalize) logits = Ops.div(logits, temperature);
        Tensor v = Tensors.to(valid, DType.F32).reshape(-1, 1);
        Tensor pairValid = v.matmul(v.t());
        Tensor masked = logits.add(Ops.mul(Ops.add(Ops.mul(pairValid, -1.0), 1.0), -1e8));
        Tensor logpt = NN.logSoftmax(masked, -1).diagonal();
        Tensor nce = logpt.neg().masked_select(Tensors.to(chosen, DType.BOOL).reshape(-1));
        return nce.mean();
    }
}
