#!/usr/bin/env python3
"""dump.py - cross-check reader for QEMU migration files (QEMU 10.0.x).

Parses both "mapped-ram" files and legacy (inline pages) streams as described
in SPEC.md and prints, per file: stream start, machine type, capabilities,
RAM blocks (name, used length, page size, bitmap/pages offsets, set bits),
section trace, device section idstrs and the VMDESCRIPTION summary.

Usage: dump.py [--offset N] [--quiet-trace] [--no-extents] FILE...

Written from observation of QEMU-written files (see SPEC.md); it is a test
aid, not a general-purpose tool.
"""
import argparse
import json
import os
import sys

MAGIC = 0x5145564D          # "QEVM"
VERSION = 3

# top-level section types
S_EOF, S_START, S_PART, S_END, S_FULL = 0x00, 0x01, 0x02, 0x03, 0x04
S_SUBSECTION, S_VMDESC, S_CONFIG, S_COMMAND, S_FOOTER = 0x05, 0x06, 0x07, 0x08, 0x7E
SECTION_NAMES = {S_START: "START", S_PART: "PART", S_END: "END", S_FULL: "FULL"}
COMMANDS = {0x0B: "SWITCHOVER_START"}

# RAM section flags (low bits of a be64 whose high bits are an address/size)
F_ZERO, F_MEM_SIZE, F_PAGE, F_EOS = 0x02, 0x04, 0x08, 0x10
F_CONTINUE, F_XBZRLE, F_HOOK, F_COMPRESS, F_MULTIFD_FLUSH = 0x20, 0x40, 0x80, 0x100, 0x200
FLAG_NAMES = [(F_ZERO, "ZERO"), (F_MEM_SIZE, "MEM_SIZE"), (F_PAGE, "PAGE"),
              (F_EOS, "EOS"), (F_CONTINUE, "CONTINUE"), (F_XBZRLE, "XBZRLE"),
              (F_HOOK, "HOOK"), (F_COMPRESS, "COMPRESS_PAGE"),
              (F_MULTIFD_FLUSH, "MULTIFD_FLUSH")]

MAPPED_RAM_HEADER_SIZE = 4 + 8 + 8 + 8


class ParseError(Exception):
    pass


class Reader:
    """Big-endian primitive reads at an explicit absolute file position."""

    def __init__(self, path):
        self.f = open(path, "rb")
        self.size = os.fstat(self.f.fileno()).st_size
        self.pos = 0

    def seek(self, pos):
        self.pos = pos

    def read_at(self, pos, n):
        self.f.seek(pos)
        data = self.f.read(n)
        if len(data) != n:
            raise ParseError("short read: wanted %d bytes at 0x%x" % (n, pos))
        return data

    def read(self, n):
        data = self.read_at(self.pos, n)
        self.pos += n
        return data

    def peek_u8(self):
        return self.read_at(self.pos, 1)[0]

    def u8(self):
        return self.read(1)[0]

    def be16(self):
        return int.from_bytes(self.read(2), "big")

    def be32(self):
        return int.from_bytes(self.read(4), "big")

    def be64(self):
        return int.from_bytes(self.read(8), "big")

    def str8(self):
        """u8 length followed by that many bytes (no terminator)."""
        return self.read(self.u8()).decode("utf-8", "replace")


def flag_str(flags):
    names = [n for bit, n in FLAG_NAMES if flags & bit]
    rest = flags & ~sum(bit for bit, _ in FLAG_NAMES)
    if rest:
        names.append("0x%x" % rest)
    return "|".join(names) or "0"


def runs(indices):
    """[0,1,2,5] -> [(0,2),(5,5)]"""
    out = []
    for i in indices:
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return [tuple(r) for r in out]


def runs_str(rs, limit=12):
    parts = ["%d" % a if a == b else "%d-%d" % (a, b) for a, b in rs[:limit]]
    if len(rs) > limit:
        parts.append("... (%d runs)" % len(rs))
    return "[" + ", ".join(parts) + "]"


