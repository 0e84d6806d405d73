package dev.clip4j.onnx;

import ai.onnxruntime.OrtEnvironment;
import dev.clip4j.torch.Torch;

import java.io.File;

/**
 * Where ONNX Runtime's native libraries load from. Its Java loader extracts them from the jar into a fresh temporary
 * directory on every start and leaves the directory behind (one per process, seen by the hundred in /tmp); so before
 * its first use clip4j extracts them once into JavaCPP's cache beside libtorch's and points ONNX Runtime there
 * ({@code onnxruntime.native.path}). A path the user set wins; where the cache cannot be written, ONNX Runtime's own
 * loader runs as before.
 */
final class OnnxNatives {
    static final String PATH_PROPERTY = "onnxruntime.native.path";
    private static volatile boolean done;

    private OnnxNatives() {}

    /** Call before anything touches ONNX Runtime (its natives load once, when {@link OrtEnvironment} initialises). */
    static void use() {
        if (done) return;
        synchronized (OnnxNatives.class) {
            if (done) return;
            String arch = System.getProperty("os.arch");
            String platform = arch.equals("amd64") || arch.equals("x86_64") ? "linux-x64" : arch.equals("aarch64") ? "linux-aarch64" : null;
            if (System.getProperty(PATH_PROPERTY) == null && platform != null && System.getProperty("os.name").equals("Linux")) {
                // a class literal loads OrtEnvironment without initialising it: its natives are not loaded yet
                File dir = Torch.cachedNatives(OrtEnvironment.class, "/ai/onnxruntime/native/" + platform + "/");
                if (dir != null && new File(dir, "libonnxruntime.so").isFile() && new File(dir, "libonnxruntime4j_jni.so").isFile()) {
                    System.setProperty(PATH_PROPERTY, dir.getAbsolutePath());
                }
            }
            done = true;
        }
    }
}
