package dev.clip4j.torch;

/**
 * Run in a child JVM by {@link CpuPlatformTest}: loads libtorch and OpenCV's decoders through the facade, after
 * JavaCPP itself has loaded (a native pointer made first, as a program using JavaCPP for other things would).
 */
public final class CpuOnlyLoadProbe {
    public static void main(String[] args) {
        new org.bytedeco.javacpp.BytePointer(1L).close();
        Torch.init();
        System.out.println("opencv " + ImageCodecs.available());
    }
}
