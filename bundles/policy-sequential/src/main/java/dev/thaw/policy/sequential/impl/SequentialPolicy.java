package dev.thaw.policy.sequential.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PolicyParameters;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.support.policy.KiB;
import dev.thaw.support.policy.PolicyConfig;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * {@code sequential}: the background loader walks memory in address order, one aligned chunk per
 * {@link PolicySession#next()}, skipping loaded pages; a fault loads the aligned fault chunk around its
 * page. Restore parameters {@code chunkKiB}, {@code faultChunkKiB} and {@code background} override the
 * configuration of the same names.
 */
@Component(service = PagePolicy.class, configurationPid = "dev.thaw.policy.sequential", property = PagePolicy.NAME_PROPERTY + "=" + SequentialPolicy.NAME)
@Designate(ocd = SequentialPolicy.Config.class)
public final class SequentialPolicy implements PagePolicy {

    static final String NAME = "sequential";

    @ObjectClassDefinition(name = "Thaw page policy: sequential", description = "Loads guest memory in address order")
    public @interface Config {
        @AttributeDefinition(name = "Background chunk (KiB)", description = "What one next() hands a background loader, aligned", min = "4", max = "1048576")
        long chunkKiB() default 2048;

        @AttributeDefinition(name = "Fault chunk (KiB)", description = "The aligned chunk a fault loads with its page", min = "4", max = "65536")
        long faultChunkKiB() default 64;

        @AttributeDefinition(name = "Background loading", description = "false: pure demand loading")
        boolean background() default true;
    }

    private final PolicyConfig<Config> config;

    @Activate
    public SequentialPolicy(Config config) {
        this.config = new PolicyConfig<>(NAME, Config.class, config, SequentialPolicy::check);
    }

    /** A changed configuration applies to the next restore; one with a bad value is refused, the previous staying. */
    @Modified
    void modified(Config changed) {
        config.change(changed);
    }

    /** The ranges the Metatype declares. */
    static Config check(Config c) {
        PolicyParameters.inRange(NAME, "chunkKiB", c.chunkKiB(), 4, 1048576);
        PolicyParameters.inRange(NAME, "faultChunkKiB", c.faultChunkKiB(), 4, 65536);
        return c;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        Config c = config.get();
        return "Loads memory in address order, " + c.chunkKiB() + " KiB at a time; a fault loads its aligned "
                + c.faultChunkKiB() + " KiB chunk";
    }

    @Override
    public PolicySession start(RestoreView restore) {
        Config c = config.get();
        PolicyParameters params = new PolicyParameters(NAME, restore.parameters());
        long chunkKiB = params.number("chunkKiB", c.chunkKiB());
        long faultKiB = params.number("faultChunkKiB", c.faultChunkKiB());
        boolean background = params.flag("background", c.background());
        return new Session(restore, KiB.pages(NAME, "chunkKiB", chunkKiB, restore.pageSize()),
                KiB.pages(NAME, "faultChunkKiB", faultKiB, restore.pageSize()), background);
    }


    static final class Session implements PolicySession {
        private final RestoreView restore;
        private final long pageCount;
        private final long chunk;
        private final long faultChunk;
        private final boolean background;
        private long cursor; // guarded by this: pages below it were handed out or found loaded

        Session(RestoreView restore, long chunk, long faultChunk, boolean background) {
            this.restore = restore;
            this.pageCount = restore.pageCount();
            this.chunk = chunk;
            this.faultChunk = faultChunk;
            this.background = background;
        }

        @Override
        public List<PageRange> onFault(long page, int vcpu) {
            if (page < 0 || page >= pageCount) {
                return List.of();
            }
            long first = page - page % faultChunk;
            return List.of(new PageRange(first, Math.min(faultChunk, pageCount - first)));
        }

        @Override
        public synchronized List<PageRange> next() {
            if (!background || cursor >= pageCount) {
                return List.of();
            }
            long first = Math.max(cursor, restore.nextUnloaded(cursor));
            if (first >= pageCount) {
                cursor = pageCount;
                return List.of();
            }
            cursor = Math.min(pageCount, (first / chunk + 1) * chunk);
            return List.of(new PageRange(first, cursor - first));
        }

        @Override
        public boolean backgroundLoading() {
            return background;
        }

        @Override
        public synchronized void close() {
            cursor = pageCount;
        }
    }
}
