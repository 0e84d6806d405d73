package dev.clip4j.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;

/**
 * OpenAI's {@code SimpleTokenizer} and {@code clip.tokenize}: byte-level BPE over CLIP's 48,894 merges
 * (vocabulary 49,408 with {@code <|startoftext|>} = 49406 and {@code <|endoftext|>} = 49407).
 * Thread-safe; words already seen are answered from a cache.
 */
public final class ClipTokenizer {
    public static final int SOT = 49406;
    public static final int EOT = 49407;
    public static final int DEFAULT_CONTEXT_LENGTH = 77;
    private static final int MERGES = 49152 - 256 - 2;

    private static volatile ClipTokenizer defaultInstance;

    private final char[] byteEncoder = new char[256];
    private final int[] byteDecoder = new int[512];
    private final Map<String, Integer> encoder = new HashMap<>();
    private final String[] decoder;
    private final Map<String, Integer> bpeRanks = new HashMap<>();
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /** The tokenizer with the bundled OpenAI vocabulary (loaded once). */
    public static ClipTokenizer getDefault() {
        ClipTokenizer t = defaultInstance;
        if (t == null) {
            synchronized (ClipTokenizer.class) {
                if (defaultInstance == null) {
                    try (InputStream in = ClipTokenizer.class.getResourceAsStream("bpe_simple_vocab_16e6.txt.gz")) {
                        if (in == null) throw new IllegalStateException("missing resource bpe_simple_vocab_16e6.txt.gz");
                        defaultInstance = new ClipTokenizer(new GZIPInputStream(in));
                    } catch (IOException e) {
                        throw new IllegalStateException("cannot read the BPE vocabulary: " + e.getMessage(), e);
                    }
                }
                t = defaultInstance;
            }
        }
        return t;
    }

