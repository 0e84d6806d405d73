package dev.clip4j.torch;

import org.bytedeco.pytorch.Tensor;

/** Run in a child JVM by {@link SystemLibtorchTest}: loads libtorch, computes, reports which library file it got. */
public final class LoadProbe {
    public static void main(String[] args) {
        Tensor a = Tensors.fromFloats(new float[] {1, 2, 3, 4}, 2, 2);
        float[] r = Tensors.toFloats(a.matmul(a));
        System.out.println("result " + r[0] + " " + r[1] + " " + r[2] + " " + r[3]);
        System.out.println("libtorch " + Torch.loadedLibtorchPath());
    }
}
