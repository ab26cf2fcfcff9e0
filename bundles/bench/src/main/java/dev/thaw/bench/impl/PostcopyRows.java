package dev.thaw.bench.impl;

import dev.thaw.api.bench.FileLoadReport;
import dev.thaw.api.migration.PostcopyServer;
import dev.thaw.api.policy.PagePolicy;
import dev.thaw.bench.impl.PostcopyLoad.Figures;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The postcopy rows of {@code thaw:bench qemu-file}, one per policy, gathered round by round: a policy whose
 * serve fails loses its row, with the reason in the notes.
 */
final class PostcopyRows {

    /** The policy that sends nothing unasked: with no vCPU running, its serve never completes. */
    static final String ON_DEMAND_ONLY = "none";

    private final PostcopyServer server;
    private final QemuFileLoad load;
    private final Map<String, List<Figures>> rounds = new LinkedHashMap<>();
    private final List<String> notes;

    private PostcopyRows(PostcopyServer server, QemuFileLoad load, List<String> policies, List<String> notes) {
        this.server = server;
        this.load = load;
        this.notes = notes;
        policies.forEach(p -> rounds.put(p, new ArrayList<>()));
    }

    /** The rows to measure, or none with the reason in {@code notes}. */
    static PostcopyRows prepare(PostcopyServer server, QemuFileLoad load, List<PagePolicy> policies, List<String> notes) {
        List<String> names = policies.stream().map(PagePolicy::name).filter(n -> !n.equals(ON_DEMAND_ONLY)).toList();
        if (load == null) {
            notes.add("postcopy rows skipped: there is no QEMU row to start the destination like (see its note)");
            names = List.of();
        } else if (server == null) {
            notes.add("postcopy rows skipped: no PostcopyServer service (the qemu-postcopy bundle is not installed or not active)");
            names = List.of();
        } else if (policies.stream().anyMatch(p -> p.name().equals(ON_DEMAND_ONLY))) {
            notes.add(PostcopyLoad.PREFIX + ON_DEMAND_ONLY + " row skipped: " + ON_DEMAND_ONLY + " sends requested pages only, and "
                    + "the destination, stopped with -S, requests none: it would never complete");
        }
        return new PostcopyRows(server, load, names, notes);
    }

    /** One serve per policy still measured, counted when {@code counted}. */
    void round(boolean counted) {
        for (String policy : List.copyOf(rounds.keySet())) {
            try {
                Figures f = PostcopyLoad.serveOnce(server, load, policy);
                if (counted) {
                    rounds.get(policy).add(f);
                }
            } catch (IOException | RuntimeException e) {
                notes.add(PostcopyLoad.PREFIX + policy + " row failed (QEMU started with " + load.machine() + "): " + e.getMessage());
                rounds.remove(policy);
            }
        }
    }

    /** The rows: medians of the counted rounds. */
    List<FileLoadReport.Row> rows() {
        List<FileLoadReport.Row> rows = new ArrayList<>();
        medians().forEach((policy, m) -> rows.add(new FileLoadReport.Row(PostcopyLoad.PREFIX + policy, m.completeMs(),
                load.presentBytes() / 1e3 / m.completeMs(),
                String.format(Locale.ROOT, "resume %.1f ms; %d pages sent, %d of them requested in %d requests, %d bytes sent. "
                        + "Thaw's PostcopyServer serves the file to a QEMU " + QemuPeer.version() + " started as for the qemu "
                        + "row plus postcopy-ram, -S; times from the start of serving to the destination's word that its "
                        + "device state is loaded (resume) and that every page is placed (full load). QEMU places each "
                        + "page into its guest memory itself (UFFDIO_COPY; UFFDIO_ZEROPAGE for zero pages), which maps it: "
                        + "touched once, as QEMU's own load touches the pages it preads", m.resumeMs(), m.pagesSent(),
                        m.pagesRequested(), m.requests(), m.bytesSent()))));
        return rows;
    }

    /** {@code fullLoad} and {@code resume} of each row against QEMU's own load, which resumes only when complete. */
    Map<String, Double> ratios(Double qemuMs) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        if (qemuMs == null || qemuMs <= 0) {
            return ratios;
        }
        medians().forEach((policy, m) -> {
            ratios.put("resume " + PostcopyLoad.PREFIX + policy + "/qemu", m.resumeMs() / qemuMs);
            ratios.put("fullLoad " + PostcopyLoad.PREFIX + policy + "/qemu", m.completeMs() / qemuMs);
        });
        return ratios;
    }

    /** Each row's medians under their names, for results.json. */
    Map<String, Map<String, Object>> figures() {
        Map<String, Map<String, Object>> all = new LinkedHashMap<>();
        medians().forEach((policy, m) -> {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("resumeMs", m.resumeMs());
            f.put("fullLoadMs", m.completeMs());
            f.put("pagesSent", m.pagesSent());
            f.put("pagesRequested", m.pagesRequested());
            f.put("requests", m.requests());
            f.put("bytesSent", m.bytesSent());
            all.put(PostcopyLoad.PREFIX + policy, f);
        });
        return all;
    }

    /** The medians of a row's counted rounds, counts rounded to whole ones. */
    private record Medians(double resumeMs, double completeMs, long pagesSent, long pagesRequested, long requests, long bytesSent) {}

    /** Each policy's medians, in the rows' order. */
    private Map<String, Medians> medians() {
        Map<String, Medians> all = new LinkedHashMap<>();
        rounds.forEach((policy, list) -> all.put(policy, new Medians(median(list, Figures::resumeMs),
                median(list, Figures::completeMs), Math.round(median(list, f -> (double) f.pagesSent())),
                Math.round(median(list, f -> (double) f.pagesRequested())), Math.round(median(list, f -> (double) f.requests())),
                Math.round(median(list, f -> (double) f.bytesSent())))));
        return all;
    }

    private static double median(List<Figures> list, Function<Figures, Double> field) {
        return Median.of(list.stream().map(field).toList());
    }
}
