#!/usr/bin/env python3
"""same-stream.py A.sparse.gz B.sparse.gz: exit 0 when two packs (pack.py) hold the same migration stream
but for the number of empty RAM iterations before switchover.

QEMU repeats the RAM section's iteration while it scans guest memory, and each pass that sends no page
writes the same 18 bytes (PART of the ram section, RAM_SAVE_FLAG_EOS, section footer). How many passes
there are depends on how fast and how loaded the machine is, not on what the guest holds, so the
check leaves them all out and compares the rest byte for byte.
"""
import gzip
import struct
import sys

EMPTY_PASS = bytes.fromhex('02' '00000001' '0000000000000010' '7e' '00000001')


def unpack(path):
    with gzip.open(path, 'rb') as f:
        if f.readline() != b'thaw-sparse-1\n':
            sys.exit('%s: not a thaw-sparse-1 pack' % path)
        size = struct.unpack('>q', f.read(8))[0]
        extents = []
        while True:
            start = struct.unpack('>q', f.read(8))[0]
            if start == -1:
                return size, extents
            length = struct.unpack('>i', f.read(4))[0]
            extents.append((start, f.read(length)))


def stream_tail(size, extents, tail_start):
    """The bytes from tail_start to the end of the file, holes as zeros, without empty passes."""
    out = bytearray(size - tail_start)
    for start, data in extents:
        if start + len(data) > tail_start:
            cut = max(0, tail_start - start)
            out[start + cut - tail_start:start + len(data) - tail_start] = data[cut:]
    data = bytes(out)
    return data.replace(EMPTY_PASS, b'')


# The passes come after the last RAM page, near the end of the file: a difference further from the end
# than this is a difference in what the file holds.
MAX_TAIL = 16 << 20


def main(a, b):
    size_a, ext_a = unpack(a)
    size_b, ext_b = unpack(b)
    same_head = 0
    while same_head < min(len(ext_a), len(ext_b)) and ext_a[same_head] == ext_b[same_head]:
        same_head += 1
    if same_head == len(ext_a) == len(ext_b):
        sys.exit(0 if size_a == size_b else 1)
    tail_start = min(e[same_head][0] for e in (ext_a, ext_b) if same_head < len(e))
    if max(size_a, size_b) - tail_start > MAX_TAIL:
        sys.exit(1)
    same = stream_tail(size_a, ext_a, tail_start) == stream_tail(size_b, ext_b, tail_start)
    sys.exit(0 if same else 1)


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit('usage: same-stream.py A.sparse.gz B.sparse.gz')
    main(sys.argv[1], sys.argv[2])
