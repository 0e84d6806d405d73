package dev.clip4j.torch;

/**
 * Tells JavaCPP that this process loads the presets' CPU builds only. Without an extension named, its loader tries
 * every library of the GPU builds too (their annotations live in the same classes): for libtorch 24 of them (CUDA,
 * cuDNN, NCCL, TensorRT), for OpenCV 13 (NPP), each a failed search of every jar on the class path and of the library
 * path, ~0.2 s of every command's start on 75 jars (docs/BINDINGS.md, pitfall 16). clip4j depends on the
 * {@code linux-x86_64} natives alone. Called before anything loads through JavaCPP; a value the user set (say
 * {@code -gpu}) wins.
 */
final class CpuPlatform {
    /** JavaCPP reads system properties under {@code org.bytedeco.javacpp.platform.} as its platform properties. */
    static final String EXTENSION = "org.bytedeco.javacpp.platform.extension";

    private CpuPlatform() {}

    static void pin() {
        synchronized (CpuPlatform.class) {
            if (System.getProperty(EXTENSION) != null) return;
            System.setProperty(EXTENSION, "");
            // JavaCPP caches its platform properties at its own first load (any native pointer made earlier, by us or
            // by the program we run in, did that): read them again, with the extension
            org.bytedeco.javacpp.Loader.loadProperties(true);
        }
    }
}
