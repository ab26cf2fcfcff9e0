#!/usr/bin/env python3
"""pack.py FILE OUT: keep FILE as a gzip of its non-zero extents (thaw-sparse-1, read by SparseFile.java).

Format, inside gzip (mtime 0, so the pack is the same for the same file):
  b"thaw-sparse-1\\n", be64 file size,
  per extent: be64 offset, be32 length (at most 1 MiB), the bytes,
  be64 -1.
Holes are found with SEEK_DATA/SEEK_HOLE, then all-zero 4 KiB blocks inside data are left out too.
"""
import gzip
import os
import struct
import sys

BLOCK = 4096
MAX_EXTENT = 1 << 20


def extents(f):
    fd = f.fileno()
    size = os.fstat(fd).st_size
    pos = 0
    while pos < size:
        try:
            data = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            return
        hole = os.lseek(fd, data, os.SEEK_HOLE)
        f.seek(data)
        start = None
        at = data
        while at < hole:
            block = f.read(min(BLOCK, hole - at))
            nonzero = block.count(0) != len(block)
            if nonzero and start is None:
                start = at
            if start is not None and (not nonzero or at + len(block) - start >= MAX_EXTENT):
                end = at if not nonzero else at + len(block)
                yield start, end
                start = None
            at += len(block)
        if start is not None:
            yield start, hole
        pos = hole


def main(src, dst):
    with open(src, 'rb') as f, open(dst, 'wb') as raw:
        with gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=9, mtime=0, filename='') as out:
            out.write(b'thaw-sparse-1\n')
            out.write(struct.pack('>q', os.fstat(f.fileno()).st_size))
            for start, end in extents(f):
                out.write(struct.pack('>qi', start, end - start))
                out.write(os.pread(f.fileno(), end - start, start))  # extents() reads through f's position
            out.write(struct.pack('>q', -1))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit('usage: pack.py FILE OUT')
    main(sys.argv[1], sys.argv[2])
