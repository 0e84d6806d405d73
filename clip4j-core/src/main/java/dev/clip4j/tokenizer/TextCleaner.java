package dev.clip4j.tokenizer;

/**
 * CLIP's text normalisation before BPE: {@code basic_clean} then {@code whitespace_clean}, then lower-casing.
 *
 * <p>OpenAI's code first runs {@code ftfy.fix_text}; clip4j does not (ftfy is a large heuristic Python
 * library with no Java port). The result is identical for text that ftfy would leave unchanged, which
 * includes well-formed NFC text without curly quotes, fullwidth forms, ligatures or mojibake.
 */
final class TextCleaner {
    private TextCleaner() {}

    static String clean(String text) {
        String basic = pythonStrip(HtmlUnescape.unescape(HtmlUnescape.unescape(text)));
        String spaced = pythonStrip(TokenSplitter.collapseWhitespace(basic));
        return pythonLower(spaced);
    }

    /** Python's {@code str.lower()}: full Unicode lower-casing, locale-independent (final sigma included). */
    static String pythonLower(String s) {
        return s.toLowerCase(java.util.Locale.ROOT);
    }

    /** Python's {@code str.strip()}, whose notion of space ({@code str.isspace}) includes U+001C..U+001F. */
    static String pythonStrip(String s) {
        int begin = 0, end = s.length();
        while (begin < end && isPythonSpace(s.charAt(begin))) begin++;
        while (end > begin && isPythonSpace(s.charAt(end - 1))) end--;
        return s.substring(begin, end);
    }

    static boolean isPythonSpace(char c) {
        return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }
}
