package dev.thaw.format.thaw.impl;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.support.files.IoFailures;
import java.io.IOException;

/**
 * {@link MachineState} as the UTF-8 JSON of a Thaw snapshot: Jackson's own mapping of the records
 * (components by name, {@code byte[]} as base64, enums by name). Reading is strict: an unknown or
 * missing property, a null primitive or trailing content is an error, so a state this Thaw cannot
 * represent completely is never half-restored.
 */
final class StateJson {

    private static final JsonMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StateLimits.CONSTRAINTS)
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private StateJson() {}

    static byte[] write(MachineState state) throws JsonProcessingException {
        return MAPPER.writeValueAsBytes(state);
    }

    /**
     * Streams through the JSON checking it is within what a machine has ({@link StateLimits}), then maps it
     * straight to the records. A state written before one of the {@link AddedFields} lacks it, and reads as
     * what such a state means (e.g. no {@code runtime}: it ran on KVM), through a tree into which the missing
     * fields are put: such states are few and, bounded, small.
     *
     * @throws StateLimits.Beyond when the state is beyond what a machine has
     * @throws IOException or a runtime exception of Jackson or a record's constructor when the JSON is not a state
     */
    static MachineState read(byte[] json) throws IOException {
        MachineState state;
        if (StateLimits.check(json)) {
            state = MAPPER.readValue(json, MachineState.class);
        } else {
            JsonNode tree = MAPPER.readTree(json);
            AddedFields.fillIn(tree);
            state = MAPPER.treeToValue(tree, MachineState.class);
        }
        if (state == null) {
            throw new IOException("the state is null");
        }
        return state;
    }

    /** Jackson's message without its source excerpt, on one line, led by where in the state it failed. */
    static String describe(Exception e) {
        String message = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        message = IoFailures.oneLine(message == null ? e.getClass().getSimpleName() : message);
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            StringBuilder path = new StringBuilder();
            for (JsonMappingException.Reference r : m.getPath()) {
                if (r.getFieldName() != null) {
                    path.append(path.isEmpty() ? "" : ".").append(r.getFieldName());
                } else if (r.getIndex() >= 0) {
                    path.append('[').append(r.getIndex()).append(']');
                }
            }
            return "at " + path + ": " + message;
        }
        if (e instanceof JsonProcessingException j && j.getLocation() != null) {
            return message + " (at byte " + j.getLocation().getByteOffset() + ")";
        }
        return message;
    }
}
