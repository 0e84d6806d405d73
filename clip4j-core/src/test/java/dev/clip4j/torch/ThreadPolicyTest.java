package dev.clip4j.torch;

import dev.clip4j.Fixtures;
import dev.clip4j.Parity;
import dev.clip4j.checkpoint.ArchitectureInference;
import dev.clip4j.checkpoint.Safetensors;
import dev.clip4j.model.ClipModel;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher's thread policy (pitfall 5): a JVM started as {@code ./clip4j} starts it, with OpenMP's idle threads
 * sleeping and as many OpenBLAS threads as libtorch's, reproduces the reference outputs and computes a float32 GEMM
 * large enough for OpenBLAS to split across threads to float32 accuracy; libtorch runs one thread per core, and no
 * warning is printed. A JVM with several BLAS threads beside spinning OpenMP threads is warned.
 */
class ThreadPolicyTest {
    /** Children here ran on the other BLAS too: JavaCPP's shared cache back as this machine uses it (pitfall 15). */
    @AfterAll
    static void restoreTheCachedBlas() throws Exception {
        ChildJvm.restoreThisMachinesBlas();
    }

    /** Runs in the child JVM: threads, the fixture parity, a 512x768x768 GEMM against float64. */
    public static final class Child {
        public static void main(String[] args) {
            Torch.init();
            System.out.println("threads " + Torch.threads());
            for (String tower : List.of("vit", "resnet")) {
                Map<String, Tensor> w = Safetensors.read(Fixtures.path(tower + "/weights.safetensors"));
                Map<String, long[]> shapes = new LinkedHashMap<>();
                w.forEach((k, v) -> shapes.put(k, Tensors.shape(v)));
                ClipModel model = ClipModel.fromStateDict(ArchitectureInference.infer(shapes, tower), w, tower);
                Map<String, Tensor> in = Fixtures.tensors(tower + "/inputs.safetensors");
                Map<String, Tensor> out = Fixtures.tensors(tower + "/outputs.safetensors");
                Grad.noGrad(() -> {
                    Parity.assertClose(tower + " encode_image", model.encodeImage(in.get("images")), out.get("encode_image"), 1e-5);
                    Parity.assertClose(tower + " encode_text", model.encodeText(in.get("text")), out.get("encode_text"), 1e-5);
                });
            }
            Torch.manualSeed(1);
            Tensor a = Tensors.randn(512, 768), b = Tensors.randn(768, 768);
            Tensor exact = Tensors.to(Tensors.to(a, DType.F64).matmul(Tensors.to(b, DType.F64)), DType.F32);
            // 768-term float32 dot products of unit normals: rounding ~ sqrt(768) * 2^-24 * |terms|, far under 1e-5 of
            // the largest element (~4.5 sigma of sqrt(768))
            Parity.assertClose("gemm", a.matmul(b), exact, 1e-5);
            System.out.println("ok");
        }
    }

    private static String run(Map<String, String> env) throws Exception {
        return ChildJvm.run(Child.class, env, "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY", "OMP_NUM_THREADS");
    }

    @Test
    void theLaunchersPolicyIsExactAndUsesEveryCore() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        String out = run(Map.of("OMP_WAIT_POLICY", "PASSIVE", "OPENBLAS_NUM_THREADS", Integer.toString(cores)));
        assertThat(out).contains("threads " + cores).contains("ok").doesNotContain("warning");
    }

    @Test
    void severalBlasThreadsBesideSpinningOpenMpAreWarned() throws Exception {
        String out = run(Map.of("OPENBLAS_NUM_THREADS", "2", "CLIP4J_BLAS", "openblas")); // MKL (Intel CPUs) has no pool of its own
        assertThat(out).contains("warning: OpenBLAS may run several threads").contains("ok");
    }
}
