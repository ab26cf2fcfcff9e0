package dev.thaw.shell.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** Reading the policy SPI's version range out of an Import-Package header. */
class PolicyBundlesTest {

    @Test
    void theRangeIsFoundAmongClausesWithQuotedCommas() {
        assertEquals("[2.0,3)", PolicyBundles.importedRange(
                "java.util,dev.thaw.api.policy;version=\"[2.0,3)\",org.osgi.framework;version=\"[1.10,2)\""));
        assertEquals("[1.0,2)", PolicyBundles.importedRange("dev.thaw.api.policy;resolution:=optional;version=\"[1.0,2)\""));
        assertEquals("0.0.0", PolicyBundles.importedRange("dev.thaw.api.policy"), "no version: any");
        assertNull(PolicyBundles.importedRange("dev.thaw.api.policyx;version=\"[1,2)\",java.lang"));
        assertNull(PolicyBundles.importedRange(null));
    }
}
