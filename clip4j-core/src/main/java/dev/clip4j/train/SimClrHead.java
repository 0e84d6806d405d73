package dev.clip4j.train;

import dev.clip4j.nn.BatchNorm2d;
import dev.clip4j.nn.Linear;
import dev.clip4j.nn.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * SLIP's SimCLR projection head on the image tower's pooled feature: Linear–BN–ReLU–Linear–BN–ReLU–Linear (hidden
 * 4096 for ViT-B; output 256). The batch norms are {@code torch.batch_norm} over the channel dimension of [N, C]
 * (BatchNorm1d); the module is saved with the run's checkpoints, never used by {@code embed}.
 */
public final class SimClrHead extends Module {
    static final int OUTPUT = 256;
    private final int in, hidden;
    private final Linear fc1, fc2, fc3;
    private final BatchNorm2d bn1, bn2;

    public SimClrHead(int in, int hidden) {
        this.in = in;
        this.hidden = hidden;
        fc1 = child("0", new Linear(in, hidden));
        bn1 = child("1", new BatchNorm2d(hidden));
        fc2 = child("3", new Linear(hidden, hidden));
        bn2 = child("4", new BatchNorm2d(hidden));
        fc3 = child("6", new Linear(hidden, OUTPUT));
    }

    public Tensor forward(Tensor x) {
        x = bn1.forward(fc1.forward(x)).relu();
        x = bn2.forward(fc2.forward(x)).relu();
        return fc3.forward(x);
    }

    @Override
    protected Module blank() {
        return new SimClrHead(in, hidden);
    }
}
