package dev.clip4j.serve;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's chromium and chromedriver for the web page's tests. When they are missing and we are root (as on CI), they
 * are installed with apt-get, as the project installs its datasets; otherwise {@link #missing()} says why the browser
 * tests are skipped.
 */
final class Browser {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium"), DRIVER = Path.of("/usr/bin/chromedriver");
    private static String missing;
    private static boolean checked;

    private Browser() {}

    /** Null when the browser is ready, else the reason it is not. */
    static synchronized String missing() {
        if (checked) return missing;
        checked = true;
        if (present()) return null;
        if (!"root".equals(System.getProperty("user.name"))) {
            return missing = "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver as root)";
        }
        try {
            Process p = new ProcessBuilder(List.of("apt-get", "install", "-y", "--no-install-recommends", "chromium", "chromium-driver"))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().close();
            if (!p.waitFor(15, TimeUnit.MINUTES)) p.destroyForcibly();
        } catch (Exception e) {
            return missing = "could not install chromium with apt-get: " + e.getMessage();
        }
        return missing = present() ? null : "apt-get could not install chromium and chromium-driver (no network to Debian's archive?)";
    }

    private static boolean present() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER);
    }
}
