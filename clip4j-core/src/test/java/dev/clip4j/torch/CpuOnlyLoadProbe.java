package dev.clip4j.torch;

/** Run in a child JVM by {@link CpuPlatformTest}: loads libtorch and OpenCV's decoders through the facade. */
public final class CpuOnlyLoadProbe {
    public static void main(String[] args) {
        Torch.init();
        System.out.println("opencv " + ImageCodecs.available());
    }
}
