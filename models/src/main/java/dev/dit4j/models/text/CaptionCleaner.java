package dev.dit4j.models.text;

import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * CLIP's text cleaning before tokenisation, as open_clip's {@code _clean_lower}: ftfy's
 * {@code fix_text}, HTML unescaped twice, whitespace runs collapsed to one space, lower case.
 *
 * <p>Of ftfy's fixes this applies every one that changes real, correctly decoded captions: the
 * cautious HTML unescape (skipped, as ftfy does, from the first line holding a {@code <} on), C1
 * controls read as windows-1252, Latin ligatures split, fullwidth and halfwidth forms to their
 * standard width, curly quotes straightened, line breaks unified, lone surrogates replaced,
 * terminal escapes and unintended control characters removed, then NFC; repeated until nothing
 * changes. ftfy's mojibake repair ({@code fix_encoding}: text that was UTF-8 decoded in a
 * single-byte encoding, such as "cafÃ©") is not reproduced.
 */
public final class CaptionCleaner {
    private CaptionCleaner() {}

    private static final Pattern TERMINAL_ESCAPE = Pattern.compile("\u001B\\[(?:\\p{Nd}|;)*[a-zA-Z]");

    /** open_clip's cleaning: {@code whitespace_clean(basic_clean(text)).lower()}. */
    public static String clean(String text) {
        String basic = strip(HtmlEntities.unescape(HtmlEntities.unescape(fixText(text))));
        return collapseWhitespace(basic).toLowerCase(Locale.ROOT);
    }

    /** ftfy.fix_text with its defaults, less the mojibake repair: line by line, each fixed until it no longer changes. */
    static String fixText(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean unescape = true;
        int pos = 0;
        while (pos < text.length()) {
            int end = text.indexOf('\n', pos) + 1;
            if (end == 0) end = text.length();
            String segment = text.substring(pos, end);
            if (segment.indexOf('<') >= 0) unescape = false; // ftfy: text with tags may show entities on purpose, from here on
            out.append(fixSegment(segment, unescape));
            pos = end;
        }
        return out.toString();
    }

    private static String fixSegment(String text, boolean unescape) {
        while (true) {
            String before = text;
            if (unescape) text = HtmlEntities.unescapeStrict(text);
            text = fixC1Controls(text);
            text = fixLatinLigatures(text);
            text = fixCharacterWidth(text);
            text = uncurlQuotes(text);
            text = fixLineBreaks(text);
            text = fixSurrogates(text);
            text = TERMINAL_ESCAPE.matcher(text).replaceAll("");
            text = removeControlChars(text);
            text = Normalizer.normalize(text, Normalizer.Form.NFC);
            if (text.equals(before)) return text;
        }
    }

    /** U+0080..U+009F as the windows-1252 characters of those bytes (what browsers show). */
    private static String fixC1Controls(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x80 && c <= 0x9F) {
                if (b == null) b = new StringBuilder(s.substring(0, i));
                b.append(HtmlEntities.C1_AS_WINDOWS_1252.charAt(c - 0x80));
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? s : b.toString();
    }

    private static String fixLatinLigatures(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> b.append(switch (cp) {
            case 0x0132 -> "IJ";
            case 0x0133 -> "ij";
            case 0x0149 -> "\u02BCn";
            case 0x01F1 -> "DZ";
            case 0x01F2 -> "Dz";
            case 0x01F3 -> "dz";
            case 0x01C4 -> "D\u017D";
            case 0x01C5 -> "D\u017E";
            case 0x01C6 -> "d\u017E";
            case 0x01C7 -> "LJ";
            case 0x01C8 -> "Lj";
            case 0x01C9 -> "lj";
            case 0x01CA -> "NJ";
            case 0x01CB -> "Nj";
            case 0x01CC -> "nj";
            case 0xFB00 -> "ff";
            case 0xFB01 -> "fi";
            case 0xFB02 -> "fl";
            case 0xFB03 -> "ffi";
            case 0xFB04 -> "ffl";
            case 0xFB05 -> "\u017Ft";
            case 0xFB06 -> "st";
            default -> Character.toString(cp);
        }));
        return b.toString();
    }

    /** U+3000 to a space; halfwidth and fullwidth forms (U+FF01..U+FFEF) to their NFKC form. */
    private static String fixCharacterWidth(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0x3000) b.append(' ');
            else if (c >= 0xFF01 && c <= 0xFFEF) b.append(Normalizer.normalize(String.valueOf(c), Normalizer.Form.NFKC));
            else b.append(c);
        }
        return b.toString();
    }

    private static String uncurlQuotes(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x201C && c <= 0x201F) b.append('"');
            else if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) b.append('\'');
            else b.append(c);
        }
        return b.toString();
    }

    private static String fixLineBreaks(String s) {
        return s.replace("\r\n", "\n").replace('\r', '\n').replace('\u2028', '\n').replace('\u2029', '\n').replace('\u0085', '\n');
    }

    /** Paired surrogates are already one character in Java; a lone one becomes U+FFFD. */
    private static String fixSurrogates(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> b.appendCodePoint(Character.isSurrogate((char) cp) && cp <= 0xFFFF ? 0xFFFD : cp));
        return b.toString();
    }

    /** Controls nobody means to keep: C0 except tab, line feed, form feed and carriage return; DEL; U+206A..U+206F; the BOM; U+FFF9..U+FFFC. */
    private static String removeControlChars(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean drop = (c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F
                    || (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
            if (!drop) b.append(c);
        }
        return b.toString();
    }

    /** Python's str.isspace: the Unicode spaces, line and paragraph separators, and the C0 separators U+001C..U+001F. */
    static boolean isPythonSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** Python's str.strip(). */
    static String strip(String s) {
        int start = 0, end = s.length();
        while (start < end && isPythonSpace(s.charAt(start))) start++;
        while (end > start && isPythonSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    /** Python's {@code " ".join(s.split())}. */
    static String collapseWhitespace(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean pendingSpace = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (isPythonSpace(c)) {
                pendingSpace = b.length() > 0;
            } else {
                if (pendingSpace) b.append(' ');
                pendingSpace = false;
                b.append(c);
            }
        }
        return b.toString();
    }
}
