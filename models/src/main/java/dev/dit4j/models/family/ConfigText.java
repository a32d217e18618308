package dev.dit4j.models.family;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A flat configuration record back from its {@code toString()} ("Config[name=x, depth=4, ...]"),
 * as a dit4j checkpoint's 'config' metadata holds it, so that a model of any size trained by dit4j
 * can be rebuilt from its checkpoint alone. Components must be strings, numbers, booleans, enums
 * or lists of integers ("[2, 5, 8]").
 */
final class ConfigText {
    private ConfigText() {}

    static <R extends Record> R parse(Class<R> type, String text, String source) {
        int open = text.indexOf('[');
        if (open < 0 || !text.endsWith("]")) throw bad(type, source, "not of the form Config[name=..., ...]");
        Map<String, String> fields = new LinkedHashMap<>();
        for (String part : fields(text.substring(open + 1, text.length() - 1))) {
            int eq = part.indexOf('=');
            if (eq < 0) throw bad(type, source, "field '" + part + "' has no '='");
            fields.put(part.substring(0, eq), part.substring(eq + 1));
        }
        RecordComponent[] components = type.getRecordComponents();
        if (fields.size() != components.length) throw bad(type, source, fields.size() + " fields, expected " + components.length);
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            String value = fields.get(components[i].getName());
            if (value == null) throw bad(type, source, "no field '" + components[i].getName() + "'");
            types[i] = components[i].getType();
            try {
                args[i] = value(types[i], value);
            } catch (IllegalArgumentException e) {
                throw bad(type, source, "field '" + components[i].getName() + "' = '" + value + "' is not a " + types[i].getSimpleName());
            }
        }
        try {
            return type.getDeclaredConstructor(types).newInstance(args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw bad(type, source, e.getCause().getMessage());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The "key=value" parts between ", " outside brackets. */
    private static List<String> fields(String body) {
        List<String> parts = new ArrayList<>();
        int depth = 0, from = 0;
        for (int i = 0; i < body.length(); i++) {
            char ch = body.charAt(i);
            if (ch == '[') depth++;
            else if (ch == ']') depth--;
            else if (depth == 0 && body.startsWith(", ", i)) {
                parts.add(body.substring(from, i));
                from = i + 2;
            }
        }
        parts.add(body.substring(from));
        return parts;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object value(Class<?> type, String v) {
        if (type == List.class) {
            if (!v.startsWith("[") || !v.endsWith("]")) throw new IllegalArgumentException(v);
            String inner = v.substring(1, v.length() - 1).trim();
            return inner.isEmpty() ? List.of() : java.util.Arrays.stream(inner.split(", ")).map(Integer::parseInt).toList();
        }
        if (type == String.class) return v;
        if (type == int.class) return Integer.parseInt(v);
        if (type == long.class) return Long.parseLong(v);
        if (type == double.class) return Double.parseDouble(v);
        if (type == boolean.class) {
            if (!v.equals("true") && !v.equals("false")) throw new IllegalArgumentException(v);
            return Boolean.parseBoolean(v);
        }
        if (type.isEnum()) return Enum.valueOf((Class<Enum>) type, v);
        throw new IllegalArgumentException("unsupported component type " + type);
    }

    private static IllegalArgumentException bad(Class<?> type, String source, String why) {
        return new IllegalArgumentException(source + ": the 'config' metadata is not a " + type.getEnclosingClass().getSimpleName() + " configuration: " + why);
    }
}
