package org.example.thaw.policy.topdown;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.policy.RestoreView;
import java.util.List;
import org.osgi.service.component.annotations.Component;

/**
 * {@code top-down}: for guests whose hot data sits at the top of memory (stacks that grow down, heaps
 * handed out from the top). The background loader walks memory from the last page down, and a fault
 * also loads the pages just below it, where a downward walk goes next.
 *
 * <p>A policy is a DS service of type {@link PagePolicy} with the property {@code thaw.policy.name}; Thaw
 * starts one session per restore and asks it what to load. It never touches memory itself.
 */
@Component(service = PagePolicy.class, property = PagePolicy.NAME_PROPERTY + "=" + TopDownPolicy.NAME)
public final class TopDownPolicy implements PagePolicy {

    static final String NAME = "top-down";
    /** Pages a background loader is handed per next(): 2 MiB of 4 KiB pages. */
    static final long CHUNK_PAGES = 512;
    /** Pages below a faulting page that are loaded with it. */
    static final long BELOW_PAGES = 15;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Example third-party policy: loads memory from the top down; a fault also loads the "
                + BELOW_PAGES + " pages below it";
    }

    @Override
    public PolicySession start(RestoreView restore) {
        return new Session(restore.pageCount());
    }

    static final class Session implements PolicySession {
        /** Pages at and above it were handed out. Guarded by this: loaders call next() concurrently. */
        private long cursor;

        Session(long pageCount) {
            this.cursor = pageCount;
        }

        @Override
        public List<PageRange> onFault(long page, int vcpu) {
            long first = Math.max(0, page - BELOW_PAGES);
            return List.of(new PageRange(first, page - first + 1)); // holds the page: loaded in one copy with it
        }

        @Override
        public synchronized List<PageRange> next() {
            if (cursor == 0) {
                return List.of(); // no preference left: the engine loads what remains
            }
            long first = Math.max(0, cursor - CHUNK_PAGES);
            PageRange chunk = new PageRange(first, cursor - first);
            cursor = first;
            return List.of(chunk);
        }
    }
}
