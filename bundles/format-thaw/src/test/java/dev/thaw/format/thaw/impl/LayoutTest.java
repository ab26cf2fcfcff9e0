package dev.thaw.format.thaw.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.format.thaw.impl.Layout.Header;
import dev.thaw.format.thaw.impl.Layout.Placement;
import dev.thaw.format.thaw.impl.Layout.Plan;
import dev.thaw.format.thaw.impl.Layout.RegionEntry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** The numbers of docs/snapshot-format.md: its worked example and its field offsets. */
class LayoutTest {

    @Test
    void theWorkedExampleOfTheDocumentation() {
        List<RegionLayout> regions = List.of(new RegionLayout("ram-low", 0, 3L << 30),
                new RegionLayout("ram-high", 0x1_0000_0000L, 1L << 30));
        Plan plan = Layout.plan(regions, 21_561);
        assertEquals(4096, plan.regionTableOffset());
        assertEquals(8192, plan.stateOffset());
        assertEquals(new Placement(32_768, 131_072, 5_242_880), plan.regions().get(0));
        assertEquals(new Placement(3_276_800, 3_309_568, 3_226_468_352L), plan.regions().get(1));
        assertEquals(4_300_210_176L, plan.fileLength());
        assertEquals(98_304, Layout.bitmapLength(786_432));
        assertEquals(3_145_728, Layout.checksumsLength(786_432));
        assertEquals(3_230_564_352L, plan.regions().get(1).pagesOffset() + 1000 * 4096L, "page 1000 of ram-high");
    }

    @Test
    void smallRegionsStillGetWholeWordsOfBitmap() {
        assertEquals(8, Layout.bitmapLength(1));
        assertEquals(8, Layout.bitmapLength(64));
        assertEquals(16, Layout.bitmapLength(65));
        Plan plan = Layout.plan(List.of(new RegionLayout("tiny", 0, 4096)), 100);
        assertEquals(new Placement(12_288, 16_384, 1L << 20), plan.regions().getFirst());
        assertEquals((1L << 20) + 4096, plan.fileLength());
    }

    @Test
    void headerFieldsSitWhereTheDocumentationSays() {
        byte[] h = new Header(1, 4096, 4096, 0, 0x1122_3344_5566_7788L, 4096, 2, 128, 0xaabbccdd, 0x01020304, 8192, 21_561)
                .encode();
        ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("54484157534e4150", HexFormat.of().formatHex(h, 0, 8), "THAWSNAP");
        assertEquals(1, b.getInt(8));
        assertEquals(4096, b.getInt(12));
        assertEquals(4096, b.getInt(16));
        assertEquals(0, b.getInt(20));
        assertEquals("8877665544332211", HexFormat.of().formatHex(h, 24, 32), "little-endian u64");
        assertEquals(4096, b.getLong(32));
        assertEquals(2, b.getInt(40));
        assertEquals(128, b.getInt(44));
        assertEquals(0xaabbccdd, b.getInt(48));
        assertEquals(0x01020304, b.getInt(52));
        assertEquals(8192, b.getLong(56));
        assertEquals(21_561, b.getLong(64));
        byte[] reserved = Arrays.copyOfRange(h, 72, 4092);
        assertArrayEquals(new byte[reserved.length], reserved);
        CRC32C crc = new CRC32C();
        crc.update(h, 0, 4092);
        assertEquals((int) crc.getValue(), b.getInt(4092));
    }

    @Test
    void regionEntryFieldsSitWhereTheDocumentationSays() {
        ByteBuffer t = ByteBuffer.allocate(256);
        new RegionEntry("ram-high", 0x1_0000_0000L, 1L << 30, 3_226_468_352L, 1234, 3_276_800, 3_309_568, 0x11111111, 0x22222222)
                .encode(t, 1);
        ByteBuffer e = t.slice(128, 128).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x1_0000_0000L, e.getLong(0));
        assertEquals(1L << 30, e.getLong(8));
        assertEquals(3_226_468_352L, e.getLong(16));
        assertEquals(1234, e.getLong(24));
        assertEquals(3_276_800, e.getLong(32));
        assertEquals(3_309_568, e.getLong(40));
        assertEquals(0x11111111, e.getInt(48));
        assertEquals(0x22222222, e.getInt(52));
        assertEquals(8, e.getInt(56));
        assertEquals(0, e.getInt(60));
        byte[] name = new byte[64];
        e.get(64, name);
        byte[] expected = Arrays.copyOf("ram-high".getBytes(StandardCharsets.UTF_8), 64);
        assertArrayEquals(expected, name);
        assertArrayEquals(new byte[128], Arrays.copyOf(t.array(), 128), "entry 0 untouched");
    }
}
