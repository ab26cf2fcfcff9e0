package dev.thaw.machine.impl;

import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotFormat;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.support.files.RegularFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** The installed snapshot formats; opens a file with the format that recognises its first bytes. */
@Component(service = SnapshotFormats.class)
public final class SnapshotFormatRegistry implements SnapshotFormats {

    static final int HEAD_BYTES = 4096;

    private final List<SnapshotFormat> formats = new CopyOnWriteArrayList<>();
    /** The formats by name, sorted when one comes or goes rather than at each open (a restore opens one). */
    private volatile List<SnapshotFormat> sorted = List.of();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addFormat(SnapshotFormat format) {
        formats.add(format);
        sort();
    }

    void removeFormat(SnapshotFormat format) {
        formats.remove(format);
        sort();
    }

    private synchronized void sort() {
        sorted = formats.stream().sorted(Comparator.comparing(SnapshotFormat::name)).toList();
    }

    @Override
    public List<SnapshotFormat> formats() {
        return sorted;
    }

    @Override
    public SnapshotReader open(Path file) {
        return open(file, 0);
    }

    @Override
    public SnapshotReader open(Path file, long offset) {
        byte[] head = head(file, offset);
        for (SnapshotFormat f : formats()) {
            if (f.probe(head)) {
                return f.open(file, offset);
            }
        }
        String known = formats().stream().map(SnapshotFormat::name).collect(Collectors.joining(", "));
        throw new SnapshotException(file, (offset == 0 ? "" : "at byte " + offset + ": ") + "not a snapshot of any installed format ("
                + (known.isEmpty() ? "none installed" : known) + ")");
    }

    private static byte[] head(Path file, long offset) {
        RegularFiles.requireRegular(file, "cannot read");
        if (offset < 0) {
            throw new SnapshotException(file, "a snapshot cannot start at byte " + offset);
        }
        try (InputStream in = Files.newInputStream(file)) {
            if (offset > 0 && offset >= Files.size(file)) {
                throw new SnapshotException(file, "is " + Files.size(file) + " bytes long: no snapshot starts at byte " + offset);
            }
            in.skipNBytes(offset);
            return in.readNBytes(HEAD_BYTES);
        } catch (NoSuchFileException e) {
            throw new SnapshotException(file, "no such file");
        } catch (IOException e) {
            throw new SnapshotException(file, "cannot read: " + e.getMessage(), e);
        }
    }

}
