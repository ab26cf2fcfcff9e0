package dev.thaw.policy.hotpagefirst.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PolicyParameters;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.api.policy.WorkingSet;
import dev.thaw.support.policy.KiB;
import dev.thaw.support.policy.PolicyConfig;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * {@code hot-page-first} (REAP, FaaSnap): with a working-set profile, {@link PolicySession#next()} hands
 * out its runs in first-touch order, at most {@code batchKiB} per call, then has no preference (the
 * engine loads the rest in address order); a fault inside the working set also loads the rest of its run
 * and the next {@code faultRuns} runs (at most {@code faultMaxKiB}). Profile pages outside memory are
 * dropped; pages not in the snapshot are left out of the runs (with {@code skipZeroPages}, the default:
 * the engine fills them with zeros on demand, reading nothing). Without a profile: page-only faults and
 * address order, as logged. Restore parameters of the same names override the configuration.
 */
@Component(service = PagePolicy.class, configurationPid = "dev.thaw.policy.hotpagefirst", property = PagePolicy.NAME_PROPERTY + "=" + HotPageFirstPolicy.NAME)
@Designate(ocd = HotPageFirstPolicy.Config.class)
public final class HotPageFirstPolicy implements PagePolicy {

    static final String NAME = "hot-page-first";
    private static final System.Logger LOG = System.getLogger(HotPageFirstPolicy.class.getName());

    @ObjectClassDefinition(name = "Thaw page policy: hot-page-first", description = "Loads the recorded working set first")
    public @interface Config {
        @AttributeDefinition(name = "Batch (KiB)", description = "Working set handed to a loader per next()", min = "4", max = "1048576")
        long batchKiB() default 1024;

        @AttributeDefinition(name = "Runs per fault", description = "Working-set runs a fault in the working set also loads", min = "0", max = "4096")
        long faultRuns() default 8;

        @AttributeDefinition(name = "Fault limit (KiB)", description = "At most this much more per fault", min = "4", max = "1048576")
        long faultMaxKiB() default 64;

        @AttributeDefinition(name = "Skip zero pages", description = "Leave pages not in the snapshot out of the working set")
        boolean skipZeroPages() default true;

        @AttributeDefinition(name = "Background loading", description = "false: pure demand loading")
        boolean background() default true;
    }

    private final PolicyConfig<Config> config;
    /** The runs made for the last profile seen: restoring one snapshot again gets the same profile object. */
    private final AtomicReference<Prepared> last = new AtomicReference<>();

    private record Prepared(WorkingSet profile, boolean skipZero, long pageCount, WorkingSetRuns runs) {}

    @Activate
    public HotPageFirstPolicy(Config config) {
        this.config = new PolicyConfig<>(NAME, Config.class, config, HotPageFirstPolicy::check);
    }

    /** A changed configuration applies to the next restore; one with a bad value is refused, the previous staying. */
    @Modified
    void modified(Config changed) {
        config.change(changed);
    }

    /** The ranges the Metatype declares. */
    static Config check(Config c) {
        PolicyParameters.inRange(NAME, "batchKiB", c.batchKiB(), 4, 1048576);
        PolicyParameters.inRange(NAME, "faultRuns", c.faultRuns(), 0, 4096);
        PolicyParameters.inRange(NAME, "faultMaxKiB", c.faultMaxKiB(), 4, 1048576);
        return c;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Loads the recorded working set first, in first-touch order; without a profile, address order and page-only faults";
    }

    @Override
    public PolicySession start(RestoreView restore) {
        Config c = config.get();
        PolicyParameters p = new PolicyParameters(NAME, restore.parameters());
        long batch = KiB.pages(NAME, "batchKiB", p.number("batchKiB", c.batchKiB()), restore.pageSize());
        long faultMax = KiB.pages(NAME, "faultMaxKiB", p.number("faultMaxKiB", c.faultMaxKiB()), restore.pageSize());
        int faultRuns = (int) Math.clamp(p.number("faultRuns", c.faultRuns()), 0, 4096);
        boolean skipZero = p.flag("skipZeroPages", c.skipZeroPages());
        boolean background = p.flag("background", c.background());
        WorkingSetRuns runs = restore.workingSet().map(ws -> prepared(ws, restore, skipZero)).orElse(WorkingSetRuns.NONE);
        if (restore.workingSet().isEmpty()) {
            LOG.log(Level.DEBUG, "hot-page-first: no working-set profile; loading in address order, faults load their page alone");
        } else if (runs.outside() > 0) {
            LOG.log(Level.WARNING, "hot-page-first: ignored {0} profile pages beyond the {1} pages of memory",
                    runs.outside(), restore.pageCount());
        }
        return new Session(restore, runs, batch, faultRuns, faultMax, background);
    }


    /** The profile's runs for this restore, made again only for another profile object or settings. */
    private WorkingSetRuns prepared(WorkingSet profile, RestoreView restore, boolean skipZero) {
        Prepared p = last.get();
        if (p != null && p.profile() == profile && p.skipZero() == skipZero && p.pageCount() == restore.pageCount()) {
            return p.runs();
        }
        WorkingSetRuns runs = WorkingSetRuns.of(profile, restore, skipZero);
        last.set(new Prepared(profile, skipZero, restore.pageCount(), runs));
        return runs;
    }

    static final class Session implements PolicySession {
        private final RestoreView restore;
        private final WorkingSetRuns profile;
        private final List<PageRange> runs; // first-touch order
        private final long batch;
        private final int faultRuns;
        private final long faultMax;
        private final boolean background;
        private int cursor; // guarded by this: runs before it were handed out, and
        private long handed; // pages of runs[cursor]

        Session(RestoreView restore, WorkingSetRuns profile, long batch, int faultRuns, long faultMax, boolean background) {
            this.restore = restore;
            this.profile = profile;
            this.runs = profile.runs();
            this.batch = batch;
            this.faultRuns = faultRuns;
            this.faultMax = faultMax;
            this.background = background;
        }

        /** In the working set: the rest of the page's run and the next {@code faultRuns} runs, up to {@code faultMax} pages. */
        @Override
        public List<PageRange> onFault(long page, int vcpu) {
            int index = profile.indexOf(page);
            List<PageRange> more = index < 0 ? List.of() : new ArrayList<>(Math.min(faultRuns, runs.size() - index) + 1);
            long budget = faultMax;
            long rest = index < 0 ? 0 : runs.get(index).end() - page - 1;
            if (rest > 0) {
                budget -= add(more, new PageRange(page + 1, rest), budget);
            }
            for (int i = index + 1; index >= 0 && i < runs.size() && i <= index + faultRuns && budget > 0; i++) {
                budget -= add(more, runs.get(i), budget);
            }
            return more;
        }

        /** The next runs in first-touch order, up to {@code batch} pages; runs whose ends are loaded are skipped. */
        @Override
        public synchronized List<PageRange> next() {
            List<PageRange> out = new ArrayList<>();
            for (long budget = background ? batch : 0; budget > 0 && cursor < runs.size() && out.size() < 256; ) {
                PageRange run = runs.get(cursor);
                boolean loaded = handed == 0 && restore.isLoaded(run.first()) && restore.isLoaded(run.end() - 1);
                long count = loaded ? run.count() : add(out, new PageRange(run.first() + handed, run.count() - handed), budget);
                budget -= loaded ? 0 : count;
                handed += count;
                if (handed == run.count()) {
                    cursor++;
                    handed = 0;
                }
            }
            return out;
        }

        private static long add(List<PageRange> to, PageRange range, long budget) {
            long count = Math.min(range.count(), budget);
            to.add(new PageRange(range.first(), count));
            return count;
        }

        @Override
        public boolean backgroundLoading() {
            return background;
        }

        @Override
        public synchronized void close() {
            cursor = runs.size();
        }
    }
}
