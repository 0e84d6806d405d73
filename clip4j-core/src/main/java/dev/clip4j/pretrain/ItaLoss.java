package dev.clip4j.pretrain;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * ALBEF's image–text contrastive loss with momentum distillation. Each image is scored against the momentum text
 * features of the batch followed by the text queue ([B, B + Q]), each text against the momentum image features and the
 * image queue, divided by the temperature. The targets, computed without gradient from the momentum features scored the
 * same way, are {@code α·softmax(s_m) + (1 − α)·onehot} (the positive is the pair's own column); the loss is the mean
 * soft cross-entropy of both directions, halved. With α = 0 and no queue it is CLIP's symmetric InfoNCE.
 */
public final class ItaLoss {
    private ItaLoss() {}

    /** The loss and the online similarities (for hard-negative mining: their first B columns are the batch). */
    public record Result(Tensor loss, Tensor imageToText, Tensor textToImage) {}

    /**
     * All features L2-normalised, [B, D] (queues [D, Q], or null for none); {@code temperature} a scalar tensor that
     * may require grad.
     */
    public static Result of(Tensor image, Tensor text, Tensor imageM, Tensor textM, Tensor imageQueue, Tensor textQueue,
                            Tensor temperature, double alpha) {
        long b = image.size(0);
        image = Tensors.to(image, DType.F32);
        text = Tensors.to(text, DType.F32);
        Tensor textAll = candidates(textM, textQueue), imageAll = candidates(imageM, imageQueue);
        Tensor[] targets = Grad.noGrad(() -> {
            Tensor t = temperature.detach();
            Tensor onehot = NN.diagonalMatrix(b, 1, 0);
            if (textAll.size(1) > b) onehot = Tensors.cat(1, onehot, Tensors.zeros(DType.F32, b, textAll.size(1) - b));
            if (alpha == 0) return new Tensor[] {onehot, onehot};
            Tensor i2t = soft(Tensors.to(imageM, DType.F32).matmul(textAll).div(t), onehot, alpha);
            Tensor t2i = soft(Tensors.to(textM, DType.F32).matmul(imageAll).div(t), onehot, alpha);
            return new Tensor[] {i2t, t2i};
        });
        Tensor simI2T = image.matmul(textAll).div(temperature);
        Tensor simT2I = text.matmul(imageAll).div(temperature);
        Tensor lossI2T = softCrossEntropy(simI2T, targets[0]);
        Tensor lossT2I = softCrossEntropy(simT2I, targets[1]);
        return new Result(Ops.mul(lossI2T.add(lossT2I), 0.5), simI2T, simT2I);
    }

    private static Tensor candidates(Tensor momentum, Tensor queue) {
        // momentum features come without a graph; online ones (no momentum model) keep theirs, as CLIP's loss
        Tensor m = Tensors.to(momentum, DType.F32).t();
        return queue == null ? m : Tensors.cat(1, m, queue.detach());
    }

    private static Tensor soft(Tensor similarities, Tensor onehot, double alpha) {
        return Ops.mul(NN.softmax(similarities, 1), alpha).add(Ops.mul(onehot, 1 - alpha));
    }

    /** {@code -sum(log_softmax(logits, 1) * targets, 1).mean()}. */
    public static Tensor softCrossEntropy(Tensor logits, Tensor targets) {
        return NN.sum(NN.logSoftmax(logits, 1).mul(targets), 1).neg().mean();
    }
}
