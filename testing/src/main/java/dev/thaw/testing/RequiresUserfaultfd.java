package dev.thaw.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test that needs userfaultfd(2) and nothing of KVM: it runs wherever this user may create a
 * userfaultfd (root, or {@code vm.unprivileged_userfaultfd = 1}), {@code /dev/kvm} or not, and is skipped
 * with the reason shown elsewhere.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(UserfaultfdCondition.class)
public @interface RequiresUserfaultfd {}
