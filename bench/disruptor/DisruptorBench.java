// DisruptorBench: an LMAX Disruptor (3.x) baseline for libra's throughput benchmarks.
//
// One producer thread -> one consumer (an EventHandler on the Disruptor's own thread), through a
// single-producer ring buffer of 65536 slots. Every event is 128 bytes of fields (16 longs), the
// size of a libra::event, and the producer copies all of them into the claimed slot, as libra
// copies a 128-byte event into its queue. Two modes, run interleaved trial by trial:
//   single  one next() / publish(seq) per event            (libra: publish())
//   batch   next(n) for n = --batch (32) slots, then publish(lo, hi)   (libra: publish_many())
// Timed: first claim on the producer -> the consumer has seen the N-th event (the end time is
// taken on the consumer's thread). A fresh Disruptor per trial; one untimed warm-up round of every
// mode first (max(N, 500k) events). The consumer sums a field of every event; the sum and the count are checked against
// the producer's, and a mismatch or a hang exits 2 (as libra's benchmarks do).
//
// Usage: DisruptorBench [--events N] [--trials T] [--mode single|batch|both]
//                       [--wait yielding|busy|blocking] [--batch n] [--json]
// With --json the last line of stdout is one JSON object: {"disruptor": {...}}.

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import com.lmax.disruptor.util.DaemonThreadFactory;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

public final class DisruptorBench {
    static final int RING_SIZE = 65536;
    static final long TIMEOUT_S = 120;

    /**
     * 16 longs = 128 bytes of fields, laid out after libra::event (runtime/include/libra/event.hpp):
     * timestamp, sequence, trace id (128 bits: traceHi, traceLo), span id, a 64-byte payload
     * (p0..p7), a word packing source id / event type / flags, and one spare word that pads to 128.
     * The JVM adds its object header (12-16 bytes) on top; the slots are preallocated by the ring.
     */
    static final class Event {
        long timestamp, sequence, traceHi, traceLo, span;
        long p0, p1, p2, p3, p4, p5, p6, p7;
        long sourceTypeFlags, spare0, spare1;

        void copyFrom(Event o) {
            timestamp = o.timestamp;
            sequence = o.sequence;
            traceHi = o.traceHi;
            traceLo = o.traceLo;
            span = o.span;
            p0 = o.p0; p1 = o.p1; p2 = o.p2; p3 = o.p3;
            p4 = o.p4; p5 = o.p5; p6 = o.p6; p7 = o.p7;
            sourceTypeFlags = o.sourceTypeFlags;
            spare0 = o.spare0;
            spare1 = o.spare1;
        }
    }

    /** Counts events and sums p1 (a "price"); records the end time when the last one arrives. */
    static final class Consumer implements EventHandler<Event> {
        final long target;
        final CountDownLatch done = new CountDownLatch(1);
        long seen;
        long sum;
        volatile long endNs;

        Consumer(long target) { this.target = target; }

        @Override
        public void onEvent(Event e, long sequence, boolean endOfBatch) {
            sum += e.p1 ^ e.sequence;
            if (++seen == target) {
                endNs = System.nanoTime();
                done.countDown();
            }
        }
    }

    static final class Options {
        long events = 1_000_000;
        int trials = 5;
        int batch = 32;
        String mode = "both";
        String waitName = "yielding";
        boolean json;
    }

    /** Source events, built before any clock starts and cycled through; varied so nothing folds. */
    static Event[] makeSources(int n) {
        Event[] src = new Event[n];
        for (int i = 0; i < n; i++) {
            Event e = new Event();
            e.timestamp = 1_700_000_000_000_000_000L + i * 1000L;
            e.sequence = i;
            e.traceHi = 0x9e3779b97f4a7c15L * (i + 1);
            e.traceLo = 0xbf58476d1ce4e5b9L ^ i;
            e.span = i * 31L + 7;
            e.p0 = 42;                  // instrument
            e.p1 = 10_000_000L + (i % 97); // price, fixed point
            e.p2 = 100 + (i % 13);      // quantity
            e.p3 = i & 1;               // side
            e.p4 = i; e.p5 = -i; e.p6 = i * 3L; e.p7 = i * 5L;
            e.sourceTypeFlags = (3L << 32) | (1L << 8) | (i & 0xff);
            src[i] = e;
        }
        return src;
    }

