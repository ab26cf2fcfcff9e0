package dev.thaw.support.policy;

import dev.thaw.api.policy.PolicyParameters;
import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;
import java.util.function.UnaryOperator;

/**
 * A page policy component's configuration, its Metatype {@code Config} annotation as DS hands it over, for
 * each restore's start to read. One refused at activation leaves the defaults the annotation declares; a
 * refused change leaves the configuration before it: a bad file never takes a policy down
 * ({@link PolicyParameters#initial}, {@link PolicyParameters#changed}).
 *
 * @param <C> the policy's {@code Config} annotation
 */
public final class PolicyConfig<C extends Annotation> {

    private final String policy;
    private final UnaryOperator<C> check;
    private volatile C current;

    /**
     * @param policy the policy's name, for messages
     * @param type the {@code Config} annotation, whose declared defaults apply when {@code configured} is refused
     * @param configured what DS passed at activation
     * @param check returns the configuration it accepts, throws {@link IllegalArgumentException} naming what it refuses
     */
    public PolicyConfig(String policy, Class<C> type, C configured, UnaryOperator<C> check) {
        this.policy = policy;
        this.check = check;
        this.current = PolicyParameters.initial(policy, defaults(type), configured, check);
    }

    /** The configuration in force. */
    public C get() {
        return current;
    }

    /** A changed configuration (DS {@code @Modified}): applies to the next restore if {@code check} accepts it. */
    public void change(C changed) {
        current = PolicyParameters.changed(policy, current, changed, check);
    }

    /** {@code type} with every attribute at the default it declares (every attribute of a policy's Config has one). */
    public static <C extends Annotation> C defaults(Class<C> type) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) ->
                switch (method.getName()) {
                    case "annotationType" -> type;
                    case "toString" -> "the defaults of " + type.getName();
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> method.getDefaultValue();
                }));
    }
}
