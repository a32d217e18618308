package dev.dit4j.nn.io;

import dev.dit4j.nn.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * PyTorch's {@code torch.save} format (PyTorch 1.6 and later): a zip archive whose
 * {@code <name>/data.pkl} is a pickle of the saved object, with each tensor storage as raw
 * little-endian bytes in {@code <name>/data/<key>}.
 *
 * <p>Reading runs a restricted unpickler ({@link PickleReader}) that knows only what state dicts
 * and training checkpoints hold: dicts, lists, tuples, sets, numbers, strings, bytes, tensors,
 * argparse namespaces, and the few plain values composer's checkpoints add (wall-clock times,
 * numpy arrays, torch's version), kept as {@link PythonObject}s without being made. Anything
 * else, such as a reference to {@code os.system}, is rejected, so an untrusted file can at worst
 * fail to load. Tensors load on the CPU whatever device they were saved from; Parameters load as
 * plain tensors.
 */
public final class TorchCheckpoint {
    private TorchCheckpoint() {}

    // ---- reading --------------------------------------------------------------------------

    /**
     * The object a checkpoint holds, as plain Java values (see {@link PickleReader}) with tensors on
     * the CPU. The caller owns the tensors: close them, for example with {@link #closeTensors}.
     * Tensors that were row-major views of one storage share its memory, as in PyTorch; other
     * views (a transpose, a strided slice) are loaded as contiguous copies.
     */
    public static Object read(Path file) {
        CheckpointFiles.requireRegularFile(file, KIND);
        checkZipMagic(file);
        try (ZipFile zip = new ZipFile(file.toFile()); TorchLoader loader = new TorchLoader(file, zip)) {
            return loader.load();
        } catch (ZipException e) {
            throw new CheckpointException("torch checkpoint " + file + " is not a readable zip archive (truncated or corrupt): "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw CheckpointFiles.cannotRead(file, KIND, e);
        }
    }

    /** A file holding a state dict: a dict of names to tensors (which the caller owns). */
    public static Map<String, Tensor> readStateDict(Path file) {
        Object root = read(file);
        return asStateDict(file, root, root, "the top-level object");
    }

    /** The state dict under a top-level key of a training checkpoint, such as "model" or "ema". */
    public static Map<String, Tensor> readStateDict(Path file, String key) {
        Object root = read(file);
        if (!(root instanceof Map<?, ?> m) || !m.containsKey(key)) {
            closeTensors(root);
            throw new CheckpointException("torch checkpoint " + file + " has no top-level entry '" + key + "'");
        }
        return asStateDict(file, root, m.get(key), "entry '" + key + "'");
    }

    /** Checks that part is a state dict, and closes the tensors of root that are not in it. */
    @SuppressWarnings("unchecked")
    private static Map<String, Tensor> asStateDict(Path file, Object root, Object part, String what) {
        String problem = null;
        if (part instanceof Map<?, ?> m) {
            for (var e : m.entrySet()) {
                if (!(e.getKey() instanceof String) || !(e.getValue() instanceof Tensor)) {
                    problem = "its entry " + PickleReader.summary(e.getKey()) + " is " + (e.getValue() == null ? "None" : "a " + e.getValue().getClass().getSimpleName());
                    break;
                }
            }
        } else {
            problem = "it is " + (part == null ? "None" : "a " + part.getClass().getSimpleName());
        }
        if (problem != null) {
            closeTensors(root);
            throw new CheckpointException("torch checkpoint " + file + ": " + what + " is not a state dict (names to tensors): "
                    + problem + "; use TorchCheckpoint.read for other checkpoints");
        }
        closeTensorsExcept(root, ((Map<String, Tensor>) part).values());
        return (Map<String, Tensor>) part;
    }

    /** Closes every tensor in a value returned by {@link #read} except those in {@code kept}. */
    public static void closeTensorsExcept(Object value, Collection<Tensor> kept) {
        Set<Tensor> keep = Collections.newSetFromMap(new IdentityHashMap<>());
        keep.addAll(kept);
        forEachTensor(value, t -> {
            if (!keep.contains(t)) t.close();
        });
    }

    /** Closes every tensor in a value returned by {@link #read} (maps, lists, sets and Python objects are searched). */
    public static void closeTensors(Object value) {
        forEachTensor(value, Tensor::close);
    }

    /**
     * Visits each tensor once, and each container once however many times it is referenced: a
     * legitimate file may share lists so that the number of paths through them is exponential.
     */
    private static void forEachTensor(Object value, Consumer<Tensor> action) {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object> todo = new ArrayDeque<>();
        push(todo, value);
        while (!todo.isEmpty()) {
            Object o = todo.pop();
            if (!seen.add(o)) continue;
            if (o instanceof Tensor t) {
                action.accept(t);
            } else if (o instanceof Map<?, ?> m) {
                m.values().forEach(v -> push(todo, v));
            } else if (o instanceof Collection<?> c) {
                c.forEach(v -> push(todo, v));
            } else if (o instanceof PythonObject p) {
                p.args().forEach(v -> push(todo, v));
                push(todo, p.state());
            }
        }
    }

    /** Only what may hold tensors (never null, which an ArrayDeque refuses). */
    private static void push(ArrayDeque<Object> todo, Object v) {
        if (v instanceof Tensor || v instanceof Map<?, ?> || v instanceof Collection<?> || v instanceof PythonObject) todo.push(v);
    }

    private static void checkZipMagic(Path file) {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            if (n < 4 || head[0] != 'P' || head[1] != 'K' || head[2] != 3 || head[3] != 4) {
                throw new CheckpointException("torch checkpoint " + file + " is not a zip archive"
                        + (n < 4 ? " (only " + n + " bytes long)" : "")
                        + ": torch.save files from PyTorch before 1.6, and other formats, are not supported");
            }
        } catch (IOException e) {
            throw CheckpointFiles.cannotRead(file, KIND, e);
        }
    }

    private static final String KIND = "torch checkpoint";

    // ---- writing --------------------------------------------------------------------------

    /**
     * Writes nested maps (String or integer keys) and lists of tensors, numbers, strings, booleans and
     * nulls so that {@code torch.load(file, weights_only=True)} reads them back. Each tensor is saved
     * from the CPU as its own contiguous storage; the file is replaced atomically.
     */
    public static void write(Path file, Map<String, ?> contents) {
        TorchWriter.write(file, contents);
    }
}
