package dev.clip4j.opensearch;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * A throw-away single-node OpenSearch for the backend's test: the minimal distribution and the k-NN plugin that
 * {@code -Popensearch} copies from Maven Central into {@code target/opensearch-dist}, unpacked into a temporary
 * directory and started on a free port of 127.0.0.1 with this JVM's Java. OpenSearch refuses to run as root, so as
 * root it runs as {@code nobody}. The plugin's descriptor names {@code lang-painless}, which the minimal distribution
 * lacks; the plugin works without it (only its painless script extensions are lost), so the descriptor is patched.
 */
final class OpenSearchServer implements AutoCloseable {
    private final Path home;
    private final Process process;
    final String url;

    private OpenSearchServer(Path home, Process process, String url) {
        this.home = home;
        this.process = process;
        this.url = url;
    }

    static OpenSearchServer start() throws IOException, InterruptedException {
        Path dist = Path.of(System.getProperty("clip4j.opensearch.dist", "target/opensearch-dist"));
        if (!Files.isRegularFile(dist.resolve("opensearch.zip"))) {
            throw new IllegalStateException(dist + ": no opensearch.zip; run this test with mvn -Popensearch test");
        }
        Path root = Files.createTempDirectory("clip4j-opensearch");
        unzip(dist.resolve("opensearch.zip"), root);
        Path home;
        try (var s = Files.list(root)) {
            home = s.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        Path plugin = Files.createDirectories(home.resolve("plugins/opensearch-knn"));
        unzip(dist.resolve("opensearch-knn.zip"), plugin);
        Path descriptor = plugin.resolve("plugin-descriptor.properties");
        Files.writeString(descriptor, Files.readString(descriptor).replaceAll("(?m)^extended\\.plugins=.*$", "extended.plugins="));
        try (var s = Files.list(home.resolve("bin"))) {
            s.forEach(f -> f.toFile().setExecutable(true, false));
        }
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        List<String> cmd = new ArrayList<>();
        boolean asRoot = "root".equals(System.getProperty("user.name"));
        if (asRoot) {
            run("chmod", "755", root.toString());
            run("chown", "-R", "nobody", root.toString());
            cmd.addAll(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
        }
        cmd.addAll(List.of(home.resolve("bin/opensearch").toString(), "-E", "discovery.type=single-node", "-E", "network.host=127.0.0.1",
                "-E", "http.port=" + port, "-E", "transport.port=0", "-E", "cluster.routing.allocation.disk.threshold_enabled=false"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(root.resolve("server.log").toFile());
        pb.environment().put("OPENSEARCH_JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("OPENSEARCH_JAVA_OPTS", "-Xms512m -Xmx512m");
        pb.environment().put("HOME", root.toString());
        Process p = pb.start();
        String url = "http://127.0.0.1:" + port;
        OpenSearchServer server = new OpenSearchServer(root, p, url);
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                String log = Files.readString(root.resolve("server.log"));
                server.close();
                throw new IllegalStateException("OpenSearch exited with " + p.exitValue() + ":\n" + tail(log));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/_cluster/health?wait_for_status=yellow&timeout=1s"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return server;
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(500);
        }
        String log = Files.readString(root.resolve("server.log"));
        server.close();
        throw new IllegalStateException("OpenSearch did not start in 180 s:\n" + tail(log));
    }

    private static String tail(String log) {
        return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) throw new IOException(String.join(" ", cmd) + " failed");
    }

    private static void unzip(Path zip, Path into) throws IOException {
        try (InputStream in = Files.newInputStream(zip); ZipInputStream z = new ZipInputStream(in)) {
            for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
                Path target = into.resolve(e.getName()).normalize();
                if (!target.startsWith(into)) throw new IOException(zip + ": an entry outside the archive: " + e.getName());
                if (e.isDirectory()) Files.createDirectories(target);
                else {
                    Files.createDirectories(target.getParent());
                    Files.copy(z, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            dev.clip4j.data.DataFiles.deleteTree(home);
        } catch (IOException | InterruptedException e) {
            // a temporary directory: left for the OS to clean
        }
    }
}