    static WaitStrategy waitStrategy(String name) {
        switch (name) {
            case "yielding": return new YieldingWaitStrategy();
            case "busy": return new BusySpinWaitStrategy();
            case "blocking": return new BlockingWaitStrategy();
            default: throw new IllegalArgumentException("--wait must be yielding, busy or blocking, not " + name);
        }
    }

    static final class BenchFailure extends RuntimeException {
        BenchFailure(String m) { super(m); }
    }

    /** One trial: a fresh Disruptor, N events in `mode`; returns events per second. */
    static double runTrial(String mode, long n, Options opt, Event[] src) throws InterruptedException {
        final Consumer consumer = new Consumer(n);
        final Disruptor<Event> disruptor = new Disruptor<>(Event::new, RING_SIZE, DaemonThreadFactory.INSTANCE,
                ProducerType.SINGLE, waitStrategy(opt.waitName));
        disruptor.handleEventsWith(consumer);
        final RingBuffer<Event> rb = disruptor.start();
        final int mask = src.length - 1;
        long expected = 0;
        final long t0 = System.nanoTime();
        if (mode.equals("single")) {
            for (long i = 0; i < n; i++) {
                final Event s = src[(int) i & mask];
                final long seq = rb.next();
                rb.get(seq).copyFrom(s);
                rb.publish(seq);
                expected += s.p1 ^ s.sequence;
            }
        } else {
            long i = 0;
            while (i < n) {
                final int k = (int) Math.min(opt.batch, n - i);
                final long hi = rb.next(k);
                final long lo = hi - (k - 1);
                for (long seq = lo; seq <= hi; seq++, i++) {
                    final Event s = src[(int) i & mask];
                    rb.get(seq).copyFrom(s);
                    expected += s.p1 ^ s.sequence;
                }
                rb.publish(lo, hi);
            }
        }
        final boolean ok = consumer.done.await(TIMEOUT_S, TimeUnit.SECONDS);
        final long t1 = consumer.endNs;
        disruptor.halt();
        if (!ok)
            throw new BenchFailure(mode + ": consumer saw " + consumer.seen + " of " + n + " events in " + TIMEOUT_S + " s");
        if (consumer.seen != n || consumer.sum != expected)
            throw new BenchFailure(mode + ": consumer saw " + consumer.seen + " events, sum " + consumer.sum
                    + "; expected " + n + ", sum " + expected);
        return n / ((t1 - t0) / 1e9);
    }