    /** Builds a tokenizer from the text of a merges file (first line a header, as OpenAI's). */
    public ClipTokenizer(InputStream mergesText) throws IOException {
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) bs.add(b);
        for (int b = 0xA1; b <= 0xAC; b++) bs.add(b);
        for (int b = 0xAE; b <= 0xFF; b++) bs.add(b);
        List<Character> vocabChars = new ArrayList<>();
        int n = 0;
        boolean[] direct = new boolean[256];
        for (int b : bs) direct[b] = true;
        // Order of bytes_to_unicode().values(): the printable bytes first, then the others mapped above 255.
        List<Integer> order = new ArrayList<>(bs);
        List<Integer> chars = new ArrayList<>(bs);
        for (int b = 0; b < 256; b++) {
            if (!direct[b]) {
                order.add(b);
                chars.add(256 + n++);
            }
        }
        for (int i = 0; i < 256; i++) {
            byteEncoder[order.get(i)] = (char) (int) chars.get(i);
            byteDecoder[chars.get(i)] = order.get(i);
            vocabChars.add((char) (int) chars.get(i));
        }
        List<String> vocab = new ArrayList<>();
        for (char c : vocabChars) vocab.add(String.valueOf(c));
        for (char c : vocabChars) vocab.add(c + "</w>");
        BufferedReader r = new BufferedReader(new InputStreamReader(mergesText, StandardCharsets.UTF_8));
        r.readLine(); // header
        for (int i = 0; i < MERGES; i++) {
            String line = r.readLine();
            if (line == null) throw new IOException("BPE merges file ends after " + i + " merges, expected " + MERGES);
            String[] pair = line.split(" ");
            if (pair.length != 2) throw new IOException("bad BPE merge at line " + (i + 2) + ": " + line);
            bpeRanks.put(pair[0] + " " + pair[1], i);
            vocab.add(pair[0] + pair[1]);
        }
        vocab.add("<|startoftext|>");
        vocab.add("<|endoftext|>");
        decoder = vocab.toArray(new String[0]);
        for (int i = 0; i < decoder.length; i++) encoder.put(decoder[i], i);
        cache.put("<|startoftext|>", new int[] {SOT});
        cache.put("<|endoftext|>", new int[] {EOT});
    }

    public int vocabSize() {
        return decoder.length;
    }

    /** {@code SimpleTokenizer.encode}: BPE ids without start/end tokens, never truncated. */
    public int[] encode(String text) {
        IdBuffer ids = new IdBuffer();
        TokenSplitter.split(TextCleaner.clean(text), token -> {
            int[] piece = cache.get(token);
            if (piece == null) piece = cache.computeIfAbsent(token, this::bpeIds);
            ids.add(piece);
        });
        return ids.toArray();
    }

    private static final class IdBuffer {
        private int[] ids = new int[32];
        private int count;

        void add(int[] piece) {
            if (count + piece.length > ids.length) ids = Arrays.copyOf(ids, Math.max(ids.length * 2, count + piece.length));
            System.arraycopy(piece, 0, ids, count, piece.length);
            count += piece.length;
        }

        int[] toArray() {
            return Arrays.copyOf(ids, count);
        }
    }

    private int[] bpeIds(String token) {
        byte[] utf8 = token.getBytes(StandardCharsets.UTF_8);
        List<String> word = new ArrayList<>(utf8.length);
        for (int i = 0; i < utf8.length; i++) {
            String sym = String.valueOf(byteEncoder[utf8[i] & 0xFF]);
            word.add(i == utf8.length - 1 ? sym + "</w>" : sym);
        }
        while (word.size() > 1) {
            // The adjacent pair with the lowest merge rank; none ranked means we are done.
            int bestRank = Integer.MAX_VALUE;
            String first = null, second = null;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer rank = bpeRanks.get(word.get(i) + " " + word.get(i + 1));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    first = word.get(i);
                    second = word.get(i + 1);
                }
            }
            if (first == null) break;
            List<String> merged = new ArrayList<>(word.size());
            for (int i = 0; i < word.size(); ) {
                if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i += 2;
                } else {
                    merged.add(word.get(i++));
                }
            }
            word = merged;
        }
        int[] ids = new int[word.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = encoder.get(word.get(i));
        return ids;
    }

    /** {@code SimpleTokenizer.decode}: every {@code </w>} becomes a space; invalid UTF-8 becomes U+FFFD. */
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (id < 0 || id >= decoder.length) throw new IllegalArgumentException("token id " + id + " is not in the vocabulary");
            sb.append(decoder[id]);
        }
        ByteBuffer bytes = ByteBuffer.allocate(sb.length() * 2);
        for (int i = 0; i < sb.length(); i++) bytes.put((byte) byteDecoder[sb.charAt(i)]);
        bytes.flip();
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        try {
            return dec.decode(bytes).toString().replace("</w>", " ");
        } catch (CharacterCodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code clip.tokenize(text, context_length, truncate)}: SOT + ids + EOT, zero padded. A text longer than the
     * context is cut with EOT kept in the last position when {@code truncate}, else rejected.
     */
    public long[] tokenize(String text, int contextLength, boolean truncate) {
        if (contextLength < 2) throw new IllegalArgumentException("context length must be at least 2, got " + contextLength);
        int[] ids = encode(text);
        long[] row = new long[contextLength];
        if (ids.length + 2 > contextLength && !truncate) {
            String shown = text.length() > 60 ? text.substring(0, 57) + "..." : text;
            throw new TextTooLongException("Input '" + shown + "' is too long for context length " + contextLength
                    + " (" + (ids.length + 2) + " tokens)");
        }
        int n = Math.min(ids.length, contextLength - 2);
        row[0] = SOT;
        for (int i = 0; i < n; i++) row[1 + i] = ids[i];
        row[1 + n] = EOT;
        return row;
    }

    public long[][] tokenize(List<String> texts, int contextLength, boolean truncate) {
        long[][] out = new long[texts.size()][];
        for (int i = 0; i < out.length; i++) out[i] = tokenize(texts.get(i), contextLength, truncate);
        return out;
    }

    /** Raised by {@link #tokenize} without truncation when a text does not fit. */
    public static final class TextTooLongException extends IllegalArgumentException {
        public TextTooLongException(String message) {
            super(message);
        }
    }
}
