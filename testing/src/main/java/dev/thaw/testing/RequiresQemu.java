package dev.thaw.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test that runs {@code qemu-system-x86_64}. It is skipped, with the reason shown, only where that is
 * not on the PATH; with {@code THAW_REQUIRE_QEMU=1} (as in CI, which installs QEMU) it fails instead.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(QemuCondition.class)
public @interface RequiresQemu {}
