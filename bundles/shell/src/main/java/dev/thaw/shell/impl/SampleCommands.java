package dev.thaw.shell.impl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.snapshot.SnapshotSamples;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code thaw:samples}: the sample snapshot files that come with Thaw, written out to try commands on. */
@Component(service = SampleCommands.class, property = {
    "osgi.command.scope=thaw",
    "osgi.command.function=samples"
})
public final class SampleCommands {

    private final SnapshotSamples samples;
    private final ObjectMapper json = new ObjectMapper();

    @Activate
    public SampleCommands(@Reference SnapshotSamples samples) {
        this.samples = samples;
    }

    @Descriptor("list the sample snapshot files that come with Thaw, or with --write write them (sparse) into a folder")
    public void samples(
            CommandSession session,
            @Descriptor("write the named samples (all without names) into this folder") @Parameter(names = "--write", absentValue = "") String dir,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("sample names (thaw:samples lists them)") String... names) throws JsonProcessingException {
        PrintStream out = session.getConsole();
        Map<String, String> all = samples.samples();
        if (dir.isEmpty()) {
            if (names.length > 0) {
                throw new IllegalArgumentException("thaw:samples takes names only with --write DIR");
            }
            if (asJson) {
                out.println(json.writeValueAsString(Map.of("samples", all.entrySet().stream()
                        .map(e -> Map.of("name", e.getKey(), "description", e.getValue())).toList())));
                return;
            }
            Table t = new Table("SAMPLE", "WHAT IT IS");
            all.forEach(t::row);
            t.print(out);
            return;
        }
        Path folder = Arguments.file(session, dir);
        List<Map<String, Object>> written = new ArrayList<>();
        for (String name : names.length == 0 ? all.keySet().toArray(String[]::new) : names) {
            Path file = samples.write(name, folder);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("file", file.toAbsolutePath().toString());
            m.put("size", size(file));
            written.add(m);
            if (!asJson) {
                out.printf("%s written to %s (%s, sparse)%n", name, file, Sizes.approximate(size(file)));
            }
        }
        if (asJson) {
            out.println(json.writeValueAsString(Map.of("written", written)));
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
