package dev.thaw.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test that needs {@code /dev/kvm} (and userfaultfd). It is skipped, with the reason shown,
 * only where {@code /dev/kvm} is absent; with {@code THAW_REQUIRE_KVM=1} (as in CI) it fails instead.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(KvmCondition.class)
public @interface RequiresKvm {}
