package dev.thaw.samples.impl;

import dev.thaw.api.snapshot.SnapshotSamples;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.osgi.service.component.annotations.Component;

/**
 * The samples packed into this bundle: {@code samples.properties} names each with a line, and
 * {@code NAME.sparse.gz} holds it (see {@link SparseFile}).
 */
@Component(service = SnapshotSamples.class)
public final class PackedSamples implements SnapshotSamples {

    static final String INDEX = "samples.properties";

    private final Map<String, String> samples;

    public PackedSamples() {
        Properties index = new Properties();
        try (InputStream in = PackedSamples.class.getResourceAsStream(INDEX)) {
            if (in == null) {
                throw new IllegalStateException("the samples bundle lacks its index " + INDEX);
            }
            index.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the samples' index", e);
        }
        Map<String, String> map = new TreeMap<>();
        index.forEach((k, v) -> map.put((String) k, (String) v));
        this.samples = Map.copyOf(map);
    }

    @Override
    public Map<String, String> samples() {
        return new TreeMap<>(samples);
    }

    @Override
    public Path write(String name, Path dir) {
        if (!samples.containsKey(name)) {
            throw new IllegalArgumentException("no sample named '" + name + "' (there are " + String.join(", ", samples().keySet()) + ")");
        }
        Path out = dir.resolve(name);
        try (InputStream packed = PackedSamples.class.getResourceAsStream(name + ".sparse.gz")) {
            if (packed == null) {
                throw new IllegalStateException("the samples bundle lacks " + name + ".sparse.gz");
            }
            Files.createDirectories(dir);
            SparseFile.expand(packed, out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write sample " + name + " to " + out + ": " + e.getMessage(), e);
        }
    }
}
