package dev.thaw.format.thaw.impl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.thaw.api.device.Device;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.vm.BootRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Fields the state JSON gained after its first version, each with what a state written before it means.
 * The reader is strict (a missing field is an error), so a state that lacks one of these has it put in
 * before it is mapped to the records; every other missing field is still refused.
 */
final class AddedFields {

    /**
     * One added field.
     *
     * @param object the path of the objects that hold it ({@code ""} the root, {@code []} any index)
     * @param field its name
     * @param before what a state written before it means
     */
    record Added(String object, String field, JsonNode before) {}

    static final List<Added> ALL = List.of(
            new Added("", "runtime", TextNode.valueOf(MachineState.RUNTIME_BEFORE_NAMES)),
            new Added("vcpus[]", "tscKhz", LongNode.valueOf(VcpuState.TSC_KHZ_UNKNOWN)),
            new Added("devices[]", "version", IntNode.valueOf(Device.FIRST_STATE_VERSION)),
            new Added("boot", "residentBytes", LongNode.valueOf(BootRequest.RESIDENT_AS_WORKING_SET)),
            new Added("boot", "writePercent", IntNode.valueOf(BootRequest.WRITE_ALL)));

    /** The added fields by the path of the objects that hold them. */
    static final Map<String, Set<String>> BY_OBJECT = ALL.stream()
            .collect(Collectors.groupingBy(Added::object, Collectors.mapping(Added::field, Collectors.toUnmodifiableSet())));

    private AddedFields() {}

    /** Puts every added field that {@code root} lacks in, with what a state from before it means. */
    static void fillIn(JsonNode root) {
        for (Added a : ALL) {
            for (JsonNode o : at(root, a.object())) {
                if (o instanceof ObjectNode object && !object.has(a.field())) {
                    object.set(a.field(), a.before());
                }
            }
        }
    }

    /** The nodes at {@code path}: fields separated by dots, {@code []} every element of a list. */
    private static List<JsonNode> at(JsonNode root, String path) {
        List<JsonNode> nodes = List.of(root);
        if (path.isEmpty()) {
            return nodes;
        }
        for (String step : path.split("\\.")) {
            boolean each = step.endsWith("[]");
            String name = each ? step.substring(0, step.length() - 2) : step;
            List<JsonNode> next = new ArrayList<>();
            for (JsonNode n : nodes) {
                JsonNode child = n.get(name);
                if (child == null) {
                    continue;
                }
                if (!each) {
                    next.add(child);
                } else if (child instanceof ArrayNode list) {
                    list.forEach(next::add);
                }
            }
            nodes = next;
        }
        return nodes;
    }
}
