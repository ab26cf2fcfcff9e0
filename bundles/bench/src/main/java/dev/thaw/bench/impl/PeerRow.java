package dev.thaw.bench.impl;

import dev.thaw.api.bench.BenchRow;
import java.util.List;

/** A row of the restore benchmark measured outside Thaw's restores, once per round beside them. */
interface PeerRow {

    /** One measurement, counted in the median when {@code counted} (the warm-up round's is not). */
    void measure(boolean counted);

    /** The row (medians of the counted measurements); removes what the row made. A row that could not be measured says why in {@code notes}. */
    BenchRow row(List<String> notes);

    /** Removes what the row made, if anything. Idempotent. */
    void delete();
}
