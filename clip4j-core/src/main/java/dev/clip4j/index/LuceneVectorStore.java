package dev.clip4j.index;

import org.apache.lucene.codecs.CodecUtil;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexFormatTooNewException;
import org.apache.lucene.index.IndexFormatTooOldException;
import org.apache.lucene.index.IndexNotFoundException;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.LockObtainFailedException;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.VectorUtil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.BiConsumer;

/**
 * The embedded vector store: one Lucene 9.12 index (the newest Lucene for Java 17), a document per image with its
 * metadata as stored fields and its normalised vector in an HNSW vector field (dot-product similarity). Lucene's
 * commits are atomic, so a crash or {@code kill -9} keeps the last commit; its write lock keeps a second writer out.
 * Opening verifies the checksum of every file of the commit, so a damaged index is an error, not wrong results.
 */
public final class LuceneVectorStore implements VectorStore {
    static final String PATH = "path", SIZE = "size", MODIFIED = "modified", SHA = "sha256", CAPTION = "caption", VECTOR = "vector";
    /** Lucene 9's limit for vector fields. */
    public static final int MAX_DIMENSION = 1024;

    private final Path where;
    private final Directory directory;
    private final IndexWriter writer; // null when opened for reading
    private final int dimension;
    private DirectoryReader reader;
    private IndexSearcher searcher;

    private LuceneVectorStore(Path where, Directory directory, IndexWriter writer, DirectoryReader reader, int dimension) {
        this.where = where;
        this.directory = directory;
        this.writer = writer;
        this.reader = reader;
        this.searcher = new IndexSearcher(reader);
        this.dimension = dimension;
    }

