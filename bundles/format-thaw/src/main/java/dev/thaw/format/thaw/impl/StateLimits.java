package dev.thaw.format.thaw.impl;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.thaw.api.state.IoapicState;
import dev.thaw.api.state.PitState;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.Xcrs;
import java.io.IOException;
import java.io.Serial;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a machine's state JSON may hold, checked while the JSON streams past, before anything is built from
 * it. A state's CRC32C proves it arrived intact, not that a sane writer made it: every list, string and
 * object is bounded by what a real machine has, so a state of 8.7 M devices or a 200 MiB console is refused
 * at the first token past its bound, having cost a parser's buffers. The bounds, by where they apply:
 *
 * <table>
 * <caption>Bounds of the state</caption>
 * <tr><th>where</th><th>at most</th><th>because</th></tr>
 * <tr><td>the whole state</td><td>{@link Layout#MAX_STATE_BYTES}</td><td>a vCPU's state is 10 to 40 KB</td></tr>
 * <tr><td>{@code vcpus}</td><td>{@value #MAX_VCPUS}</td><td>KVM's KVM_MAX_VCPUS on x86 (the test guest's limit too)</td></tr>
 * <tr><td>{@code vcpus[].cpuid}</td><td>{@value #MAX_CPUID_ENTRIES}</td><td>KVM_MAX_CPUID_ENTRIES</td></tr>
 * <tr><td>{@code vcpus[].msrs}</td><td>{@value #MAX_MSRS}</td><td>KVM_GET_MSR_INDEX_LIST lists a few hundred</td></tr>
 * <tr><td>{@code memory}</td><td>{@link Layout#MAX_REGIONS}</td><td>the region table's bound</td></tr>
 * <tr><td>{@code devices}</td><td>{@value #MAX_DEVICES}</td><td>a QEMU pc has about 30 device sections</td></tr>
 * <tr><td>the fixed-size arrays of the records</td><td>their sizes</td><td>(XCRs, PIT channels, IOAPIC pins, ...)</td></tr>
 * <tr><td>any other list (in a device's state)</td><td>{@value #MAX_LIST}</td><td></td></tr>
 * <tr><td>fields of an object</td><td>{@value #MAX_FIELDS}</td><td></td></tr>
 * <tr><td>{@code session.consoleText}</td><td>{@value #MAX_CONSOLE_CHARS} characters</td><td>twice the 1 MiB the
 *     console keeps</td></tr>
 * <tr><td>any other string</td><td>{@value #MAX_STRING} characters</td><td>an XSAVE area or a UART's 64 KiB queue
 *     in base64</td></tr>
 * <tr><td>nesting</td><td>{@value #MAX_DEPTH}</td><td>the records nest 5 deep; a device's state gets the rest</td></tr>
 * </table>
 *
 * <p>The writer checks the JSON it made against the same bounds, so it never writes a state its reader refuses.
 */
final class StateLimits {

    static final int MAX_VCPUS = 1024;
    static final int MAX_CPUID_ENTRIES = 256;
    static final int MAX_MSRS = 1024;
    static final int MAX_DEVICES = 256;
    static final int MAX_LIST = 1 << 16;
    static final int MAX_FIELDS = 1024;
    static final int MAX_CONSOLE_CHARS = 2 << 20;
    static final int MAX_STRING = 128 << 10;
    static final int MAX_DEPTH = 16;

    /** Lists by their path ({@code []} for any index), and how many entries each may have. */
    private static final Map<String, Integer> LISTS = Map.of(
            "memory", Layout.MAX_REGIONS,
            "vcpus", MAX_VCPUS,
            "vcpus[].cpuid", MAX_CPUID_ENTRIES,
            "vcpus[].msrs", MAX_MSRS,
            "vcpus[].xcrs.xcrs", Xcrs.MAX_XCRS,
            "vcpus[].sregs.interruptBitmap", Sregs.INTERRUPT_BITMAP_WORDS,
            "vm.pit.channels", PitState.CHANNELS,
            "vm.ioapic.redirectionTable", IoapicState.PINS,
            "devices", MAX_DEVICES);
    /** Strings allowed to be longer than {@link #MAX_STRING}. */
    private static final Map<String, Integer> LONG_STRINGS = Map.of("session.consoleText", MAX_CONSOLE_CHARS);

    /**
     * Parsers bounded as above where Jackson can do it itself (length, nesting, string length), refusing a
     * field given twice in an object (a second value would silently win).
     */
    static final StreamReadConstraints CONSTRAINTS = StreamReadConstraints.builder()
            .maxDocumentLength(Layout.MAX_STATE_BYTES)
            .maxNestingDepth(MAX_DEPTH)
            .maxStringLength(MAX_CONSOLE_CHARS)
            .maxNameLength(1024)
            .maxNumberLength(32)
            .build();

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(CONSTRAINTS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** The state is beyond what a machine has; the message says where, e.g. {@code devices has more than 256 entries}. */
    static final class Beyond extends IOException {

        @Serial
        private static final long serialVersionUID = 1L;

        Beyond(String problem) {
            super(problem);
        }
    }

    /**
     * An object or a list being read: its path, how many entries or fields it has had so far, and (an object)
     * the {@link AddedFields} it has not had yet.
     */
    private static final class Open {
        final String pattern;
        final boolean list;
        final int limit;
        int count;
        String field;
        final Set<String> awaited;

        Open(String pattern, boolean list, int limit) {
            this.pattern = pattern;
            this.list = list;
            this.limit = limit;
            Set<String> added = list ? null : AddedFields.BY_OBJECT.get(pattern);
            this.awaited = added == null ? Set.of() : new HashSet<>(added);
        }
    }

    private StateLimits() {}

    /**
     * Streams through {@code json} checking every bound; true when it has every field of {@link AddedFields}
     * (it was written since they were all added).
     *
     * @throws Beyond when a bound is passed
     * @throws IOException when it is not JSON (Jackson's own exceptions, with their location)
     */
    static boolean check(byte[] json) throws IOException {
        List<Open> open = new ArrayList<>();
        boolean complete = true;
        try (JsonParser p = FACTORY.createParser(json)) {
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                Open top = open.isEmpty() ? null : open.getLast();
                switch (t) {
                    case FIELD_NAME -> {
                        if (++top.count > MAX_FIELDS) {
                            throw new Beyond(where(open.subList(0, open.size() - 1)) + " has more than " + MAX_FIELDS
                                    + " fields");
                        }
                        top.field = p.currentName();
                        if (!top.awaited.isEmpty()) {
                            top.awaited.remove(top.field);
                        }
                    }
                    case END_OBJECT, END_ARRAY -> complete &= open.removeLast().awaited.isEmpty();
                    default -> { // a value: count it in its list
                        if (top != null && top.list && ++top.count > top.limit) {
                            open.removeLast(); // the list itself is named, not the entry past its bound
                            throw new Beyond(where(open) + " has more than " + top.limit + " entries");
                        }
                        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                            String pattern = pattern(top);
                            boolean list = t == JsonToken.START_ARRAY;
                            open.add(new Open(pattern, list, list ? LISTS.getOrDefault(pattern, MAX_LIST) : 0));
                        } else if (t == JsonToken.VALUE_STRING && p.getTextLength() > MAX_STRING) {
                            int limit = LONG_STRINGS.getOrDefault(pattern(top), MAX_STRING);
                            if (p.getTextLength() > limit) {
                                throw new Beyond(where(open) + " is longer than " + limit + " characters");
                            }
                        }
                    }
                }
            }
        } catch (StreamConstraintsException e) {
            throw new Beyond(e.getOriginalMessage());
        }
        return complete;
    }

    /** The path of a value inside {@code parent}, indexes as {@code []}. */
    private static String pattern(Open parent) {
        if (parent == null) {
            return "";
        }
        if (parent.list) {
            return parent.pattern + "[]";
        }
        return parent.pattern.isEmpty() ? parent.field : parent.pattern + "." + parent.field;
    }

    /** Where the value being read in the innermost of {@code open} is, with its indexes: {@code vcpus[1].msrs}. */
    private static String where(List<Open> open) {
        StringBuilder at = new StringBuilder();
        for (Open o : open) {
            if (o.list) {
                at.append('[').append(o.count - 1).append(']');
            } else if (o.field != null) {
                at.append(at.isEmpty() ? "" : ".").append(o.field);
            }
        }
        return at.toString();
    }
}