def page_label(data):
    """Show our test marker if the page carries one, else the first bytes."""
    if data.startswith(b"MRTEST"):
        return repr(data[:64].rstrip(b".\n").decode())
    return "hex " + data[:16].hex()


def marker_page(setname, gpa, size=4096):
    """Re-create a make-files.sh payload page (see its gen_data.py)."""
    out = b""
    for off in range(0, size, 64):
        line = ("MRTEST %s gpa=0x%016x off=0x%03x" % (setname, gpa, off)).encode()
        out += line.ljust(63, b".") + b"\n"
    return out


def check_marker(data):
    """None if not a test page; else True/False: content is exactly right
    (a full payload page, or its first 100 bytes followed by zeros)."""
    if not data.startswith(b"MRTEST "):
        return None
    try:
        words = data[:64].split()
        setname, gpa = words[1].decode(), int(words[2].split(b"=")[1], 16)
    except (IndexError, ValueError):
        return False
    want = marker_page(setname, gpa, len(data))
    return data == want or data == want[:100] + bytes(len(data) - 100)


def find_vmdesc(r):
    """Locate the trailing VMDESCRIPTION: 0x06, be32 length, JSON to EOF.

    The JSON holds no NUL byte; its be32 length nearly always does (JSON is
    < 16 MiB), so take the last NUL in the tail, the first '{' after it, and
    confirm the 0x06 + length in front of it and that it ends at EOF.
    """
    tail_len = min(r.size, 16 << 20)
    tail = r.read_at(r.size - tail_len, tail_len)
    j = tail.find(b"{", tail.rfind(b"\0") + 1)
    if j < 5 or tail[j - 5] != S_VMDESC:
        return None, None
    length = int.from_bytes(tail[j - 4:j], "big")
    if j + length != tail_len:
        return None, None
    return r.size - tail_len + j - 5, json.loads(tail[j:])


def data_extents(r, start, end):
    """Allocated (non-hole) extents in [start, end) using SEEK_DATA/SEEK_HOLE."""
    fd = r.f.fileno()
    out, pos = [], start
    while pos < end:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            break
        if d >= end:
            break
        h = min(os.lseek(fd, d, os.SEEK_HOLE), end)
        out.append((d, h))
        pos = h
    return out