    /** Opens (or creates) the store at {@code dir} for writing; a second writer is refused. */
    public static LuceneVectorStore openForWriting(Path dir, int dimension) {
        checkDimension(dimension);
        Directory d = null;
        try {
            d = FSDirectory.open(dir);
            if (DirectoryReader.indexExists(d)) verifyChecksums(dir, d);
            IndexWriterConfig config = new IndexWriterConfig().setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND).setCommitOnClose(false);
            IndexWriter w = new IndexWriter(d, config);
            return new LuceneVectorStore(dir, d, w, DirectoryReader.open(w), dimension);
        } catch (LockObtainFailedException e) {
            close(d);
            throw new IndexException(dir + ": the index is being written by another process (its write.lock is held)");
        } catch (CorruptIndexException | IndexFormatTooOldException | IndexFormatTooNewException | java.io.EOFException e) {
            close(d);
            throw damaged(dir, e);
        } catch (IOException e) {
            close(d);
            throw new IndexException(dir + ": cannot open the index: " + e.getMessage(), e);
        }
    }

    /** Opens the store at {@code dir} read-only, after checking every file of its last commit. */
    public static LuceneVectorStore openForReading(Path dir, int dimension) {
        checkDimension(dimension);
        Directory d = null;
        try {
            d = FSDirectory.open(dir);
            if (!DirectoryReader.indexExists(d)) throw new IndexNotFoundException(dir.toString());
            verifyChecksums(dir, d);
            return new LuceneVectorStore(dir, d, null, DirectoryReader.open(d), dimension);
        } catch (IndexNotFoundException e) {
            close(d);
            throw new IndexException(dir.getParent() + ": no images committed yet (an interrupted first build?): run index build again to continue");
        } catch (CorruptIndexException | IndexFormatTooOldException | IndexFormatTooNewException | java.io.EOFException
                 | java.nio.file.NoSuchFileException e) {
            close(d);
            throw damaged(dir, e);
        } catch (IOException e) {
            close(d);
            throw new IndexException(dir + ": cannot open the index: " + e.getMessage(), e);
        }
    }

    private static void checkDimension(int dimension) {
        if (dimension < 1 || dimension > MAX_DIMENSION) {
            throw new IndexException("vectors of " + dimension + " dimensions: the Lucene index takes 1 to " + MAX_DIMENSION);
        }
    }

    /** Reads every file of the latest commit through its footer checksum (Lucene checks only small files on open). */
    private static void verifyChecksums(Path dir, Directory d) throws IOException {
        SegmentInfos infos = SegmentInfos.readLatestCommit(d);
        for (String file : infos.files(true)) {
            try (IndexInput in = d.openInput(file, IOContext.READONCE)) {
                CodecUtil.checksumEntireFile(in);
            }
        }
    }

    private static IndexException damaged(Path dir, Exception e) {
        return new IndexException(dir.getParent() + ": the index is damaged (" + e.getClass().getSimpleName()
                + "); build it again with index build", e);
    }

    private static void close(Directory d) {
        try {
            if (d != null) d.close();
        } catch (IOException ignored) {
            // closing after a failure: the first error is the one to report
        }
    }

    @Override
    public int dimension() {
        return dimension;
    }

    @Override
    public synchronized long size() {
        return refreshed().numDocs();
    }

    /** The reader over the latest changes (for a writer, near-real-time: uncommitted changes included). */
    private DirectoryReader refreshed() {
        if (writer == null) return reader;
        try {
            DirectoryReader newer = DirectoryReader.openIfChanged(reader, writer);
            if (newer != null) {
                reader.close();
                reader = newer;
                searcher = new IndexSearcher(reader);
            }
            return reader;
        } catch (IOException e) {
            throw io(e);
        }
    }

    private UncheckedIOException io(IOException e) {
        return new UncheckedIOException(where + ": " + e.getMessage(), e);
    }

    private static IndexedImage metadata(Document d) {
        return new IndexedImage(d.get(PATH), d.getField(SIZE).numericValue().longValue(),
                d.getField(MODIFIED).numericValue().longValue(), d.get(SHA), d.get(CAPTION) == null ? "" : d.get(CAPTION));
    }

    @Override
    public synchronized Map<String, IndexedImage> entries() {
        Map<String, IndexedImage> out = new HashMap<>();
        forEach((image, vector) -> out.put(image.path(), image), false);
        return out;
    }

    @Override
    public synchronized void forEach(BiConsumer<IndexedImage, float[]> action) {
        forEach(action, true);
    }

    private void forEach(BiConsumer<IndexedImage, float[]> action, boolean withVectors) {
        try {
            for (LeafReaderContext leaf : refreshed().leaves()) {
                LeafReader r = leaf.reader();
                FloatVectorValues vectors = r.getFloatVectorValues(VECTOR);
                if (vectors == null) continue;
                StoredFields stored = r.storedFields();
                Bits live = r.getLiveDocs();
                for (int doc = vectors.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = vectors.nextDoc()) {
                    if (live != null && !live.get(doc)) continue;
                    action.accept(metadata(stored.document(doc)), withVectors ? vectors.vectorValue().clone() : null);
                }
            }
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public synchronized float[] vector(String path) {
        Term term = new Term(PATH, path);
        try {
            refreshed();
            TopDocs top = searcher.search(new TermQuery(term), 1);
            if (top.scoreDocs.length == 0) return null;
            List<Scored> s = resolve(new int[] {top.scoreDocs[0].doc}, null);
            return s.isEmpty() ? null : s.get(0).vector();
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public synchronized List<Scored> nearest(float[] query, int candidates, boolean exact) {
        if (query.length != dimension) throw new IndexException("a query of " + query.length + " dimensions for an index of " + dimension);
        try {
            refreshed();
            if (exact) return bruteForce(query, candidates);
            TopDocs top = searcher.search(new KnnFloatVectorQuery(VECTOR, query, candidates), candidates);
            int[] docs = new int[top.scoreDocs.length];
            for (int i = 0; i < docs.length; i++) docs[i] = top.scoreDocs[i].doc;
            List<Scored> out = resolve(docs, query);
            out.sort(BEST_FIRST);
            return out;
        } catch (IOException e) {
            throw io(e);
        }
    }

    private static final Comparator<Scored> BEST_FIRST = Comparator.comparingDouble((Scored s) -> -s.score()).thenComparing(s -> s.image().path());

    /** Every live vector scored; the {@code limit} best kept in a heap. */
    private List<Scored> bruteForce(float[] query, int limit) throws IOException {
        record Candidate(int doc, float score) {}
        PriorityQueue<Candidate> heap = new PriorityQueue<>(Comparator.comparingDouble(Candidate::score));
        for (LeafReaderContext leaf : reader.leaves()) {
            FloatVectorValues vectors = leaf.reader().getFloatVectorValues(VECTOR);
            if (vectors == null) continue;
            Bits live = leaf.reader().getLiveDocs();
            for (int doc = vectors.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = vectors.nextDoc()) {
                if (live != null && !live.get(doc)) continue;
                float score = VectorUtil.dotProduct(query, vectors.vectorValue());
                if (heap.size() < limit) heap.add(new Candidate(leaf.docBase + doc, score));
                else if (score > heap.peek().score()) {
                    heap.poll();
                    heap.add(new Candidate(leaf.docBase + doc, score));
                }
            }
        }
        int[] docs = heap.stream().mapToInt(Candidate::doc).toArray();
        List<Scored> out = resolve(docs, query);
        out.sort(BEST_FIRST);
        return out;
    }

    /** Metadata and vector of each global doc id (and its exact score against {@code query}, if given). */
    private List<Scored> resolve(int[] docs, float[] query) throws IOException {
        int[] sorted = docs.clone();
        java.util.Arrays.sort(sorted);
        List<LeafReaderContext> leaves = reader.leaves();
        List<Scored> out = new ArrayList<>(sorted.length);
        int i = 0;
        while (i < sorted.length) {
            LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(sorted[i], leaves));
            FloatVectorValues vectors = leaf.reader().getFloatVectorValues(VECTOR);
            StoredFields stored = leaf.reader().storedFields();
            int end = leaf.docBase + leaf.reader().maxDoc();
            for (; i < sorted.length && sorted[i] < end; i++) {
                int doc = sorted[i] - leaf.docBase;
                if (vectors == null || vectors.advance(doc) != doc) continue;
                float[] v = vectors.vectorValue().clone();
                out.add(new Scored(metadata(stored.document(doc)), v, query == null ? Float.NaN : VectorUtil.dotProduct(query, v)));
            }
        }
        return out;
    }

    @Override
    public synchronized void put(IndexedImage image, float[] vector) {
        requireWriter();
        if (vector.length != dimension) throw new IndexException(image.path() + ": a vector of " + vector.length + " dimensions for an index of " + dimension);
        Document d = new Document();
        d.add(new StringField(PATH, image.path(), Field.Store.YES));
        d.add(new StoredField(SIZE, image.size()));
        d.add(new StoredField(MODIFIED, image.modified()));
        d.add(new StoredField(SHA, image.sha256()));
        if (!image.caption().isEmpty()) d.add(new StoredField(CAPTION, image.caption()));
        d.add(new KnnFloatVectorField(VECTOR, vector, VectorSimilarityFunction.DOT_PRODUCT));
        try {
            writer.updateDocument(new Term(PATH, image.path()), d);
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public synchronized void remove(String path) {
        requireWriter();
        try {
            writer.deleteDocuments(new Term(PATH, path));
        } catch (IOException e) {
            throw io(e);
        }
    }

    @Override
    public synchronized void commit() {
        requireWriter();
        try {
            writer.commit();
        } catch (IOException e) {
            throw io(e);
        }
    }

    private void requireWriter() {
        if (writer == null) throw new IllegalStateException(where + " is open for reading only");
    }

    @Override
    public synchronized void close() {
        try {
            reader.close();
            if (writer != null) writer.rollback(); // uncommitted changes are dropped, as a crash would drop them
        } catch (IOException e) {
            throw io(e);
        } finally {
            close(directory);
        }
    }
}
