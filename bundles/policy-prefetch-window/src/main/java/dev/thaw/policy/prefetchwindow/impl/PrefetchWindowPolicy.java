package dev.thaw.policy.prefetchwindow.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PolicyParameters;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.support.policy.KiB;
import dev.thaw.support.policy.PolicyConfig;
import java.util.Arrays;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * {@code prefetch-window} (CRIU lazy-pages, kernel fault-around): a fault also loads the pages after it,
 * up to a window that each vCPU learns. A fault at or just after the end of that vCPU's previous window
 * (within one minimum window) is sequential and doubles the window, up to the maximum; any other fault
 * means the prefetched pages went unused, and resets it to the minimum. The window counts the faulting
 * page. No background preference: the engine loads the rest in address order. Restore parameters
 * {@code minWindowKiB}, {@code maxWindowKiB} and {@code background} override the configuration.
 */
@Component(service = PagePolicy.class, configurationPid = "dev.thaw.policy.prefetchwindow", property = PagePolicy.NAME_PROPERTY + "=" + PrefetchWindowPolicy.NAME)
@Designate(ocd = PrefetchWindowPolicy.Config.class)
public final class PrefetchWindowPolicy implements PagePolicy {

    static final String NAME = "prefetch-window";

    @ObjectClassDefinition(name = "Thaw page policy: prefetch-window", description = "Faults load an adaptive window of following pages")
    public @interface Config {
        @AttributeDefinition(name = "Minimum window (KiB)", description = "Window after a jump; not above the maximum", min = "4", max = "1048576")
        long minWindowKiB() default 64;

        @AttributeDefinition(name = "Maximum window (KiB)", description = "The window doubles up to this on sequential faults", min = "4", max = "1048576")
        long maxWindowKiB() default 4096;

        @AttributeDefinition(name = "Background loading", description = "false: pure demand loading with prefetch")
        boolean background() default true;
    }

    private final PolicyConfig<Config> config;

    @Activate
    public PrefetchWindowPolicy(Config config) {
        this.config = new PolicyConfig<>(NAME, Config.class, config, PrefetchWindowPolicy::check);
    }

    /** A changed configuration applies to the next restore; one with a bad value is refused, the previous staying. */
    @Modified
    void modified(Config changed) {
        config.change(changed);
    }

    /** The ranges the Metatype declares, and min not above max. */
    static Config check(Config c) {
        PolicyParameters.inRange(NAME, "minWindowKiB", c.minWindowKiB(), 4, 1048576);
        PolicyParameters.inRange(NAME, "maxWindowKiB", c.maxWindowKiB(), 4, 1048576);
        minNotAboveMax(c.minWindowKiB(), c.maxWindowKiB());
        return c;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        Config c = config.get();
        return "Faults load the following pages in a window that doubles on sequential faults, "
                + c.minWindowKiB() + " KiB to " + c.maxWindowKiB() + " KiB";
    }

    @Override
    public PolicySession start(RestoreView restore) {
        Config c = config.get();
        PolicyParameters params = new PolicyParameters(NAME, restore.parameters());
        long minKiB = params.number("minWindowKiB", c.minWindowKiB());
        long maxKiB = params.number("maxWindowKiB", c.maxWindowKiB());
        long min = KiB.pages(NAME, "minWindowKiB", minKiB, restore.pageSize());
        long max = KiB.pages(NAME, "maxWindowKiB", maxKiB, restore.pageSize());
        minNotAboveMax(minKiB, maxKiB);
        boolean background = params.flag("background", c.background());
        return new Session(restore.pageCount(), min, max, background);
    }

    static void minNotAboveMax(long minKiB, long maxKiB) {
        if (minKiB > maxKiB) {
            throw new IllegalArgumentException(NAME + ": minWindowKiB (" + minKiB + ") must not exceed maxWindowKiB (" + maxKiB + ")");
        }
    }


    static final class Session implements PolicySession {
        private static final int MAX_TRACKED_VCPUS = 1024;
        private final long pageCount;
        private final long min;
        private final long max;
        private final boolean background;
        // Per vCPU, guarded by this: its last fault, the end of its last window (0: none yet), its window.
        private long[] lastFault = new long[8];
        private long[] lastEnd = new long[8];
        private long[] window = new long[8];

        Session(long pageCount, long min, long max, boolean background) {
            this.pageCount = pageCount;
            this.min = min;
            this.max = max;
            this.background = background;
        }

        @Override
        public synchronized List<PageRange> onFault(long page, int vcpu) {
            if (page < 0 || page >= pageCount) {
                return List.of();
            }
            int v = Math.floorMod(vcpu, MAX_TRACKED_VCPUS);
            if (v >= window.length) {
                int length = Math.min(MAX_TRACKED_VCPUS, Math.max(v + 1, window.length * 2));
                lastFault = Arrays.copyOf(lastFault, length);
                lastEnd = Arrays.copyOf(lastEnd, length);
                window = Arrays.copyOf(window, length);
            }
            boolean sequential = lastEnd[v] > 0 && page > lastFault[v] && page < lastEnd[v] + min;
            window[v] = sequential ? Math.min(max, window[v] * 2) : min;
            long end = Math.min(pageCount, page + window[v]);
            lastFault[v] = page;
            lastEnd[v] = end;
            return end - page > 1 ? List.of(new PageRange(page + 1, end - page - 1)) : List.of();
        }

        @Override
        public boolean backgroundLoading() {
            return background;
        }

        /** The window vCPU {@code vcpu} would use for a sequential fault now, in pages (for tests). */
        synchronized long window(int vcpu) {
            return vcpu < window.length ? window[vcpu] : 0;
        }
    }
}
