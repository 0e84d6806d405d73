package dev.clip4j.torch;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class CpuPlatformTest {
    @Test
    void libtorchAndOpenCvLoadWithoutSearchingForTheirGpuBuildsLibraries() throws Exception {
        // JavaCPP's debug log names every library it looks for; the GPU builds' would be CUDA's, cuDNN's and NPP's
        String out = ChildJvm.run(CpuOnlyLoadProbe.class,
                Map.of("JAVA_TOOL_OPTIONS", "-Dorg.bytedeco.javacpp.logger.debug=true"));
        assertThat(out).contains("opencv true").contains("Loading class org.bytedeco.pytorch.global.torch");
        assertThat(out).doesNotContain("cudart").doesNotContain("cudnn").doesNotContain("cublas").doesNotContain("nppc");
    }

    @Test
    void anExtensionTheUserChoseIsKept() {
        String before = System.getProperty(CpuPlatform.EXTENSION);
        try {
            System.setProperty(CpuPlatform.EXTENSION, "-gpu");
            CpuPlatform.pin();
            assertThat(System.getProperty(CpuPlatform.EXTENSION)).isEqualTo("-gpu");
        } finally {
            if (before == null) System.clearProperty(CpuPlatform.EXTENSION);
            else System.setProperty(CpuPlatform.EXTENSION, before);
        }
    }
}
