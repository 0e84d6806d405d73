package dev.clip4j.tokenizer;

import java.util.function.Consumer;

/**
 * Splits cleaned text as CLIP's token regex does (compiled with IGNORECASE in the reference):
 * <pre>{@code <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+}</pre>
 * Hand-written because {@code java.util.regex} with Unicode classes was the tokenizer's bottleneck (a third of
 * the time); the alternatives are tried in the same order at each position, with the same character classes.
 */
final class TokenSplitter {
    private static final String SOT = "<|startoftext|>";
    private static final String EOT = "<|endoftext|>";

    private TokenSplitter() {}

    /** Unicode White_Space, which is the Python {@code regex} module's {@code \s}. */
    static boolean isWhiteSpace(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    static boolean isLetter(int c) {
        return c < 0x80 ? ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') : Character.isLetter(c);
    }

    static boolean isNumber(int c) {
        if (c < 0x80) return c >= '0' && c <= '9';
        int t = Character.getType(c);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** {@code s} under IGNORECASE: also S and the long s (U+017F), which case-folds to s. */
    private static boolean matchesIgnoreCase(char actual, char expected) {
        if (actual == expected || Character.toLowerCase(actual) == expected) return true;
        return expected == 's' && actual == '\u017F';
    }

    private static int contractionLength(String s, int i) {
        if (i + 1 >= s.length()) return 0;
        char a = s.charAt(i + 1);
        if (i + 2 < s.length()) {
            char b = s.charAt(i + 2);
            if ((matchesIgnoreCase(a, 'r') || matchesIgnoreCase(a, 'v')) && matchesIgnoreCase(b, 'e')) return 3;
            if (matchesIgnoreCase(a, 'l') && matchesIgnoreCase(b, 'l')) return 3;
        }
        if (matchesIgnoreCase(a, 's') || matchesIgnoreCase(a, 't') || matchesIgnoreCase(a, 'm') || matchesIgnoreCase(a, 'd')) {
            return 2;
        }
        return 0;
    }

    static void split(String s, Consumer<String> out) {
        int n = s.length();
        int i = 0;
        while (i < n) {
            int c = s.codePointAt(i);
            if (isWhiteSpace(c)) {
                i += Character.charCount(c);
                continue;
            }
            int end;
            if (c == '<' && s.startsWith(SOT, i)) {
                end = i + SOT.length();
            } else if (c == '<' && s.startsWith(EOT, i)) {
                end = i + EOT.length();
            } else if (c == '\'' && contractionLength(s, i) > 0) {
                end = i + contractionLength(s, i);
            } else if (isLetter(c)) {
                end = i + Character.charCount(c);
                while (end < n) {
                    int d = s.codePointAt(end);
                    if (!isLetter(d)) break;
                    end += Character.charCount(d);
                }
            } else if (isNumber(c)) {
                end = i + Character.charCount(c);
            } else {
                end = i + Character.charCount(c);
                while (end < n) {
                    int d = s.codePointAt(end);
                    if (isWhiteSpace(d) || isLetter(d) || isNumber(d)) break;
                    end += Character.charCount(d);
                }
            }
            out.accept(s.substring(i, end));
            i = end;
        }
    }

    /** {@code re.sub(r'\s+', ' ', text)}. */
    static String collapseWhitespace(String s) {
        StringBuilder sb = null;
        int n = s.length();
        for (int i = 0; i < n; ) {
            int c = s.codePointAt(i);
            int len = Character.charCount(c);
            if (isWhiteSpace(c) && (c != ' ' || (i + 1 < n && isWhiteSpace(s.codePointAt(i + 1))))) {
                if (sb == null) sb = new StringBuilder(n).append(s, 0, i);
                int j = i;
                while (j < n && isWhiteSpace(s.codePointAt(j))) j += Character.charCount(s.codePointAt(j));
                sb.append(' ');
                i = j;
                continue;
            }
            if (sb != null) sb.appendCodePoint(c);
            i += len;
        }
        return sb == null ? s : sb.toString();
    }
}
