package dev.thaw.testing;

import java.lang.reflect.Proxy;
import java.util.Map;

/**
 * Makes an instance of a component's Metatype {@code Config} annotation for a unit test, as DS would:
 * each attribute takes its value from {@code values} or else its declared default.
 */
public final class ConfigProxy {

    private ConfigProxy() {}

    public static <A> A of(Class<A> config, Map<String, ?> values) {
        if (!config.isAnnotation()) {
            throw new IllegalArgumentException(config.getName() + " is not a configuration annotation");
        }
        return config.cast(Proxy.newProxyInstance(config.getClassLoader(), new Class<?>[] {config}, (proxy, method, args) -> {
            String name = method.getName();
            return switch (name) {
                case "annotationType" -> config;
                case "toString" -> config.getSimpleName() + values;
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                default -> values.containsKey(name) ? values.get(name) : method.getDefaultValue();
            };
        }));
    }

    public static <A> A defaults(Class<A> config) {
        return of(config, Map.of());
    }
}
