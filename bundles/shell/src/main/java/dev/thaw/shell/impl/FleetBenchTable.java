package dev.thaw.shell.impl;

import dev.thaw.api.bench.FleetBenchReport;
import java.io.PrintStream;
import java.util.Locale;

/** The rows of {@code thaw:bench fleet} as a table, memory in MiB. */
final class FleetBenchTable {

    private FleetBenchTable() {}

    static void print(FleetBenchReport report, PrintStream out) {
        out.printf("%d VMs per row, each restored from one snapshot of %s non-zero pages; every VM answered '%s'%n",
                report.request().count(), Sizes.approximate(report.presentBytes()), report.answer());
        Table table = new Table("MODE", "VMS", "RESTORE ms", "ALL ANSWERED ms", "ALL LOADED ms", "HOST MiB", "PSS GAIN MiB",
                "WRITTEN MiB", "LEFT MiB", "HOW").numeric(1, 2, 3, 4, 5, 6, 7, 8);
        for (FleetBenchReport.Row r : report.rows()) {
            table.row(r.mode(), r.vms(), ms(r.restoreMs()), ms(r.allAnsweredMs()), ms(r.allLoadedMs()), mib(r.hostBytes()),
                    mib(r.pssGainBytes()), r.writtenBytes() == null ? "-" : mib(r.writtenBytes()), mib(r.pssLeftBytes()), r.note());
        }
        table.print(out);
    }

    private static String ms(double v) {
        return String.format(Locale.ROOT, "%.0f", v);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / (double) (1 << 20));
    }
}