    static String version() {
        try (InputStream in = RingBuffer.class.getResourceAsStream("/META-INF/maven/com.lmax/disruptor/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null)
                    return v;
            }
        } catch (Exception ignored) {
            // fall through
        }
        String v = RingBuffer.class.getPackage().getImplementationVersion();
        return v != null ? v : "unknown";
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    static String num(double x) {
        return String.format(Locale.ROOT, "%.0f", x);
    }

    static String modeJson(double[] xs) {
        double min = Arrays.stream(xs).min().orElse(0), max = Arrays.stream(xs).max().orElse(0);
        StringBuilder t = new StringBuilder();
        for (int i = 0; i < xs.length; i++)
            t.append(i == 0 ? "" : ", ").append(num(xs[i]));
        return "{\"median_ev_s\": " + num(median(xs)) + ", \"min_ev_s\": " + num(min) + ", \"max_ev_s\": " + num(max)
                + ", \"trials_ev_s\": [" + t + "]}";
    }

    static void usage(String why) {
        System.err.println("DisruptorBench: " + why);
        System.err.println("usage: DisruptorBench [--events N] [--trials T] [--mode single|batch|both]"
                + " [--wait yielding|busy|blocking] [--batch n] [--json]");
        System.exit(64);
    }

    static Options parse(String[] args) {
        Options o = new Options();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                v = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            if (a.equals("--json")) {
                o.json = true;
                continue;
            }
            if (a.equals("-h") || a.equals("--help"))
                usage("help");
            if (!Arrays.asList("--events", "--trials", "--batch", "--mode", "--wait").contains(a))
                usage("unknown argument " + a);
            if (v == null) {
                if (i + 1 >= args.length)
                    usage(a + " needs a value");
                v = args[++i];
            }
            try {
                switch (a) {
                    case "--events": o.events = Long.parseLong(v); break;
                    case "--trials": o.trials = Integer.parseInt(v); break;
                    case "--batch": o.batch = Integer.parseInt(v); break;
                    case "--mode": o.mode = v; break;
                    case "--wait": o.waitName = v; break;
                    default: usage("unknown argument " + a);
                }
            } catch (NumberFormatException e) {
                usage("not a number for " + a + ": " + v);
            }
        }
        if (o.events < 1 || o.trials < 1 || o.batch < 1 || o.batch > RING_SIZE)
            usage("--events, --trials must be >= 1 and --batch in 1.." + RING_SIZE);
        if (!o.mode.equals("single") && !o.mode.equals("batch") && !o.mode.equals("both"))
            usage("--mode must be single, batch or both");
        waitStrategy(o.waitName); // validates
        return o;
    }

    public static void main(String[] args) throws Exception {
        final Options opt = parse(args);
        final List<String> modes = new ArrayList<>();
        if (!opt.mode.equals("batch"))
            modes.add("single");
        if (!opt.mode.equals("single"))
            modes.add("batch");
        final Event[] src = makeSources(4096);
        final String ver = version();

        System.out.printf(Locale.ROOT, "disruptor %s: 1 producer -> 1 EventHandler, ProducerType.SINGLE, ring %d, "
                + "event 16 longs = 128 B, wait %s, batch %d; %d events x %d trials, modes interleaved%n",
                ver, RING_SIZE, opt.waitName, opt.batch, opt.events, opt.trials);
        try {
            // Warm-up: one untimed round of every mode (at least 500k events), so the JIT has compiled the loops.
            for (String m : modes)
                runTrial(m, Math.max(opt.events, 500_000), opt, src);
            final double[][] res = new double[modes.size()][opt.trials];
            System.out.printf(Locale.ROOT, "%-7s %5s %15s%n", "mode", "trial", "events/s");
            for (int t = 0; t < opt.trials; t++) {
                for (int m = 0; m < modes.size(); m++) {
                    res[m][t] = runTrial(modes.get(m), opt.events, opt, src);
                    System.out.printf(Locale.ROOT, "%-7s %5d %,15.0f%n", modes.get(m), t + 1, res[m][t]);
                }
            }
            for (int m = 0; m < modes.size(); m++) {
                System.out.printf(Locale.ROOT, "%-7s %5s %,15.0f  (min %,.0f, max %,.0f)%n", modes.get(m), "med",
                        median(res[m]), Arrays.stream(res[m]).min().orElse(0), Arrays.stream(res[m]).max().orElse(0));
            }
            if (opt.json) {
                StringBuilder j = new StringBuilder();
                j.append("{\"disruptor\": {\"version\": \"").append(ver).append("\", \"events\": ").append(opt.events)
                        .append(", \"trials\": ").append(opt.trials).append(", \"wait\": \"").append(opt.waitName)
                        .append("\", \"ring\": ").append(RING_SIZE).append(", \"batch_size\": ").append(opt.batch)
                        .append(", \"event_bytes\": 128");
                for (int m = 0; m < modes.size(); m++)
                    j.append(", \"").append(modes.get(m)).append("\": ").append(modeJson(res[m]));
                j.append("}}");
                System.out.println(j);
            }
        } catch (BenchFailure f) {
            System.out.flush();
            System.err.println("DisruptorBench: FAILED: " + f.getMessage());
            System.exit(2);
        }
    }
}
