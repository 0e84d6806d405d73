package dev.clip4j.nn;

import dev.clip4j.torch.NN;
import org.bytedeco.pytorch.Tensor;

/** {@code nn.Embedding}: rows of {@code weight} by id; initialised N(0, std²); never weight-decayed. */
public final class Embedding extends Module {
    private final int count, width;

    public Embedding(int count, int width, double std) {
        this.count = count;
        this.width = width;
        parameter("weight", Init.normal(std, count, width));
    }

    public Tensor forward(Tensor ids) {
        return NN.embedding(weight(), ids);
    }

    public Tensor weight() {
        return p("weight");
    }

    public int count() {
        return count;
    }

    @Override
    protected boolean decays(String name, Tensor parameter) {
        return false;
    }

    @Override
    protected Module blank() {
        return new Embedding(count, width, 0);
    }
}
