package dev.dit4j.models.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BatchLoaderTest {
    private static final int N = 23;
    private static final int H = 2;
    private static final int W = 3;

    private long live;
    private TensorDataset data;

    /** Image i holds 100 i + (r W + c): its index and, from the order within a row, whether it was mirrored. */
    private static TensorDataset numbered(int n) {
        float[] x = new float[n * H * W];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < H * W; k++) x[i * H * W + k] = 100 * i + k;
            y[i] = i % 7;
        }
        return new TensorDataset(Tensor.of(x, n, 1, H, W), Tensor.of(y, n), List.of("a", "b", "c", "d", "e", "f", "g"));
    }

    @BeforeEach
    void setUp() {
        live = Torch.liveTensors();
        data = numbered(N);
    }

    @AfterEach
    void noLeaks() {
        data.close();
        assertEquals(live, Torch.liveTensors(), "every tensor was freed");
        assertTrue(loaderThreads().isEmpty(), "loader threads still alive: " + loaderThreads());
    }

    private static List<String> loaderThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("dit4j-batch")).toList();
    }

    /** What a batch held: per example its dataset index, whether mirrored, and its label. */
    private record Seen(List<Integer> indices, List<Boolean> flipped, long[] labels, BatchLoader.State next) {}

    private static Seen read(BatchLoader.Batch b) {
        assertEquals(4, b.images().dim());
        float[] x = b.images().toFloatArray();
        List<Integer> idx = new ArrayList<>();
        List<Boolean> flips = new ArrayList<>();
        for (int j = 0; j < b.size(); j++) {
            float first = x[j * H * W];
            int index = (int) (first / 100);
            boolean flipped = first - 100 * index == W - 1;
            for (int r = 0; r < H; r++) {
                for (int c = 0; c < W; c++) {
                    int col = flipped ? W - 1 - c : c;
                    assertEquals(100 * index + r * W + col, x[j * H * W + r * W + c], 0f, "a whole image, mirrored or not");
                }
            }
            idx.add(index);
            flips.add(flipped);
        }
        return new Seen(idx, flips, b.labels().toLongArray(), b.next());
    }

    private static List<Seen> take(BatchLoader loader, int batches) {
        List<Seen> seen = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            try (BatchLoader.Batch b = loader.next()) {
                seen.add(read(b));
            }
        }
        return seen;
    }

    @Test
    void eachEpochIsAPermutationAndLabelsFollowTheImages() {
        try (BatchLoader loader = BatchLoader.builder(data, 5).seed(1).dropLast(false).build()) {
            List<Seen> epoch = take(loader, 5); // 5 + 5 + 5 + 5 + 3
            assertEquals(3, epoch.get(4).indices().size());
            Set<Integer> all = new HashSet<>();
            for (Seen s : epoch) {
                all.addAll(s.indices());
                for (int j = 0; j < s.indices().size(); j++) assertEquals(s.indices().get(j) % 7, s.labels()[j]);
            }
            assertEquals(N, all.size());
            assertEquals(new BatchLoader.State(1, 1, 0), loader.state());
            List<Integer> order = epoch.stream().flatMap(s -> s.indices().stream()).toList();
            assertNotEquals(range(N), order, "shuffled");
            List<Integer> second = take(loader, 5).stream().flatMap(s -> s.indices().stream()).toList();
            assertNotEquals(order, second, "a new order each epoch");
            assertEquals(Set.copyOf(order), Set.copyOf(second));
        }
    }

    private static List<Integer> range(int n) {
        List<Integer> r = new ArrayList<>();
        for (int i = 0; i < n; i++) r.add(i);
        return r;
    }

    @Test
    void dropLastSkipsTheShortBatchAndUnshuffledKeepsOrder() {
        try (BatchLoader loader = BatchLoader.builder(data, 5).shuffle(false).build()) {
            List<Seen> seen = take(loader, 5);
            assertEquals(range(5), seen.get(0).indices());
            assertEquals(List.of(15, 16, 17, 18, 19), seen.get(3).indices());
            assertEquals(new BatchLoader.State(0, 1, 0), seen.get(3).next(), "20..22 are dropped");
            assertEquals(range(5), seen.get(4).indices(), "epoch 1 starts over");
        }
    }

    @Test
    void theSameSeedGivesTheSameBatches() {
        List<Seen> a;
        List<Seen> b;
        List<Seen> c;
        try (BatchLoader l = BatchLoader.builder(data, 4).seed(7).randomFlip(true).build()) {
            a = take(l, 12);
        }
        try (BatchLoader l = BatchLoader.builder(data, 4).seed(7).randomFlip(true).workers(3).queueCapacity(2).build()) {
            b = take(l, 12);
        }
        try (BatchLoader l = BatchLoader.builder(data, 4).seed(8).randomFlip(true).build()) {
            c = take(l, 12);
        }
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).indices(), b.get(i).indices());
            assertEquals(a.get(i).flipped(), b.get(i).flipped());
        }
        assertNotEquals(a.stream().map(Seen::indices).toList(), c.stream().map(Seen::indices).toList());
    }

    @Test
    void flipsAboutHalfAndNoneWhenOff() {
        int flipped = 0;
        int total = 0;
        try (BatchLoader l = BatchLoader.builder(data, 5).seed(3).randomFlip(true).build()) {
            for (Seen s : take(l, 40)) {
                for (boolean f : s.flipped()) {
                    flipped += f ? 1 : 0;
                    total++;
                }
            }
        }
        assertTrue(flipped > total * 0.4 && flipped < total * 0.6, flipped + " of " + total + " flipped");
        try (BatchLoader l = BatchLoader.builder(data, 5).seed(3).build()) {
            for (Seen s : take(l, 10)) assertFalse(s.flipped().contains(true));
        }
    }

    @Test
    void resumingFromAStateContinuesExactly() {
        List<Seen> straight;
        BatchLoader.State middle;
        try (BatchLoader l = BatchLoader.builder(data, 4).seed(11).randomFlip(true).build()) {
            straight = take(l, 9);
            middle = straight.get(6).next(); // mid epoch 1: 5 batches of 4 per epoch
        }
        assertEquals(new BatchLoader.State(11, 1, 8), middle);
        try (BatchLoader l = BatchLoader.builder(data, 4).seed(999).randomFlip(true).resumeFrom(middle).build()) {
            assertEquals(middle, l.state());
            List<Seen> resumed = take(l, 2);
            for (int i = 0; i < 2; i++) {
                assertEquals(straight.get(7 + i).indices(), resumed.get(i).indices());
                assertEquals(straight.get(7 + i).flipped(), resumed.get(i).flipped());
            }
        }
    }

    @Test
    void restoreRewindsARunningLoader() {
        try (BatchLoader l = BatchLoader.builder(data, 4).seed(5).randomFlip(true).queueCapacity(4).build()) {
            BatchLoader.State start = l.state();
            List<Seen> first = take(l, 3);
            BatchLoader.State after1 = first.get(0).next();
            l.restore(after1);
            assertEquals(after1, l.state());
            List<Seen> again = take(l, 2);
            assertEquals(first.get(1).indices(), again.get(0).indices());
            assertEquals(first.get(2).indices(), again.get(1).indices());
            l.restore(start);
            assertEquals(first.get(0).indices(), take(l, 1).get(0).indices());
        }
    }

    @Test
    void stopsAfterTheRequestedEpochs() {
        try (BatchLoader l = BatchLoader.builder(data, 10).epochs(2).build()) {
            assertEquals(4, take(l, 4).size());
            assertFalse(l.hasNext());
            assertThrows(NoSuchElementException.class, l::next);
            assertEquals(new BatchLoader.State(0, 2, 0), l.state());
        }
    }

    @Test
    void closingFreesQueuedBatchesAndStopsThreads() throws InterruptedException {
        for (int workers : new int[] {1, 4}) {
            BatchLoader l = BatchLoader.builder(data, 3).queueCapacity(4).workers(workers).build();
            take(l, 1);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (Torch.liveTensors() < live + 8 && System.nanoTime() < deadline) Thread.sleep(5); // let the queue fill
            assertTrue(Torch.liveTensors() >= live + 8, "4 batches of 2 tensors are waiting");
            l.close();
            l.close();
            assertThrows(IllegalStateException.class, l::next);
        }
    }

    @Test
    void batchesAreNotOwnedByTheConsumersScope() {
        try (BatchLoader l = BatchLoader.builder(data, 4).build()) {
            BatchLoader.Batch b;
            try (TensorScope scope = TensorScope.open()) {
                b = l.next();
                try (Tensor doubled = b.images().mul(2)) {
                    assertEquals(4, doubled.size(0));
                }
            }
            assertFalse(b.images().isClosed(), "the scope did not free the batch");
            assertFalse(b.labels().isClosed());
            b.close();
        }
    }

    /** A dataset whose image 13 cannot be read. */
    private static final class Failing implements Dataset {
        final AtomicInteger reads = new AtomicInteger();

        public int size() {
            return 20;
        }

        public long[] imageShape() {
            return new long[] {1, 1, 1};
        }

        public List<String> classes() {
            return List.of("x");
        }

        public long label(int index) {
            return 0;
        }

        public void readImage(int index, float[] chw) {
            reads.incrementAndGet();
            if (index == 13) throw new IllegalArgumentException("cannot decode image broken-13.png");
            chw[0] = index;
        }
    }

    @Test
    void aFailedReadReachesTheConsumerAfterTheGoodBatches() {
        for (int workers : new int[] {1, 2}) {
            try (BatchLoader l = BatchLoader.builder(new Failing(), 5).shuffle(false).workers(workers).build()) {
                for (int i = 0; i < 2; i++) {
                    try (BatchLoader.Batch b = l.next()) {
                        assertEquals(5 * i, b.images().toFloatArray()[0]);
                    }
                }
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, l::next);
                assertTrue(e.getMessage().contains("broken-13.png"));
                assertThrows(IllegalArgumentException.class, l::hasNext, "the failure stays");
            }
        }
    }

    @Test
    void rejectsBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(data, 0).build());
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(data, 24).build());
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(data, 4).queueCapacity(0).build());
        assertThrows(IllegalArgumentException.class,
                () -> BatchLoader.builder(data, 4).resumeFrom(new BatchLoader.State(0, 0, 24)).build());
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader.State(0, -1, 0));
        try (BatchLoader l = BatchLoader.builder(data, 24).dropLast(false).shuffle(false).epochs(1).build()) {
            assertEquals(N, take(l, 1).get(0).indices().size(), "one short batch when the data is smaller");
            assertFalse(l.hasNext());
        }
    }

    @Test
    void fashionMnistBatchesHaveTheDiTShape() {
        var dir = FashionMnist.find();
        org.junit.jupiter.api.Assumptions.assumeTrue(dir.isPresent(), "Fashion-MNIST is not installed");
        try (TensorDataset fm = FashionMnist.load(dir.get(), FashionMnist.Split.TEST);
             BatchLoader l = BatchLoader.builder(fm, 256).seed(0).randomFlip(true).build()) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 39; i++) {
                try (BatchLoader.Batch b = l.next()) {
                    assertArrayEquals(new long[] {256, 1, 32, 32}, b.images().shape());
                    assertArrayEquals(new long[] {256}, b.labels().shape());
                }
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            assertEquals(new BatchLoader.State(0, 1, 0), l.state(), "39 full batches of 10000, 16 dropped");
            System.out.printf("39 Fashion-MNIST batches of 256 in %.0f ms%n", ms);
        }
    }

    @Test
    void seedsMixEpochs() {
        Set<Long> seen = new HashSet<>();
        for (long seed = 0; seed < 50; seed++) {
            for (long epoch = 0; epoch < 50; epoch++) seen.add(BatchLoader.mix(seed, epoch, 1));
        }
        assertEquals(2500, seen.size());
    }

    @Test
    void stateRoundTripsThroughCheckpointMetadata() {
        BatchLoader.State st = new BatchLoader.State(7, 3, 128);
        assertEquals(st, BatchLoader.State.decode(st.encode(), "ckpt"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BatchLoader.State.decode("7:x:1", "ckpt.safetensors"));
        assertTrue(e.getMessage().contains("ckpt.safetensors") && e.getMessage().contains("7:x:1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.State.decode(null, "ckpt"));
    }

    @Test
    void shardsSplitEachGlobalBatchDisjointlyAndResumeExactly() {
        // 23 images, 2 ranks x 4: two global batches of 8 per epoch (7 left over are dropped)
        List<Seen> whole, rank0, rank1;
        try (BatchLoader one = BatchLoader.builder(data, 8).seed(9).randomFlip(true).build()) {
            whole = take(one, 5);
        }
        try (BatchLoader a = BatchLoader.builder(data, 4).seed(9).randomFlip(true).shard(0, 2).build();
             BatchLoader b = BatchLoader.builder(data, 4).seed(9).randomFlip(true).shard(1, 2).build()) {
            rank0 = take(a, 5);
            rank1 = take(b, 5);
        }
        for (int i = 0; i < 5; i++) {
            List<Integer> joined = new ArrayList<>(rank0.get(i).indices());
            joined.addAll(rank1.get(i).indices());
            assertEquals(whole.get(i).indices(), joined, "batch " + i + ": the ranks' shares, in rank order, are the global batch");
            List<Boolean> flips = new ArrayList<>(rank0.get(i).flipped());
            flips.addAll(rank1.get(i).flipped());
            assertEquals(whole.get(i).flipped(), flips, "the same flips");
            assertEquals(rank0.get(i).next(), rank1.get(i).next(), "one state for all ranks");
            assertEquals(whole.get(i).next(), rank0.get(i).next(), "the global position");
        }
        Set<Integer> epoch = new HashSet<>();
        for (int i = 0; i < 2; i++) {
            epoch.addAll(rank0.get(i).indices());
            epoch.addAll(rank1.get(i).indices());
        }
        assertEquals(16, epoch.size(), "disjoint within the epoch");
        assertEquals(new BatchLoader.State(9, 1, 0), rank0.get(1).next(), "an epoch ends when no full global batch is left");
        // resume rank 1 from the state after batch 2: it continues with batch 3's share
        try (BatchLoader b = BatchLoader.builder(data, 4).shard(1, 2).randomFlip(true).resumeFrom(rank0.get(2).next()).build()) {
            assertEquals(rank1.get(3).indices(), take(b, 1).get(0).indices());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BatchLoader.builder(data, 4).shard(0, 2).dropLast(false).build());
        assertTrue(e.getMessage().contains("dropLast"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(data, 4).shard(2, 2));
        e = assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(data, 12).shard(0, 2).build());
        assertTrue(e.getMessage().contains("12 on each of 2 ranks"), e.getMessage());
    }
}
