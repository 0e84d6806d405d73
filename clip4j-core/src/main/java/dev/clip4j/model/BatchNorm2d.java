package dev.clip4j.model;

import dev.clip4j.torch.Ops;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/** {@code nn.BatchNorm2d} (eps 1e-5, momentum 0.1): running statistics in eval mode, batch statistics in training. */
final class BatchNorm2d extends Module {
    BatchNorm2d(ParameterStore store, String prefix, int channels) {
        super(store, prefix);
        param("weight", Init.ones(channels));
        param("bias", Init.zeros(channels));
        buffer("running_mean", Init.zeros(channels));
        buffer("running_var", Init.ones(channels));
        buffer("num_batches_tracked", Tensors.zeros(DType.I64));
    }

    Tensor forward(Tensor x) {
        boolean training = store.training;
        if (training) dev.clip4j.torch.Grad.noGrad(() -> Ops.add_(p("num_batches_tracked"), 1));
        return NN.batchNorm(x, p("weight"), p("bias"), p("running_mean"), p("running_var"), training, 0.1, 1e-5);
    }
}
