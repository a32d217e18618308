package dev.dit4j.nn.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A safe subset of Python's unpickler: the binary opcodes of protocols 2 to 5, enough for
 * {@code torch.save} files. Nothing is imported or called by name. GLOBAL only yields a
 * {@link Global} marker, and only for names that this class or the caller's {@link Hooks} allow;
 * REDUCE, NEWOBJ and BUILD act on those markers with Java code written for each of them, or, for
 * the plain data types that checkpoints carry beside tensors ({@link #DATA_TYPES}), record what
 * would have been called as a {@link PythonObject}.
 *
 * <p>A pickle is a straight-line program (no loops), so reading one is linear in its length; the
 * caller bounds that length. The result is converted to plain Java values at the end: dicts to
 * {@link LinkedHashMap}, lists to {@link ArrayList}, tuples to unmodifiable lists, sets to
 * {@link LinkedHashSet}, ints to {@link Long} (or {@link BigInteger}), floats to {@link Double},
 * bytes to byte arrays, namespace-like objects to the map of their attributes, and data types to
 * {@link PythonObject}s. Cyclic or absurdly deep results are rejected, since Java's equals,
 * hashCode and toString would overflow the stack on them.
 */
final class PickleReader {
    static final int MAX_DEPTH = 256;
    private static final int MAX_LONG_BYTES = 1024;
    private static final Set<String> OBJECT_TYPES = Set.of("argparse.Namespace", "types.SimpleNamespace");
    /**
     * Values that training checkpoints hold outside their tensors (composer's: wall-clock times,
     * numpy's RNG state as an ndarray, torch's version string), which are kept as
     * {@link PythonObject}s; numpy's dtype classes (numpy.dtypes.*) too.
     */
    private static final Set<String> DATA_TYPES = Set.of("datetime.timedelta", "numpy.ndarray", "numpy.dtype",
            "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "torch.torch_version.TorchVersion");
    /** How pickle protocol 2 writes a bytes object: _codecs.encode(its bytes as latin-1 text, "latin1"), or bytes() when empty. */
    private static final String ENCODE = "_codecs.encode", BYTES = "builtins.bytes";

    /** A module-level name the pickle refers to (a class or function), never resolved in Java. */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** A Python tuple during unpickling: immutable, and hashable when its items are. */
    record Tuple(List<Object> items) {
        Tuple(Object[] items) {
            this(Collections.unmodifiableList(Arrays.asList(items)));
        }

        Object get(int i) {
            return items.get(i);
        }

        int size() {
            return items.size();
        }

        /** Its items summarised, never recursively: a tuple may hold anything an untrusted file builds. */
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder("(");
            for (int i = 0; i < Math.min(items.size(), 8); i++) b.append(i > 0 ? ", " : "").append(summary(items.get(i)));
            if (items.size() > 8) b.append(", ... ").append(items.size() - 8).append(" more");
            return b.append(items.size() == 1 ? ",)" : ")").toString();
        }
    }

    /** An instance of an allowed plain-attribute class (argparse.Namespace): only its state is kept. */
    private static final class PyObject {
        final Global type;
        Object state;

        PyObject(Global type) {
            this.type = type;
        }
    }

    /** A {@link PythonObject} being read: its state may still be set by BUILD. */
    private static final class DataObject {
        final String type;
        final Tuple args;
        Object state;

        DataObject(String type, Tuple args) {
            this.type = type;
            this.args = args;
        }
    }

    private static boolean isDataType(String name) {
        return DATA_TYPES.contains(name) || name.startsWith("numpy.dtypes.");
    }

    /** What the file format built on pickle (torch's) adds: its globals, persistent ids and objects. */
    interface Hooks {
        /** Whether the pickle may name this global; asked once per GLOBAL for names this class does not know. */
        boolean allows(Global g);

        /** The object for a persistent id (BINPERSID). */
        Object persistentLoad(Object pid);

        /** The result of calling an allowed global that this class does not know. */
        Object call(Global g, Tuple args);

        /** The value to return for an object made by these hooks that ends up in the result. */
        Object finish(Object made);
    }

    private final byte[] in;
    private final String source;
    private final Hooks hooks;
    private int pos;
    private int opStart;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final HashMap<Long, Object> memo = new HashMap<>();
    private static final int MAX_SHARED_HASH = 64;
    private final Map<Object, Map<Integer, Integer>> hashLoad = new java.util.IdentityHashMap<>();
    /** Items copied out of existing containers (set(list)): bounded by the pickle's length, so work stays linear. */
    private long copied;

    /** {@code source} names the pickle in error messages, such as "file.pt (archive/data.pkl)". */
    PickleReader(byte[] in, String source, Hooks hooks) {
        this.in = in;
        this.source = source;
        this.hooks = hooks;
    }

    Object load() {
        Object result = run();
        try {
            return finish(result, 0, new IdentityHashMap<>(), Collections.newSetFromMap(new IdentityHashMap<>()));
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
    }

    private CheckpointException bad(String what) {
        return new CheckpointException(source + ", byte " + opStart + ": " + what);
    }

    private Object run() {
        while (true) {
            opStart = pos;
            int op = u8();
            try {
                switch (op) {
                    case 0x80 -> { // PROTO
                        int v = u8();
                        if (v < 2 || v > 5) throw bad("unsupported pickle protocol " + v);
                    }
                    case 0x95 -> bytes(8); // FRAME: a hint for buffered readers; we have everything in memory
                    case '.' -> { // STOP
                        if (stack.size() != 1 || !marks.isEmpty()) throw bad("STOP with " + stack.size() + " values on the stack");
                        return stack.get(0);
                    }
                    case '(' -> marks.add(stack.size()); // MARK
                    case '0' -> { // POP (of a MARK, if one is on top)
                        if (!marks.isEmpty() && marks.getLast() == stack.size()) marks.removeLast();
                        else pop();
                    }
                    case '1' -> popMark(); // POP_MARK
                    case '2' -> push(peek()); // DUP
                    case 'N' -> push(null);
                    case 0x88 -> push(Boolean.TRUE);
                    case 0x89 -> push(Boolean.FALSE);
                    case 'J' -> push((long) le(4)); // BININT: signed
                    case 'K' -> push((long) u8()); // BININT1
                    case 'M' -> push(le(2) & 0xFFFFL); // BININT2
                    case 0x8a -> push(longOf(u8())); // LONG1
                    case 0x8b -> push(longOf(length(le(4) & 0xFFFFFFFFL, MAX_LONG_BYTES))); // LONG4
                    case 'G' -> push(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble()); // BINFLOAT
                    case 'X' -> push(utf8(le(4) & 0xFFFFFFFFL)); // BINUNICODE
                    case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                    case 0x8d -> push(utf8(le(8))); // BINUNICODE8
                    case 'B' -> push(bytes(length(le(4) & 0xFFFFFFFFL, Integer.MAX_VALUE))); // BINBYTES
                    case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
                    case 0x8e -> push(bytes(length(le(8), Integer.MAX_VALUE))); // BINBYTES8
                    case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                    case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                    case ')' -> push(new Tuple(new Object[0])); // EMPTY_TUPLE
                    case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
                    case 't' -> push(new Tuple(popMark().toArray())); // TUPLE
                    case 0x85 -> push(new Tuple(popN(1))); // TUPLE1
                    case 0x86 -> push(new Tuple(popN(2))); // TUPLE2
                    case 0x87 -> push(new Tuple(popN(3))); // TUPLE3
                    case 'l' -> push(new ArrayList<>(popMark())); // LIST
                    case 'd' -> { // DICT
                        Map<Object, Object> d = new LinkedHashMap<>();
                        setItems(d, popMark());
                        push(d);
                    }
                    case 'a' -> { // APPEND
                        Object v = pop();
                        list(peek()).add(v);
                    }
                    case 'e' -> { // APPENDS
                        List<Object> items = popMark();
                        list(peek()).addAll(items);
                    }
                    case 's' -> { // SETITEM
                        Object v = pop();
                        Object k = pop();
                        setItems(dict(peek()), Arrays.asList(k, v));
                    }
                    case 'u' -> { // SETITEMS
                        List<Object> items = popMark();
                        setItems(dict(peek()), items);
                    }
                    case 0x90 -> { // ADDITEMS
                        List<Object> items = popMark();
                        addAll(set(peek()), items);
                    }
                    case 0x91 -> { // FROZENSET
                        Set<Object> s = new LinkedHashSet<>();
                        addAll(s, popMark());
                        push(Collections.unmodifiableSet(s));
                    }
                    case 'c' -> push(global(line(), line())); // GLOBAL
                    case 0x93 -> { // STACK_GLOBAL
                        Object name = pop();
                        Object module = pop();
                        if (!(module instanceof String m) || !(name instanceof String n)) throw bad("STACK_GLOBAL needs two strings");
                        push(global(m, n));
                    }
                    case 'q' -> memo.put((long) u8(), peek()); // BINPUT
                    case 'r' -> memo.put(le(4) & 0xFFFFFFFFL, peek()); // LONG_BINPUT
                    case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
                    case 'h' -> push(memoGet(u8())); // BINGET
                    case 'j' -> push(memoGet(le(4) & 0xFFFFFFFFL)); // LONG_BINGET
                    case 'R' -> { // REDUCE
                        Tuple args = tuple(pop());
                        push(call(pop(), args));
                    }
                    case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args)
                        Tuple args = tuple(pop());
                        push(newObject(pop(), args));
                    }
                    case 'b' -> { // BUILD
                        Object state = pop();
                        build(peek(), state);
                    }
                    case 'Q' -> push(hooks.persistentLoad(pop())); // BINPERSID
                    default -> throw bad(String.format("unknown or unsupported opcode 0x%02x", op));
                }
            } catch (IllegalArgumentException | ClassCastException | ArithmeticException e) {
                throw bad(e.getMessage());
            }
        }
    }

    // ---- reading the byte stream ----------------------------------------------------------

    private void need(long n) {
        if (n < 0 || n > in.length - pos) throw bad("truncated: needs " + n + " more bytes, " + (in.length - pos) + " left");
    }

    private int u8() {
        need(1);
        return in[pos++] & 0xFF;
    }

    private long le(int n) {
        need(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | (in[pos + i] & 0xFF);
        pos += n;
        if (n == 4) v = (int) v; // sign-extend; callers mask when the field is unsigned
        return v;
    }

    private int length(long n, int max) {
        if (n < 0 || n > max) throw bad("absurd length " + n);
        return (int) n;
    }

    private byte[] bytes(long n) {
        need(n);
        byte[] b = Arrays.copyOfRange(in, pos, pos + (int) n);
        pos += (int) n;
        return b;
    }

    private String utf8(long n) {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private String line() {
        int start = pos;
        while (pos < in.length && in[pos] != '\n') pos++;
        if (pos == in.length) throw bad("truncated GLOBAL name");
        return new String(in, start, pos++ - start, StandardCharsets.UTF_8);
    }

    /** LONG1/LONG4: a little-endian two's complement integer of n bytes. */
    private Object longOf(int n) {
        byte[] le = bytes(n);
        if (n == 0) return 0L;
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) be[i] = le[n - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    // ---- the stack ------------------------------------------------------------------------

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() {
        int floor = marks.isEmpty() ? 0 : marks.getLast();
        if (stack.size() <= floor) throw bad("stack underflow");
        return stack.removeLast();
    }

    private Object peek() {
        int floor = marks.isEmpty() ? 0 : marks.getLast();
        if (stack.size() <= floor) throw bad("stack underflow");
        return stack.getLast();
    }

    private Object[] popN(int n) {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) items[i] = pop();
        return items;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) throw bad("no MARK on the stack");
        int from = marks.removeLast();
        List<Object> tail = stack.subList(from, stack.size());
        List<Object> items = new ArrayList<>(tail);
        tail.clear();
        return items;
    }

    private Object memoGet(long i) {
        if (!memo.containsKey(i)) throw bad("memo key " + i + " was never stored");
        return memo.get(i);
    }

    // ---- containers -----------------------------------------------------------------------

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw bad("appending to " + typeName(o) + ", not a list");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) {
        if (o instanceof LinkedHashMap<?, ?> m) return (Map<Object, Object>) m;
        throw bad("setting an item on " + typeName(o) + ", not a dict");
    }

    @SuppressWarnings("unchecked")
    private Set<Object> set(Object o) {
        if (o instanceof LinkedHashSet<?> s) return (Set<Object>) s;
        throw bad("adding to " + typeName(o) + ", not a set");
    }

    private Tuple tuple(Object o) {
        if (o instanceof Tuple t) return t;
        throw bad("expected a tuple of arguments, got " + typeName(o));
    }

    private void setItems(Map<Object, Object> d, List<Object> items) {
        if (items.size() % 2 != 0) throw bad("odd number of items for a dict");
        for (int i = 0; i < items.size(); i += 2) {
            Object k = key(items.get(i));
            if (!d.containsKey(k)) countHash(d, k);
            d.put(k, items.get(i + 1));
        }
    }

    private void addAll(Set<Object> s, List<Object> items) {
        for (Object o : items) {
            Object k = key(o);
            if (!s.contains(k)) countHash(s, k);
            s.add(k);
        }
    }

    /**
     * Keys that share a hash code make every insert into their dict or set walk all of them, and
     * such keys are easy to craft (a Long and a Double, or tuples, with equal hashes): a bound on
     * them per container keeps a file's work linear in its size.
     */
    private void countHash(Object container, Object key) {
        int n = hashLoad.computeIfAbsent(container, c -> new HashMap<>()).merge(java.util.Objects.hashCode(key), 1, Integer::sum);
        if (n > MAX_SHARED_HASH) throw bad("has a dict or set with more than " + MAX_SHARED_HASH + " distinct keys of one hash code (a crafted file)");
    }

    /**
     * Dict keys and set items must be hashable and must keep their hash: scalars, or tuples of
     * scalars. (Python also allows deeper tuples and frozensets; checkpoints do not use them.)
     */
    private Object key(Object k) {
        if (isScalar(k)) return k;
        if (k instanceof Tuple t && t.items().stream().allMatch(PickleReader::isScalar)) return t;
        throw bad("unsupported dict key or set item of type " + typeName(k));
    }

    private static boolean isScalar(Object o) {
        return o == null || o instanceof String || o instanceof Long || o instanceof BigInteger || o instanceof Double
                || o instanceof Boolean;
    }

    // ---- globals and calls ----------------------------------------------------------------

    private Global global(String module, String name) {
        if (module.equals("__builtin__")) module = "builtins"; // protocol 2 writes Python 2 module names
        Global g = new Global(module, name);
        String full = g.toString();
        boolean known = full.equals("collections.OrderedDict") || full.equals("builtins.set")
                || full.equals("builtins.frozenset") || OBJECT_TYPES.contains(full) || isDataType(full) || full.equals(ENCODE)
                || full.equals(BYTES);
        if (!known && !hooks.allows(g)) throw bad("refers to " + summary(g) + ", which is not allowed in a checkpoint");
        return g;
    }

    private Object call(Object callable, Tuple args) {
        if (!(callable instanceof Global g)) throw bad("REDUCE on " + typeName(callable) + ", which is not callable");
        switch (g.toString()) {
            case "collections.OrderedDict" -> {
                if (args.size() != 0) throw bad("OrderedDict with arguments is not supported");
                return new LinkedHashMap<>();
            }
            case "builtins.set", "builtins.frozenset" -> {
                Set<Object> s = new LinkedHashSet<>();
                if (args.size() == 1 && args.get(0) instanceof List<?> items) {
                    copied += items.size();
                    if (copied > in.length) throw bad("builds sets from more list items than the pickle has bytes: the same list again and again");
                    addAll(s, new ArrayList<>(items));
                }
                else if (args.size() != 0) throw bad(g + " needs one list argument");
                return g.name().equals("set") ? s : Collections.unmodifiableSet(s);
            }
            case ENCODE -> {
                if (args.size() != 2 || !(args.get(0) instanceof String text) || !"latin1".equals(args.get(1))) {
                    throw bad(ENCODE + " is only read as pickle's form of bytes, (text, 'latin1'), got " + args);
                }
                byte[] b = new byte[text.length()];
                for (int i = 0; i < b.length; i++) {
                    char c = text.charAt(i);
                    if (c > 0xFF) throw bad(ENCODE + " of a character outside latin-1");
                    b[i] = (byte) c;
                }
                return b;
            }
            case BYTES -> {
                if (args.size() != 0) throw bad("bytes() with arguments is not supported");
                return new byte[0];
            }
            default -> {
                if (OBJECT_TYPES.contains(g.toString())) return newObject(g, args);
                if (isDataType(g.toString())) return new DataObject(g.toString(), args);
                return hooks.call(g, args);
            }
        }
    }

    private Object newObject(Object cls, Tuple args) {
        if (cls instanceof Global g && isDataType(g.toString())) return new DataObject(g.toString(), args);
        if (!(cls instanceof Global g) || !OBJECT_TYPES.contains(g.toString())) throw bad("NEWOBJ on " + typeName(cls));
        if (args.size() != 0) throw bad(g + " with constructor arguments is not supported");
        return new PyObject(g);
    }

    private void build(Object obj, Object state) {
        if (obj instanceof LinkedHashMap<?, ?>) {
            return; // attributes of an OrderedDict, such as a state dict's _metadata: not part of its items
        }
        if (obj instanceof PyObject o && o.state == null && state instanceof LinkedHashMap<?, ?>) {
            o.state = state;
            return;
        }
        if (obj instanceof DataObject o && o.state == null && state != null) {
            o.state = state;
            return;
        }
        throw bad("BUILD with " + typeName(state) + " on " + typeName(obj) + " is not supported");
    }

    /**
     * A bounded description of an untrusted value for messages: its type and size, or its value
     * when that is short. Never toString(): shared or deep structures would make it exponential
     * or overflow the stack.
     */
    static String summary(Object o) {
        if (o instanceof String str) return CheckpointFiles.quote(str);
        if (o instanceof Long || o instanceof Double || o instanceof Boolean) return o.toString();
        if (o instanceof BigInteger b) return b.bitLength() <= 128 ? b.toString() : "an int of " + b.bitLength() + " bits";
        if (o instanceof byte[] b) return "bytes of length " + b.length;
        if (o instanceof Tuple t) return "a tuple of " + t.size() + " items";
        if (o instanceof Collection<?> c) return "a " + typeName(o) + " of " + c.size() + " items";
        if (o instanceof Map<?, ?> m) return "a dict of " + m.size() + " items";
        if (o == null || o instanceof Global || o instanceof PyObject || o instanceof DataObject) return typeName(o);
        return "a " + o.getClass().getSimpleName();
    }

    private static String typeName(Object o) {
        if (o == null) return "None";
        if (o instanceof Global g) return "global " + CheckpointFiles.quote(g.toString());
        if (o instanceof PyObject p) return p.type.toString();
        if (o instanceof DataObject d) return d.type;
        if (o instanceof Tuple) return "tuple";
        if (o instanceof List<?>) return "list";
        if (o instanceof Map<?, ?>) return "dict";
        if (o instanceof Set<?>) return "set";
        return o.getClass().getSimpleName();
    }

    // ---- conversion to Java values --------------------------------------------------------

    /** Converts a value, sharing the conversion of objects reachable twice and rejecting cycles. */
    private Object finish(Object o, int depth, Map<Object, Object> done, Set<Object> open) {
        if (o == null || isScalar(o) || o instanceof byte[]) return o;
        if (o instanceof Global g) {
            if (isDataType(g.toString())) return g.toString(); // a class passed as an argument: numpy.ndarray to _reconstruct
            throw bad("the result contains a bare reference to " + g + ", which is not data");
        }
        if (done.containsKey(o)) return done.get(o);
        if (depth >= MAX_DEPTH) throw bad("values nested more than " + MAX_DEPTH + " deep");
        if (!open.add(o)) throw bad("the result contains a cycle (a container inside itself)");
        Object r;
        if (o instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (var e : m.entrySet()) out.put(finish(e.getKey(), depth + 1, done, open), finish(e.getValue(), depth + 1, done, open));
            r = out;
        } else if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object x : l) out.add(finish(x, depth + 1, done, open));
            r = out;
        } else if (o instanceof Tuple t) {
            List<Object> out = new ArrayList<>(t.size());
            for (Object x : t.items()) out.add(finish(x, depth + 1, done, open));
            r = Collections.unmodifiableList(out);
        } else if (o instanceof Set<?> s) {
            Set<Object> out = new LinkedHashSet<>();
            for (Object x : s) out.add(finish(x, depth + 1, done, open));
            r = out;
        } else if (o instanceof PyObject p) {
            r = p.state == null ? new LinkedHashMap<>() : finish(p.state, depth, done, open);
        } else if (o instanceof DataObject d) {
            List<Object> args = new ArrayList<>(d.args.size());
            for (Object x : d.args.items()) args.add(finish(x, depth + 1, done, open));
            r = new PythonObject(d.type, Collections.unmodifiableList(args), finish(d.state, depth + 1, done, open));
        } else {
            r = hooks.finish(o);
        }
        open.remove(o);
        done.put(o, r);
        return r;
    }
}