class Dumper:
    def __init__(self, path, offset=None, trace=True, extents=True):
        self.path = path
        self.r = Reader(path)
        self.forced_offset = offset
        self.trace_on = trace
        self.extents_on = extents
        self.machine = None
        self.caps = []
        self.config_subsections = []
        self.blocks = []          # dicts, in stream order
        self.legacy_pages = {}    # block -> {"page": set(), "zero": set()}
        self.devices = []         # (section_id, idstr, instance_id, version)
        self.ram_sections = []    # (type name, flags seen)
        self.commands = []
        self.footers = 0
        self.page_size = 4096
        self.vmdesc = None
        self.vmdesc_pos = None
        self.last_block = None

    def trace(self, msg):
        if self.trace_on:
            print("  " + msg)

    # ---- generic VMState walking driven by the VMDESCRIPTION JSON ----------
    def walk_vmsd(self, desc, depth=0):
        for field in desc.get("fields", []):
            for _ in range(field.get("array_len", 1)):
                if field["type"] == "struct":
                    self.walk_vmsd(field["struct"], depth + 1)
                else:
                    self.r.read(field["size"])
        for sub in desc.get("subsections", []):
            pos = self.r.pos
            if self.r.u8() != S_SUBSECTION:
                raise ParseError("expected subsection %s at 0x%x" % (sub["vmsd_name"], pos))
            name = self.r.str8()
            version = self.r.be32()
            if name != sub["vmsd_name"]:
                raise ParseError("subsection %r at 0x%x, JSON says %r" % (name, pos, sub["vmsd_name"]))
            self.walk_vmsd(sub, depth + 1)

    # ---- configuration section (type 0x07) ---------------------------------
    def parse_configuration(self, pos):
        n = self.r.be32()
        self.machine = self.r.read(n).decode()
        self.trace("@0x%x CONFIGURATION name_len=%d machine=%r" % (pos, n, self.machine))
        # subsections follow back to back, each introduced by 0x05; the
        # next top-level section type is never 0x05, so peeking is safe
        while self.r.peek_u8() == S_SUBSECTION:
            pos = self.r.pos
            self.r.u8()
            name = self.r.str8()
            version = self.r.be32()
            if name == "configuration/capabilities":
                count = self.r.be32()
                self.caps = [self.r.str8() for _ in range(count)]
                detail = "count=%d caps=%s" % (count, self.caps)
            elif name == "configuration/target-page-bits":
                bits = self.r.be32()
                self.page_size = 1 << bits
                detail = "target_page_bits=%d" % bits
            elif name == "configuration/uuid":
                detail = "uuid=%s" % self.r.read(16).hex()
            else:
                sub = self.json_subsection("configuration", name)
                self.walk_vmsd(sub)
                detail = "(skipped via JSON)"
            self.config_subsections.append(name)
            self.trace("@0x%x   subsection %r v%d %s" % (pos, name, version, detail))

    def json_subsection(self, dev, name):
        desc = (self.vmdesc or {}).get(dev, {}) if dev == "configuration" else dev
        for sub in desc.get("subsections", []):
            if sub.get("vmsd_name") == name:
                return sub
        raise ParseError("unknown subsection %r and no JSON description" % name)

    # ---- RAM section payload (START/PART/END of idstr "ram") ---------------
    def parse_ram(self, kind):
        seen = {}   # flag combination -> count, in first-seen order
        mapped = "mapped-ram" in self.caps
        ignore_shared = "x-ignore-shared" in self.caps
        mask = self.page_size - 1
        while True:
            pos = self.r.pos
            word = self.r.be64()
            flags, addr = word & mask, word & ~mask
            seen[flag_str(flags)] = seen.get(flag_str(flags), 0) + 1
            if flags & (F_XBZRLE | F_HOOK | F_COMPRESS):
                raise ParseError("unsupported RAM flags %s at 0x%x" % (flag_str(flags), pos))
            if flags & F_MEM_SIZE:
                self.trace("@0x%x   RAM MEM_SIZE total=0x%x" % (pos, addr))
                remaining = addr
                while remaining > 0:
                    remaining -= self.parse_block_header(mapped, ignore_shared)
                if remaining != 0:
                    raise ParseError("RAM block lengths overshoot MEM_SIZE total")
            if flags & (F_ZERO | F_PAGE):
                self.parse_legacy_page(flags, addr, pos)
            if flags & F_MULTIFD_FLUSH:
                self.trace("@0x%x   RAM MULTIFD_FLUSH" % pos)
            if flags & F_EOS:
                self.trace("@0x%x   RAM EOS" % pos)
                break
        self.ram_sections.append((kind, seen))

    def parse_block_header(self, mapped, ignore_shared):
        pos = self.r.pos
        name = self.r.str8()
        used = self.r.be64()
        blk = {"name": name, "used": used, "hdr_pos": pos}
        if ignore_shared:
            blk["addr"] = self.r.be64()
        if mapped:
            hpos = self.r.pos
            blk["mr_version"] = self.r.be32()
            blk["page_size"] = self.r.be64()
            blk["bitmap_offset"] = self.r.be64()
            blk["pages_offset"] = self.r.be64()
            blk["header_end"] = self.r.pos
            self.check_mapped_block(blk)
            # the stream continues right after this block's page area
            self.r.seek(blk["pages_offset"] + used)
            self.trace("@0x%x   block %r used=0x%x mapped-ram v%d psize=0x%x bitmap@0x%x "
                       "pages@0x%x set=%d/%d -> stream resumes @0x%x"
                       % (pos, name, used, blk["mr_version"], blk["page_size"],
                          blk["bitmap_offset"], blk["pages_offset"], blk["set_bits"],
                          used // blk["page_size"], self.r.pos))
            if blk["set_bits"]:
                self.trace("        set-bit runs (page index): %s" % runs_str(blk["runs"]))
                for a, _ in blk["runs"][:8]:
                    data = self.r.read_at(blk["pages_offset"] + a * blk["page_size"], 64)
                    self.trace("        page %d @0x%x: %s" % (a, blk["pages_offset"] + a * blk["page_size"], page_label(data)))
        else:
            blk["page_size"] = self.page_size
            self.legacy_pages[name] = {"page": {}, "zero": set()}
            self.trace("@0x%x   block %r used=0x%x" % (pos, name, used))
        self.blocks.append(blk)
        return used

    def check_mapped_block(self, blk):
        ps, used = blk["page_size"], blk["used"]
        npages = used // ps
        nbytes = (npages + 63) // 64 * 8          # whole 64-bit words
        bm = self.r.read_at(blk["bitmap_offset"], nbytes)
        # bit i = page i, little-endian bit order inside each byte
        # (the bitmap is an array of host-endian unsigned longs)
        set_idx = [i for i in range(npages) if bm[i >> 3] >> (i & 7) & 1]
        pad = [i for i in range(npages, nbytes * 8) if bm[i >> 3] >> (i & 7) & 1]
        marks = [check_marker(self.r.read_at(blk["pages_offset"] + i * ps, ps)) for i in set_idx]
        blk["marker_ok"] = marks.count(True)
        blk["marker_bad"] = marks.count(False)
        blk.update(bitmap_bytes=nbytes, set_bits=len(set_idx), runs=runs(set_idx),
                   padding_bits_set=len(pad),
                   bitmap_right_after_header=blk["bitmap_offset"] == blk["header_end"],
                   pages_aligned_1m=blk["pages_offset"] % (1 << 20) == 0)
        if blk["mr_version"] != 1:
            raise ParseError("mapped-ram header version %d" % blk["mr_version"])
        if blk["pages_offset"] % ps:
            raise ParseError("pages_offset not page aligned")
        if self.extents_on:
            ext = data_extents(self.r, blk["pages_offset"], blk["pages_offset"] + used)
            pages_with_data = set()
            for a, b in ext:
                pages_with_data.update(range((a - blk["pages_offset"]) // ps,
                                             (b - blk["pages_offset"] + ps - 1) // ps))
            stale = 0
            for i in sorted(pages_with_data - set(set_idx)):
                if any(self.r.read_at(blk["pages_offset"] + i * ps, ps)):
                    stale += 1
            blk["allocated_pages"] = len(pages_with_data)
            blk["nonzero_pages_with_clear_bit"] = stale

    def parse_legacy_page(self, flags, addr, pos):
        if not flags & F_CONTINUE:
            self.last_block = self.r.str8()
        if self.last_block not in self.legacy_pages:
            raise ParseError("page for unknown block %r at 0x%x" % (self.last_block, pos))
        ent = self.legacy_pages[self.last_block]
        if flags & F_ZERO:
            fill = self.r.u8()
            ent["zero"].add(addr)
            ent["page"].pop(addr, None)
        else:
            ent["page"][addr] = self.r.pos
            self.r.read(self.page_size)
            ent["zero"].discard(addr)

    # ---- top level ---------------------------------------------------------
    def find_start(self):
        if self.forced_offset is not None:
            return self.forced_offset
        head = self.r.read_at(0, min(self.r.size, 64 << 20))
        pos = head.find(MAGIC.to_bytes(4, "big") + VERSION.to_bytes(4, "big"))
        if pos < 0:
            raise ParseError("no QEVM v3 header in the first 64 MiB")
        return pos

    def run(self):
        r = self.r
        print("== %s" % self.path)
        st = os.stat(self.path)
        print("file size %d (0x%x), disk usage %d KiB" % (r.size, r.size, st.st_blocks // 2))
        self.vmdesc_pos, self.vmdesc = find_vmdesc(r)
        if self.vmdesc:
            self.page_size = self.vmdesc.get("page_size", self.page_size)
        start = self.find_start()
        r.seek(start)
        if start:
            print("stream starts at offset %d (0x%x); bytes before it: %r..."
                  % (start, start, r.read_at(0, min(start, 48))))
        if r.be32() != MAGIC or r.be32() != VERSION:
            raise ParseError("bad magic/version")
        self.trace("@0x%x header QEVM v3" % start)
        cur = None   # (section id, idstr) of the section the next footer closes
        ids = {}
        while True:
            pos = r.pos
            t = r.u8()
            if t == S_CONFIG:
                self.parse_configuration(pos)
            elif t in (S_START, S_FULL):
                sid = r.be32()
                idstr = r.str8()
                inst = r.be32()
                ver = r.be32()
                ids[sid] = idstr
                cur = sid
                self.trace("@0x%x %s id=%d %r instance=%d version=%d"
                           % (pos, SECTION_NAMES[t], sid, idstr, inst, ver))
                if idstr == "ram":
                    self.parse_ram(SECTION_NAMES[t])
                else:
                    self.parse_device(sid, idstr, inst, ver)
            elif t in (S_PART, S_END):
                sid = r.be32()
                cur = sid
                self.trace("@0x%x %s id=%d (%s)" % (pos, SECTION_NAMES[t], sid, ids.get(sid)))
                if ids.get(sid) != "ram":
                    raise ParseError("PART/END for non-RAM section %r" % ids.get(sid))
                self.parse_ram(SECTION_NAMES[t])
            elif t == S_FOOTER:
                sid = r.be32()
                if sid != cur:
                    raise ParseError("footer id %d != section id %s at 0x%x" % (sid, cur, pos))
                self.footers += 1
            elif t == S_COMMAND:
                cmd = r.be16()
                ln = r.be16()
                r.read(ln)
                self.commands.append(COMMANDS.get(cmd, "0x%x" % cmd))
                self.trace("@0x%x COMMAND 0x%04x %s len=%d"
                           % (pos, cmd, COMMANDS.get(cmd, "?"), ln))
            elif t == S_EOF:
                self.trace("@0x%x EOF" % pos)
                break
            else:
                raise ParseError("unknown section type 0x%02x at 0x%x" % (t, pos))
        if r.pos < r.size:
            pos = r.pos
            if r.u8() != S_VMDESC:
                raise ParseError("junk after EOF at 0x%x" % pos)
            ln = r.be32()
            js = json.loads(r.read(ln))
            if pos != self.vmdesc_pos or js != self.vmdesc:
                raise ParseError("VMDESCRIPTION mismatch with tail scan")
            self.trace("@0x%x VMDESCRIPTION len=%d ends @0x%x (= file size: %s)"
                       % (pos, ln, r.pos, r.pos == r.size))
            if r.pos != r.size:
                raise ParseError("%d bytes after VMDESCRIPTION" % (r.size - r.pos))
        self.summary()

    def parse_device(self, sid, idstr, inst, ver):
        if not self.vmdesc:
            raise ParseError("no VMDESCRIPTION: cannot skip device section %r" % idstr)
        desc = next((d for d in self.vmdesc["devices"]
                     if d["name"] == idstr and d["instance_id"] == inst), None)
        if desc is None or "fields" not in desc:
            raise ParseError("no usable JSON for %r/%d" % (idstr, inst))
        start = self.r.pos
        self.walk_vmsd(desc)
        self.devices.append((sid, idstr, inst, ver, self.r.pos - start))

    def summary(self):
        print("summary:")
        print("  machine type      : %r" % self.machine)
        print("  capabilities      : %s" % (self.caps or "(no configuration/capabilities subsection)"))
        print("  mapped-ram        : %s" % ("mapped-ram" in self.caps))
        print("  config subsections: %s" % self.config_subsections)
        print("  page size (JSON)  : %d" % self.page_size)
        print("  RAM sections      : %s" % "; ".join("%s[%s]" % (k, ", ".join("%s x%d" % kv for kv in f.items()))
                                                       for k, f in self.ram_sections))
        print("  commands          : %s" % self.commands)
        print("  section footers   : %d" % self.footers)
        print("  RAM blocks:")
        if "mapped-ram" in self.caps:
            print("    %-24s %12s %6s %12s %12s %9s %6s  %s" % (
                "name", "used_length", "psize", "bitmap_off", "pages_off", "bm_bytes", "set", "checks"))
            for b in self.blocks:
                checks = "bitmap-after-hdr=%s pages-1MiB-aligned=%s pad-bits=%d" % (
                    b["bitmap_right_after_header"], b["pages_aligned_1m"], b["padding_bits_set"])
                if b["marker_ok"] or b["marker_bad"]:
                    checks += " test-pages-ok=%d bad=%d" % (b["marker_ok"], b["marker_bad"])
                if "allocated_pages" in b:
                    checks += " allocated-pages=%d nonzero-clear=%d" % (
                        b["allocated_pages"], b["nonzero_pages_with_clear_bit"])
                print("    %-24s %#12x %#6x %#12x %#12x %9d %6d  %s" % (
                    b["name"], b["used"], b["page_size"], b["bitmap_offset"],
                    b["pages_offset"], b["bitmap_bytes"], b["set_bits"], checks))
        else:
            print("    %-24s %12s %8s %8s  %s" % ("name", "used_length", "PAGE", "ZERO", "page runs (index)"))
            for b in self.blocks:
                ent = self.legacy_pages[b["name"]]
                idx = sorted(a // self.page_size for a in ent["page"])
                print("    %-24s %#12x %8d %8d  %s" % (b["name"], b["used"], len(ent["page"]),
                                                      len(ent["zero"]), runs_str(runs(idx))))
                marks = [check_marker(self.r.read_at(ent["page"][a], self.page_size)) for a in sorted(ent["page"])]
                if marks.count(True) or marks.count(False):
                    print("        test pages: ok=%d bad=%d" % (marks.count(True), marks.count(False)))
                for a in sorted(ent["page"])[:3]:
                    if b["name"].endswith(".ram"):
                        data = self.r.read_at(ent["page"][a], 64)
                        print("        page %d @0x%x: %s" % (a // self.page_size, ent["page"][a], page_label(data)))
        print("  device sections (%d): %s" % (len(self.devices),
              ", ".join("%s/%d" % (d[1], d[2]) for d in self.devices)))
        if self.vmdesc:
            names = [(d["name"], d["instance_id"]) for d in self.vmdesc["devices"]]
            same = names == [(d[1], d[2]) for d in self.devices]
            print("  VMDESCRIPTION     : @0x%x, %d bytes JSON, keys %s, %d devices, order == stream order: %s"
                  % (self.vmdesc_pos, self.r.size - self.vmdesc_pos - 5,
                     list(self.vmdesc.keys()), len(names), same))
        else:
            print("  VMDESCRIPTION     : absent")
        print("  total file size   : %d" % self.r.size)
        print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--offset", type=lambda s: int(s, 0), default=None,
                    help="stream start (default: find 'QEVM' v3 header)")
    ap.add_argument("--quiet-trace", action="store_true", help="summary only")
    ap.add_argument("--no-extents", action="store_true",
                    help="skip SEEK_DATA/SEEK_HOLE page checks")
    a = ap.parse_args()
    rc = 0
    for path in a.files:
        try:
            Dumper(path, a.offset, not a.quiet_trace, not a.no_extents).run()
        except ParseError as e:
            print("ERROR: %s: %s\n" % (path, e))
            rc = 1
    sys.exit(rc)


if __name__ == "__main__":
    main()
