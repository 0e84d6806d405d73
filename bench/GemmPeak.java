import dev.clip4j.torch.DType;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;

/**
 * The machine's practical GEMM ceiling through the same libtorch (issue 13): best GFLOP/s of a square float32 and
 * bf16 matmul (2048³, and a ViT-B/32 MLP shape 800×768×3072), on the current threads and thread policy. Prints one
 * JSON line per shape and precision.
 */
public class GemmPeak {
    public static void main(String[] args) {
        Torch.init();
        long[][] shapes = {{2048, 2048, 2048}, {800, 768, 3072}};
        for (long[] s : shapes) {
            for (DType t : new DType[] {DType.F32, DType.BF16}) {
                try (Scope scope = Scope.open()) {
                    Tensor a = Tensors.to(Tensors.randn(s[0], s[1]), t), b = Tensors.to(Tensors.randn(s[1], s[2]), t);
                    double best = 0;
                    for (int i = 0; i < 8; i++) {
                        try (Scope step = Scope.open()) {
                            long t0 = System.nanoTime();
                            a.matmul(b);
                            double sec = (System.nanoTime() - t0) / 1e9;
                            if (i > 0) best = Math.max(best, 2.0 * s[0] * s[1] * s[2] / sec / 1e9);
                        }
                    }
                    System.out.printf("{\"what\": \"gemm %dx%dx%d\", \"dtype\": \"%s\", \"threads\": %d, \"gflops_best\": %.1f}%n",
                            s[0], s[1], s[2], t.name().toLowerCase(), Torch.threads(), best);
                }
            }
        }
    }
}
