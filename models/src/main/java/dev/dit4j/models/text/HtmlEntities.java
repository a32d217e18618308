package dev.dit4j.models.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTML character references decoded two ways, as CLIP's text cleaning needs them: {@link #unescape}
 * is the HTML5 algorithm Python's {@code html.unescape} implements (numeric references with the
 * spec's replacements, named references with or without the semicolon, longest prefix first), and
 * {@link #unescapeStrict} is the cautious form ftfy applies (only {@code &name;} with the
 * semicolon, plus all-caps spellings of lower-case names such as {@code &EACUTE;}).
 */
final class HtmlEntities {
    private HtmlEntities() {}

    private static final Pattern REFERENCE = Pattern.compile("&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");
    private static final Pattern STRICT_REFERENCE = Pattern.compile("&#?[0-9A-Za-z]{1,24};");
    /** What HTML5 substitutes for numeric references to U+0080..U+009F: their windows-1252 characters (five stay). */
    static final String C1_AS_WINDOWS_1252 = "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F"
            + "\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178";
    private static final Map<String, String> NAMED = readTable();
    private static final Map<String, String> STRICT = strictTable();

    /** Python's html.unescape. */
    static String unescape(String s) {
        if (s.indexOf('&') < 0) return s;
        return REFERENCE.matcher(s).replaceAll(m -> Matcher.quoteReplacement(reference(m.group(1))));
    }

    /** ftfy's unescape_html: only unambiguous references that end in a semicolon. */
    static String unescapeStrict(String s) {
        if (s.indexOf('&') < 0) return s;
        return STRICT_REFERENCE.matcher(s).replaceAll(m -> {
            String text = m.group();
            String known = STRICT.get(text);
            if (known != null) return Matcher.quoteReplacement(known);
            if (text.startsWith("&#")) {
                String decoded = unescape(text);
                return Matcher.quoteReplacement(decoded.contains(";") ? text : decoded); // a half-decoded reference stays as it was
            }
            return Matcher.quoteReplacement(text);
        });
    }

    private static String reference(String s) {
        if (s.charAt(0) == '#') return numeric(s);
        String whole = NAMED.get(s);
        if (whole != null) return whole;
        for (int x = s.length() - 1; x > 1; x--) {
            String prefix = NAMED.get(s.substring(0, x));
            if (prefix != null) return prefix + s.substring(x);
        }
        return "&" + s;
    }

    private static String numeric(String s) {
        boolean hex = s.charAt(1) == 'x' || s.charAt(1) == 'X';
        String digits = s.substring(hex ? 2 : 1);
        if (digits.endsWith(";")) digits = digits.substring(0, digits.length() - 1);
        digits = digits.replaceFirst("^0+(?=.)", "");
        // Any number past 0x10FFFF is replaced alike, so a long one need not be parsed.
        long num = digits.length() > 8 ? Long.MAX_VALUE : Long.parseLong(digits, hex ? 16 : 10);
        if (num == 0) return "\uFFFD";
        if (num == 0x0D) return "\r";
        if (num >= 0x80 && num <= 0x9F) return String.valueOf(C1_AS_WINDOWS_1252.charAt((int) num - 0x80));
        if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) return "\uFFFD";
        int cp = (int) num;
        if (invalidCodePoint(cp)) return "";
        return Character.toString(cp);
    }

    /** Code points html.unescape drops: most C0 controls, DEL and C1 (handled above), and the noncharacters. */
    private static boolean invalidCodePoint(int cp) {
        return (cp >= 0x1 && cp <= 0x8) || cp == 0xB || (cp >= 0xE && cp <= 0x1F) || (cp >= 0x7F && cp <= 0x9F)
                || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
    }

    private static Map<String, String> readTable() {
        Map<String, String> table = new HashMap<>();
        try (InputStream in = HtmlEntities.class.getResourceAsStream("html5-entities.tsv")) {
            if (in == null) throw new IllegalStateException("resource html5-entities.tsv is missing from dit4j-models");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isEmpty()) continue;
                String[] parts = line.split("\t");
                StringBuilder value = new StringBuilder();
                for (String cp : parts[1].split(" ")) value.appendCodePoint(Integer.parseInt(cp, 16));
                table.put(parts[0], value.toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return table;
    }

    /** ftfy's table: every {@code &name;} of HTML5, and for a lower-case name its upper-case spelling when that means nothing else. */
    private static Map<String, String> strictTable() {
        Map<String, String> table = new HashMap<>();
        NAMED.forEach((name, value) -> {
            if (!name.endsWith(";")) return;
            table.put("&" + name, value);
        });
        NAMED.forEach((name, value) -> {
            if (!name.endsWith(";") || !name.equals(name.toLowerCase(Locale.ROOT))) return;
            String upper = "&" + name.toUpperCase(Locale.ROOT);
            if (unescape(upper).equals(upper)) table.put(upper, value.toUpperCase(Locale.ROOT));
        });
        return table;
    }
}
