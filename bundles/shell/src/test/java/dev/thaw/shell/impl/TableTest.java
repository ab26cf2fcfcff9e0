package dev.thaw.shell.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TableTest {

    @Test
    void columnsLineUpAndNumbersAlignRight() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new Table("ID", "VCPUS", "STATE").numeric(1)
                .row("vm1", 1, "running")
                .row("a-long-name", 16, "exited(0)")
                .print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertEquals("""
                ID           VCPUS  STATE
                vm1              1  running
                a-long-name     16  exited(0)
                """, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void rowsMustFitTheColumns() {
        assertThrows(IllegalArgumentException.class, () -> new Table("A", "B").row("only one"));
    }
}
