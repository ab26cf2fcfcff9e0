package dev.thaw.api.policy;

import java.util.Map;

/**
 * A restore's parameters for one policy ({@link RestoreView#parameters()}), read with the policy's
 * configured values as fallbacks. Bad values are refused with a message naming the policy and the key.
 *
 * @param policy the policy's name, for messages
 * @param values the parameters as given (numbers, booleans or their text)
 */
public record PolicyParameters(String policy, Map<String, Object> values) {

    public PolicyParameters {
        values = Map.copyOf(values);
    }

    /** The whole number under {@code key}, or {@code fallback} when it is absent. */
    public long number(String key, long fallback) {
        Object value = values.get(key);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Number n) {
            return n.longValue();
        }
        try {
            return Long.parseLong(String.valueOf(value).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(policy + ": " + key + " must be a whole number, not " + value, e);
        }
    }

    /** The flag under {@code key} ({@code true} or {@code false}), or {@code fallback} when it is absent. */
    /**
     * Checks a configured number against the range its Metatype declares.
     *
     * @throws IllegalArgumentException naming the policy, the key, the value and the range
     */
    public static long inRange(String policy, String key, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(policy + ": " + key + " " + value + " is out of range (" + min + " to " + max + ")");
        }
        return value;
    }

    /**
     * A policy's configuration after a change: {@code changed} if {@code check} accepts it, else
     * {@code current}, with the reason logged (a bad change never takes a policy down).
     */
    public static <C> C changed(String policy, C current, C changed, java.util.function.UnaryOperator<C> check) {
        return checkedOr(policy, changed, check, current, "the previous one stays");
    }

    /**
     * A policy's configuration at activation: {@code configured} if {@code check} accepts it, else
     * {@code defaults} (its Metatype defaults), with the reason logged (a bad file never keeps a policy from
     * starting).
     */
    public static <C> C initial(String policy, C defaults, C configured, java.util.function.UnaryOperator<C> check) {
        return checkedOr(policy, configured, check, defaults, "the defaults apply");
    }

    private static <C> C checkedOr(String policy, C candidate, java.util.function.UnaryOperator<C> check, C instead,
            String insteadText) {
        try {
            return check.apply(candidate);
        } catch (IllegalArgumentException e) {
            System.getLogger(PolicyParameters.class.getName()).log(System.Logger.Level.WARNING,
                    policy + ": configuration refused: " + e.getMessage() + "; " + insteadText);
            return instead;
        }
    }

    public boolean flag(String key, boolean fallback) {
        Object value = values.get(key);
        return value == null ? fallback : Boolean.parseBoolean(String.valueOf(value).trim());
    }
}
