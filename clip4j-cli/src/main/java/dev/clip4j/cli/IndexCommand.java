package dev.clip4j.cli;

import dev.clip4j.index.ImageIndex;
import dev.clip4j.index.IndexReport;
import dev.clip4j.index.IndexSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code index build|update|merge}: a searchable index of image features (see {@link ImageIndex}). */
@Command(name = "index", description = "Build, update and merge search indexes of images.",
        subcommands = {IndexCommand.Build.class, IndexCommand.Update.class, IndexCommand.Merge.class})
final class IndexCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static void print(String verb, Path dir, IndexReport r) {
        System.out.printf("%s %s: %d images (%d embedded, %d reused by content hash, %d unchanged, %d removed, %d skipped)%n",
                verb, dir, r.size(), r.embedded(), r.reused(), r.unchanged(), r.removed(), r.skipped().size());
        if (!r.skipped().isEmpty()) {
            int shown = Math.min(5, r.skipped().size());
            for (int i = 0; i < shown; i++) System.out.println("  skipped " + r.skipped().get(i).path() + ": " + r.skipped().get(i).reason());
            if (r.skipped().size() > shown) System.out.println("  ... and " + (r.skipped().size() - shown) + " more");
            System.out.println("  (all listed in " + dir.resolve("skipped.tsv") + ")");
        }
    }

    @Command(name = "build", description = "Embed every image of a folder (recursively) or of a captions file into an index;"
            + " run again after an interruption to continue.")
    static final class Build implements Callable<Integer> {
        @Mixin
        CommonOptions.Model model;

        @Option(names = "--images", description = "A folder of images (PNG, JPEG, GIF, BMP), or a captions file (TSV, CSV, JSONL).")
        Path images;

        @Option(names = "--embeddings", description = "Instead of --images: an embeddings file made with this model (embed --images"
                + "'s JSON lines, or spark-embed's Parquet); nothing is embedded again.")
        Path embeddings;

        @Option(names = "--out", required = true, description = "The index directory (new or empty, or an interrupted build of the same images).")
        Path out;

        @Option(names = {"--batch-size", "--batch"}, defaultValue = "32", description = "Images per forward pass and per commit (default ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--store", defaultValue = dev.clip4j.index.VectorStores.EMBEDDED, paramLabel = "LOCATION",
                description = "Where the vectors go: lucene (default: an embedded Lucene HNSW index inside --out) or"
                        + " opensearch:http://HOST:PORT/INDEX (an OpenSearch cluster with the k-NN plugin).")
        String store;

        @Mixin
        CommonOptions.Threads threads;

        @Mixin
        CommonOptions.InferenceBackend backend;

        @Mixin
        CommonOptions.InferencePrecision precision;

        @Override
        public Integer call() {
            Options.batchSize(batch);
            threads.apply();
            backend.apply();
            IndexProgressBar bar = new IndexProgressBar(System.err);
            if ((images == null) == (embeddings == null)) throw new UserError("give --images (to embed) or --embeddings (embedded already)");
            if (embeddings != null) {
                if (!store.equals(dev.clip4j.index.VectorStores.EMBEDDED)) throw new UserError("--embeddings builds an embedded (lucene) index");
                try (ImageIndex index = ImageIndex.fromEmbeddings(model.model, embeddings, out, null, bar)) {
                    bar.end();
                    print("indexed", index.directory(), index.report());
                }
                return 0;
            }
            try (ImageIndex index = ImageIndex.build(model.model, IndexSource.of(images), out, precision.get(), batch, bar, store)) {
                bar.end();
                print("indexed", index.directory(), index.report());
            }
            return 0;
        }
    }

    @Command(name = "update", description = "Embed new and changed images of an index's sources and drop deleted ones.")
    static final class Update implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "INDEX", description = "The index directory.")
        Path index;

        @Option(names = "--model", description = "The model, if it moved since the build (it must be the same weights).")
        Path model;

        @Option(names = {"--batch-size", "--batch"}, defaultValue = "32", description = "Images per forward pass and per commit (default ${DEFAULT-VALUE}).")
        int batch;

        @Mixin
        CommonOptions.Threads threads;

        @Mixin
        CommonOptions.InferenceBackend backend;

        @Override
        public Integer call() {
            Options.batchSize(batch);
            threads.apply();
            backend.apply();
            IndexProgressBar bar = new IndexProgressBar(System.err);
            try (ImageIndex i = ImageIndex.update(index, model, batch, bar)) {
                bar.end();
                print("updated", i.directory(), i.report());
            }
            return 0;
        }
    }

    @Command(name = "merge", description = "Merge two indexes of the same model into a new one.")
    static final class Merge implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "A")
        Path a;

        @Parameters(index = "1", paramLabel = "B")
        Path b;

        @Option(names = "--out", required = true, description = "The new index directory (must not exist).")
        Path out;

        @Override
        public Integer call() {
            IndexReport r = ImageIndex.merge(a, b, out);
            System.out.printf("merged %s and %s into %s: %d images%n", a, b, out, r.size());
            return 0;
        }
    }
}
