package dev.dit4j.models.data;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.Torch;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Shuffled mini-batches of a {@link Dataset}, assembled ahead of time on a background thread
 * into a small bounded queue so that the training step never waits for data.
 *
 * <p>Each epoch visits the dataset in a permutation drawn from (seed, epoch), and each visit's
 * horizontal flip (if enabled) from (seed, epoch, position), so a run is reproducible from its
 * seed and can resume exactly from {@link #state()}: a new loader built with
 * {@link Builder#resumeFrom} or {@link #restore} yields the very batches the old one would have.
 *
 * <p>Data-parallel training ({@link Builder#shard}): the ranks of a job share one epoch order, and
 * each global batch of {@code batchSize x worldSize} consecutive positions splits into disjoint
 * per-rank shares in rank order, so the ranks together see what one process with the global
 * batch would. The state is the global position, the same on every rank: any rank's checkpointed
 * state resumes them all.
 *
 * <p>Ownership: the tensors of a {@link Batch} are made on the loader's thread, where no
 * {@link dev.dit4j.nn.TensorScope} is open, so no scope of the consumer owns them; the consumer
 * closes each batch (try-with-resources). Closing the loader frees the batches still queued and
 * stops its threads. One thread consumes: the loader is not for sharing between consumers.
 */
public final class BatchLoader implements Iterator<BatchLoader.Batch>, AutoCloseable {
    /** Where a run stands: the next batch starts at {@code position} of epoch {@code epoch}'s order. */
    public record State(long seed, long epoch, long position) {
        public State {
            if (epoch < 0 || position < 0) throw new IllegalArgumentException("epoch and position must be >= 0, got " + epoch + ", " + position);
        }

        /** "seed:epoch:position", for a checkpoint's metadata. */
        public String encode() {
            return seed + ":" + epoch + ":" + position;
        }

        /** The state {@link #encode} wrote; {@code source} names where it came from in the error. */
        public static State decode(String text, Object source) {
            String[] p = text == null ? new String[0] : text.split(":");
            try {
                if (p.length == 3) return new State(Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2]));
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(source + " has no valid data-loader position (seed:epoch:position), got '" + text + "'");
        }
    }

    /**
     * Images float32 [B, C, H, W] and labels int64 [B], owned by the consumer, and the state
     * just after this batch.
     */
    public record Batch(Tensor images, Tensor labels, State next) implements AutoCloseable {
        public int size() {
            return (int) labels.size(0);
        }

        /**
         * The epoch this batch belongs to ({@code next} has moved on to the following epoch when
         * the batch ended its own, and only then is its position 0).
         */
        public long epoch() {
            return next.position() == 0 ? next.epoch() - 1 : next.epoch();
        }

        @Override
        public void close() {
            images.close();
            labels.close();
        }
    }

    public static Builder builder(Dataset data, int batchSize) {
        return new Builder(data, batchSize);
    }

    /** Settings of a loader (seed, shuffling, flips, last partial batch, epochs, sharding) before {@link #build}. */
    public static final class Builder {
        private final Dataset data;
        private final int batchSize;
        private long seed;
        private boolean shuffle = true;
        private boolean randomFlip;
        private boolean dropLast = true;
        private long epochs = Long.MAX_VALUE;
        private int queueCapacity = 3;
        private int workers = 1;
        private boolean pinMemory;
        private State resumeFrom;
        private int rank;
        private int worldSize = 1;

        private Builder(Dataset data, int batchSize) {
            this.data = data;
            this.batchSize = batchSize;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Visit in a fresh random order each epoch (default) or in dataset order. */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /** Mirror each image left-right with probability 1/2 (off by default). */
        public Builder randomFlip(boolean flip) {
            this.randomFlip = flip;
            return this;
        }

        /** Skip an epoch's last, smaller batch (default: true, as for training). */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** Stop once this many epochs (counted from 0, resumed ones included) are done; default never. */
        public Builder epochs(long epochs) {
            this.epochs = epochs;
            return this;
        }

        /** Batches made ahead of the consumer (default 3). */
        public Builder queueCapacity(int capacity) {
            this.queueCapacity = capacity;
            return this;
        }

        /** Threads that decode images (default 1); worth raising for datasets read from disk. */
        public Builder workers(int workers) {
            this.workers = workers;
            return this;
        }

        /** Page-lock batches for faster asynchronous copies to the GPU; ignored without CUDA. */
        public Builder pinMemory(boolean pin) {
            this.pinMemory = pin;
            return this;
        }

        /** Start where a previous run's {@link BatchLoader#state()} says (its seed wins over {@link #seed}). */
        public Builder resumeFrom(State state) {
            this.resumeFrom = state;
            return this;
        }

        /**
         * Hands this process only rank {@code rank}'s share of each global batch of
         * {@code batchSize * worldSize} (see the class comment); needs {@link #dropLast} so that
         * every rank gets as many batches.
         */
        public Builder shard(int rank, int worldSize) {
            if (worldSize < 1 || rank < 0 || rank >= worldSize) {
                throw new IllegalArgumentException("shard " + rank + " of " + worldSize + ": need 0 <= rank < worldSize");
            }
            this.rank = rank;
            this.worldSize = worldSize;
            return this;
        }

        public BatchLoader build() {
            return new BatchLoader(this);
        }
    }

    private static final Object END = new Object();
    private static final long ORDER_SALT = 0x6f72646572L;
    private static final long FLIP_SALT = 0x666c6970L;

    private final Dataset data;
    private final int batchSize;
    private final int rank;
    private final int stride; // positions one step consumes: the global batch
    private final boolean shuffle;
    private final boolean randomFlip;
    private final boolean dropLast;
    private final long epochs;
    private final boolean pin;
    private final long[] imageShape;
    private final int imageElements;
    private final BlockingQueue<Object> queue;
    private final ExecutorService workers;
    private final int workerCount;

    private Thread producer;
    private State consumed;
    private Object pending;
    private boolean closed;

    private BatchLoader(Builder b) {
        if (b.batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + b.batchSize);
        if (b.queueCapacity < 1) throw new IllegalArgumentException("queue capacity must be >= 1, got " + b.queueCapacity);
        if (b.workers < 1) throw new IllegalArgumentException("workers must be >= 1, got " + b.workers);
        if (b.data.size() == 0) throw new IllegalArgumentException("the dataset is empty");
        if (b.worldSize > 1 && !b.dropLast) {
            throw new IllegalArgumentException("a sharded loader drops the last incomplete global batch (dropLast), so that every rank steps equally often");
        }
        long global = (long) b.batchSize * b.worldSize;
        if (b.dropLast && b.data.size() < global) {
            throw new IllegalArgumentException("dataset of " + b.data.size() + " is smaller than one batch of " + global
                    + (b.worldSize > 1 ? " (" + b.batchSize + " on each of " + b.worldSize + " ranks)" : "") + " and dropLast is set: there would be no batch");
        }
        this.data = b.data;
        this.batchSize = b.batchSize;
        this.rank = b.rank;
        this.stride = (int) global;
        this.shuffle = b.shuffle;
        this.randomFlip = b.randomFlip;
        this.dropLast = b.dropLast;
        this.epochs = b.epochs;
        this.pin = b.pinMemory && Torch.cudaAvailable();
        this.imageShape = data.imageShape();
        this.imageElements = data.imageElements();
        this.queue = new ArrayBlockingQueue<>(b.queueCapacity);
        this.workerCount = b.workers;
        this.workers = b.workers > 1 ? Executors.newFixedThreadPool(b.workers, daemonThreads("dit4j-batch-worker")) : null;
        start(b.resumeFrom != null ? b.resumeFrom : new State(b.seed, 0, 0));
    }

    /** The state after the last batch handed out by {@link #next()}: resume from it to continue exactly. */
    public State state() {
        return consumed;
    }

    /** Discards the batches made ahead and continues from {@code state}. */
    public void restore(State state) {
        checkOpen();
        stopProducer();
        start(state);
    }

    @Override
    public boolean hasNext() {
        checkOpen();
        if (pending == null) pending = take();
        if (pending instanceof Throwable t) throw rethrow(t);
        return pending != END;
    }

    /** The next batch; the caller closes it. Blocks while the loader thread is still making it. */
    @Override
    public Batch next() {
        if (!hasNext()) throw new NoSuchElementException("the loader has finished its " + epochs + " epochs");
        Batch batch = (Batch) pending;
        pending = null;
        consumed = batch.next();
        return batch;
    }

    /** Stops the loader thread and frees every batch it made that was not handed out. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        stopProducer();
        if (workers != null) {
            workers.shutdownNow();
            try {
                // Idle by now (the producer waited for them), so this is immediate.
                workers.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("this BatchLoader is closed");
    }

    private void start(State from) {
        if (from.position() > data.size()) {
            throw new IllegalArgumentException("state " + from + " lies past the end of a dataset of " + data.size());
        }
        consumed = normalize(from);
        State first = consumed;
        producer = new Thread(() -> produce(first), "dit4j-batch-loader");
        producer.setDaemon(true);
        producer.start();
    }

    /** An epoch that has no full batch left (or nothing, without dropLast) is over: move to the next. */
    private State normalize(State s) {
        long left = data.size() - s.position();
        boolean over = dropLast ? left < stride : left == 0;
        return over ? new State(s.seed(), s.epoch() + 1, 0) : s;
    }

    private Object take() {
        try {
            return queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch", e);
        }
    }

    private void stopProducer() {
        Thread t = producer;
        producer = null;
        if (t != null) {
            t.interrupt();
            boolean interrupted = false;
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true; // finish stopping first: a live producer would leak batches
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
        if (pending instanceof Batch b) b.close();
        pending = null;
        for (Object item; (item = queue.poll()) != null; ) {
            if (item instanceof Batch b) b.close();
        }
    }

    private void produce(State from) {
        State s = from;
        Epoch epoch = null;
        try {
            while (s.epoch() < epochs) {
                if (epoch == null || epoch.number != s.epoch()) epoch = new Epoch(s.seed(), s.epoch());
                int count = (int) Math.min(batchSize, data.size() - s.position()); // short only unsharded, without dropLast
                // the other ranks' shares are skipped: the step consumes the whole global batch
                State next = normalize(new State(s.seed(), s.epoch(), s.position() + count + stride - batchSize));
                Batch batch = assemble(epoch, (int) s.position() + rank * batchSize, count, next);
                if (batch == null) return; // interrupted
                try {
                    queue.put(batch);
                } catch (InterruptedException e) {
                    batch.close();
                    return;
                }
                s = next;
            }
            queue.put(END);
        } catch (InterruptedException e) {
            // closed or restored: nothing to hand over
        } catch (Throwable t) {
            // The consumer takes the batches made before the failure, then rethrows it.
            try {
                queue.put(t);
            } catch (InterruptedException e) {
                // being stopped: nobody is left to tell
            }
        }
    }

    /** One epoch's visiting order and flips, drawn from (seed, epoch) alone. */
    private final class Epoch {
        final long number;
        final int[] order;
        final boolean[] flips;

        Epoch(long seed, long number) {
            this.number = number;
            int n = data.size();
            order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
            if (shuffle) {
                SplittableRandom rng = new SplittableRandom(mix(seed, number, ORDER_SALT));
                for (int i = n - 1; i > 0; i--) {
                    int j = rng.nextInt(i + 1);
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
            }
            flips = new boolean[n];
            if (randomFlip) {
                SplittableRandom rng = new SplittableRandom(mix(seed, number, FLIP_SALT));
                for (int i = 0; i < n; i++) flips[i] = rng.nextBoolean();
            }
        }
    }

    static long mix(long seed, long epoch, long salt) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xC2B2AE3D27D4EB4FL + salt;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Fills a new batch from positions [start, start + count) of the epoch; null if interrupted. */
    private Batch assemble(Epoch epoch, int start, int count, State next) throws Exception {
        long[] shape = {count, imageShape[0], imageShape[1], imageShape[2]};
        Tensor images = Tensor.empty(shape, DType.FLOAT32, Device.CPU);
        Tensor labels = null;
        try {
            MemorySegment out = images.asSegment();
            long[] y = new long[count];
            if (!fill(epoch, start, count, out, y)) {
                images.close();
                return null;
            }
            labels = Tensor.of(y, count);
            if (pin) {
                Tensor pinned = images.pinMemory();
                images.close();
                images = pinned;
                Tensor pinnedLabels = labels.pinMemory();
                labels.close();
                labels = pinnedLabels;
            }
            return new Batch(images, labels, next);
        } catch (Throwable t) {
            images.close();
            if (labels != null) labels.close();
            throw t;
        }
    }

    /** Reads the images, split over the workers; false if interrupted (after the workers are done). */
    private boolean fill(Epoch epoch, int start, int count, MemorySegment out, long[] labels) throws Exception {
        if (workers == null) {
            fillRange(epoch, start, 0, count, out, labels);
            return !Thread.currentThread().isInterrupted();
        }
        int chunks = Math.min(workerCount, count);
        List<Future<?>> futures = new ArrayList<>();
        for (int k = 0; k < chunks; k++) {
            int from = (int) ((long) count * k / chunks);
            int to = (int) ((long) count * (k + 1) / chunks);
            futures.add(workers.submit(() -> {
                fillRange(epoch, start, from, to, out, labels);
                return null;
            }));
        }
        // Wait for every chunk even when interrupted: the batch must not be freed while a worker writes it.
        boolean interrupted = false;
        Exception failure = null;
        for (Future<?> f : futures) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (failure == null) failure = e.getCause() instanceof Exception c ? c : new RuntimeException(e.getCause());
                    break;
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (failure != null) throw failure;
        return !interrupted;
    }

    private void fillRange(Epoch epoch, int start, int from, int to, MemorySegment out, long[] labels) {
        float[] chw = new float[imageElements];
        float[] row = new float[(int) imageShape[2]];
        int width = row.length;
        for (int j = from; j < to; j++) {
            int index = epoch.order[start + j];
            data.readImage(index, chw);
            labels[j] = data.label(index);
            long base = (long) j * imageElements * Float.BYTES;
            if (!epoch.flips[start + j]) {
                MemorySegment.copy(chw, 0, out, ValueLayout.JAVA_FLOAT, base, imageElements);
                continue;
            }
            for (int r = 0; r < imageElements; r += width) {
                for (int c = 0; c < width; c++) row[c] = chw[r + width - 1 - c];
                MemorySegment.copy(row, 0, out, ValueLayout.JAVA_FLOAT, base + (long) r * Float.BYTES, width);
            }
        }
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String name) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("the batch loader failed: " + t, t);
    }
}
