package dev.thaw.linux.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reads and writes of unsigned C fields: values come out zero-extended ({@code __u8}/{@code __u16}
 * into int, {@code __u32} into long) and go in range-checked, so nothing is silently truncated.
 */
public final class Mem {

    /** C {@code __u8}. */
    public static final ValueLayout.OfByte U8 = JAVA_BYTE;
    /** C {@code __u16}. */
    public static final ValueLayout.OfShort U16 = JAVA_SHORT;
    /** C {@code __u32} (and {@code int}). */
    public static final ValueLayout.OfInt U32 = JAVA_INT;
    /** C {@code __u64} (and {@code __s64}, {@code long}). */
    public static final ValueLayout.OfLong U64 = JAVA_LONG;

    private Mem() {}

    /** Byte offset of the member at {@code path} (member names) in {@code layout}. */
    public static long offset(GroupLayout layout, String... path) {
        return layout.byteOffset(elements(path));
    }

    /** The member layout at {@code path}. */
    public static MemoryLayout member(GroupLayout layout, String... path) {
        return layout.select(elements(path));
    }

    private static PathElement[] elements(String... path) {
        PathElement[] elements = new PathElement[path.length];
        for (int i = 0; i < path.length; i++) {
            elements[i] = PathElement.groupElement(path[i]);
        }
        return elements;
    }

    public static int u8(MemorySegment s, long offset) {
        return Byte.toUnsignedInt(s.get(U8, offset));
    }

    public static int u16(MemorySegment s, long offset) {
        return Short.toUnsignedInt(s.get(U16, offset));
    }

    public static long u32(MemorySegment s, long offset) {
        return Integer.toUnsignedLong(s.get(U32, offset));
    }

    public static long u64(MemorySegment s, long offset) {
        return s.get(U64, offset);
    }

    public static void putU8(MemorySegment s, long offset, int value, String field) {
        if ((value & ~0xff) != 0) {
            throw outOfRange(field, value, "__u8");
        }
        s.set(U8, offset, (byte) value);
    }

    public static void putU16(MemorySegment s, long offset, int value, String field) {
        if ((value & ~0xffff) != 0) {
            throw outOfRange(field, value, "__u16");
        }
        s.set(U16, offset, (short) value);
    }

    public static void putU32(MemorySegment s, long offset, long value, String field) {
        if ((value & ~0xffff_ffffL) != 0) {
            throw outOfRange(field, value, "__u32");
        }
        s.set(U32, offset, (int) value);
    }

    public static void putU64(MemorySegment s, long offset, long value) {
        s.set(U64, offset, value);
    }

    /** {@code count} bytes at {@code offset} as a new array. */
    public static byte[] bytes(MemorySegment s, long offset, int count) {
        return s.asSlice(offset, count).toArray(JAVA_BYTE);
    }

    /** Copies {@code value} (exactly {@code count} bytes) to {@code offset}. */
    public static void putBytes(MemorySegment s, long offset, byte[] value, int count, String field) {
        if (value.length != count) {
            throw new IllegalArgumentException(field + " has " + value.length + " bytes, the C field " + count);
        }
        MemorySegment.copy(value, 0, s, JAVA_BYTE, offset, count);
    }

    private static IllegalArgumentException outOfRange(String field, long value, String type) {
        return new IllegalArgumentException(field + " = " + value + " (0x" + Long.toHexString(value)
                + ") does not fit the C type " + type);
    }
}
