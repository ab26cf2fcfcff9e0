#!/usr/bin/env bash
# make-files.sh OUTDIR
#
# Produces small QEMU-written migration files (mapped-ram and one legacy
# stream) for testing a mapped-ram reader.  No guest code ever runs: every
# QEMU is started paused (-S, state "prelaunch"), guest RAM is pre-filled with
# known data through "-device loader,...,force-raw=on" (copied into RAM at the
# machine reset that happens before -S takes effect), the RTC is pinned to
# the VM clock so repeated runs give byte-identical files, and the migration is
# driven over QMP on a unix socket by a tiny Python client (python3 is the
# only dependency besides QEMU).
#
# Environment knobs:
#   QEMU=/path/to/qemu-system-x86_64   (default: qemu-system-x86_64 in PATH)
#   SKIP_BIG=1        do not make big-sparse.mr (8 GiB apparent size)
#   FIRMWARE=dummy    use a 64 KiB all-zero "-bios" instead of QEMU's
#                     firmware (pc.bios then has no present page; files
#                     compress much better; nothing executes either way)
#
# Outputs in OUTDIR:
#   microvm.mr pc.mr q35.mr multifd.mr offset.mr big-sparse.mr legacy.mig
#   data/*.bin          the loader payloads (deterministic, see gen_data)
#   logs/NAME.txt       QEMU command line, "info ramblock", "info mtree -f",
#                       query-migrate result, wall time
#   MANIFEST.txt        QEMU version, sizes
set -euo pipefail

OUT=${1:?usage: make-files.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
QEMU=${QEMU:-qemu-system-x86_64}
SKIP_BIG=${SKIP_BIG:-0}
FIRMWARE=${FIRMWARE:-dummy}

WORK="$OUT/.work"
rm -rf "$WORK"
mkdir -p "$WORK" "$OUT/data" "$OUT/logs"

QEMU_PID=
cleanup() {
    # only ever kill the QEMU this script started, by its pid
    if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
        kill "$QEMU_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

QEMU_VERSION=$("$QEMU" --version | head -n1)
echo "using: $QEMU_VERSION ($(command -v "$QEMU"))"

###########################################################################
# Deterministic payloads (no randomness at all).
#
# A payload page is 64 lines of 64 bytes; line k of the page loaded at guest
# physical address GPA is
#   "MRTEST <set> gpa=0x<GPA as 16 hex digits> off=0x<64*k as 3 hex digits>"
# padded with '.' to 63 bytes plus '\n'.  So a reader test can re-create
# and check any page (and any misplaced 64-byte slice) without data files,
# and the pages compress well.
# "zero" payloads are all-zero (QEMU must treat them as absent pages);
# "short" payloads are the first 100 bytes of a page (rest of page is zero).
###########################################################################
cat > "$WORK/gen_data.py" <<'PYEOF'
import sys

def page(setname, gpa, size=4096):
    # 64 lines of 64 bytes; every line names its page and its offset
    out = b""
    for off in range(0, size, 64):
        line = ("MRTEST %s gpa=0x%016x off=0x%03x" % (setname, gpa, off)).encode()
        out += line.ljust(63, b".") + b"\n"
    return out

def main():
    # args: OUTFILE SET GPA NPAGES [kind]   kind = full|zero|short
    out, setname, gpa, npages = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), int(sys.argv[4])
    kind = sys.argv[5] if len(sys.argv) > 5 else "full"
    if kind == "zero":
        data = bytes(4096 * npages)
    elif kind == "short":
        data = page(setname, gpa)[:100]
    else:
        data = b"".join(page(setname, gpa + 4096 * i) for i in range(npages))
    with open(out, "wb") as f:
        f.write(data)

main()
PYEOF

# gen NAME SET GPA NPAGES [KIND]  -> prints the -device loader argument
gen() {
    local f="$OUT/data/$1.bin"
    python3 "$WORK/gen_data.py" "$f" "$2" "$3" "$4" "${5:-full}"
    printf -- '-device\nloader,file=%s,addr=%s,force-raw=on\n' "$f" "$3"
}

###########################################################################
# QMP driver: qmp.py SOCKET LOGFILE URI CAPS_JSON PARAMS_JSON
###########################################################################
cat > "$WORK/qmp.py" <<'PYEOF'
import json, socket, sys, time

sock_path, log_path, uri, caps, params = sys.argv[1:6]
caps, params = json.loads(caps), json.loads(params)

for _ in range(400):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock_path)
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("cannot connect to QMP socket " + sock_path)
f = s.makefile("rwb", buffering=0)
greeting = json.loads(f.readline())

def cmd(name, **args):
    msg = {"execute": name}
    if args:
        msg["arguments"] = args
    f.write(json.dumps(msg).encode() + b"\n")
    while True:
        r = json.loads(f.readline())
        if "event" in r:
            continue
        if "error" in r:
            raise SystemExit("QMP %s failed: %s" % (name, r["error"]))
        return r["return"]

def hmp(line):
    return cmd("human-monitor-command", **{"command-line": line})

log = open(log_path, "a")
cmd("qmp_capabilities")
v = cmd("query-version")
log.write("QMP query-version: %s\n" % json.dumps(v))
log.write("query-status before: %s\n" % json.dumps(cmd("query-status")))
if caps:
    cmd("migrate-set-capabilities",
        capabilities=[{"capability": c, "state": True} for c in caps])
if params:
    cmd("migrate-set-parameters", **params)
log.write("capabilities on: %s\n" % [c["capability"] for c in cmd("query-migrate-capabilities") if c["state"]])
log.write("parameters: %s\n" % json.dumps(cmd("query-migrate-parameters"), sort_keys=True))
log.write("\n== info ramblock\n" + hmp("info ramblock").replace("\r", ""))
views = hmp("info mtree -f").replace("\r", "").split("\n\n")
log.write("\n== info mtree -f (flat view of the 'system' address space)\n"
          + "\n".join(v for v in views if "Root memory region: system" in v) + "\n")
t0 = time.time()
cmd("migrate", uri=uri)
while True:
    q = cmd("query-migrate")
    if q.get("status") in ("completed", "failed", "cancelled"):
        break
    time.sleep(0.02)
t1 = time.time()
log.write("\n== query-migrate\n%s\n" % json.dumps(q, sort_keys=True))
log.write("wall time for migrate command until completed: %.3f s\n" % (t1 - t0))
log.write("query-status after: %s\n" % json.dumps(cmd("query-status")))
if q.get("status") != "completed":
    raise SystemExit("migration did not complete: %s" % q)
print("  %s: %s in %.3f s (QEMU total-time %s ms)" % (uri, q["status"], t1 - t0, q.get("total-time")))
try:
    cmd("quit")
except Exception:
    pass
PYEOF

# run_case NAME URI CAPS_JSON PARAMS_JSON -- QEMU ARGS...
run_case() {
    local name=$1 uri=$2 caps=$3 params=$4
    shift 5
    local sock="$WORK/$name.qmp" log="$OUT/logs/$name.txt"
    # -rtc ...,clock=vm: the RTC follows the (stopped) VM clock, which makes
    # the mc146818rtc device state, and so the whole file, reproducible
    local -a args=(-accel tcg -nodefaults -nographic -S
                   -rtc base=2025-01-01T00:00:00,clock=vm "$@" "${BIOS_ARGS[@]}"
                   -qmp "unix:$sock,server=on,wait=off")
    {
        echo "QEMU: $QEMU_VERSION"
        echo "command: $QEMU ${args[*]}"
        echo "migrate uri: $uri  caps: $caps  params: $params"
    } > "$log"
    echo "== $name"
    "$QEMU" "${args[@]}" </dev/null >>"$log" 2>&1 &
    QEMU_PID=$!
    python3 "$WORK/qmp.py" "$sock" "$log" "$uri" "$caps" "$params"
    wait "$QEMU_PID"
    QEMU_PID=
}

MAPPED='["mapped-ram"]'

BIOS_ARGS=()
if [ "$FIRMWARE" = dummy ]; then
    head -c 65536 /dev/zero > "$OUT/data/dummy-bios.bin"
    BIOS_ARGS=(-bios "$OUT/data/dummy-bios.bin")
fi

###########################################################################
# Payload sets.  GPA == offset in the main RAM block for all addresses used
# here (microvm.ram / pc.ram start at GPA 0; for the 8 GiB microvm the part
# above 4 GiB starts at block offset 0xc0000000, see logs/big-sparse.mr.txt).
###########################################################################
mapfile -t MICRO_LOADERS < <(
    gen micro-p0      micro 0x0      1          # page 0      (bit 0)
    gen micro-a       micro 0x100000 3          # pages 256..258
    gen micro-b       micro 0x800000 1          # page 2048
    gen micro-zero    micro 0x900000 1 zero     # page 2304: zero -> absent
    gen micro-last    micro 0xfff000 1 short    # page 4095 (last bit), 100 bytes
)
mapfile -t PC_LOADERS < <(
    gen pc-p0         pc 0x0       1
    gen pc-a          pc 0x100000  3
    gen pc-last       pc 0x1fff000 1 short      # last page of 32 MiB
)
mapfile -t BIG_LOADERS < <(
    gen big-a         big 0x100000    1         # block offset 0x100000
    gen big-last      big 0x23ffff000 1         # last page: block offset 0x1fffff000
)

rm -f "$OUT"/*.mr "$OUT"/*.mig

# a. microvm, mapped-ram, multifd off
run_case microvm.mr "file:$OUT/microvm.mr" "$MAPPED" '{}' -- \
    -M microvm -m 16 "${MICRO_LOADERS[@]}"

# b. pc (i440fx) with an explicit small VGA so that PCI-path-named RAM blocks
#    (0000:00:02.0/vga.vram, 0000:00:02.0/vga.rom) appear too.
run_case pc.mr "file:$OUT/pc.mr" "$MAPPED" '{}' -- \
    -M pc -m 32 -device VGA,vgamem_mb=4 "${PC_LOADERS[@]}"

# c. q35, nothing but -nodefaults
run_case q35.mr "file:$OUT/q35.mr" "$MAPPED" '{}' -- \
    -M q35 -m 32 "${PC_LOADERS[@]}"

# d. microvm, multifd + mapped-ram.  QEMU 10 refuses multifd over file:
#    unless mapped-ram is on ("Migration requires multi-channel URIs");
#    multifd-channels is optional (default 2); 4 is set to show it is free.
run_case multifd.mr "file:$OUT/multifd.mr" '["multifd","mapped-ram"]' \
    '{"multifd-channels": 4}' -- \
    -M microvm -m 16 "${MICRO_LOADERS[@]}"

# e. file:PATH,offset=N : bytes [0,N) are whatever the file held before
#    (QEMU 10 does not truncate them); we pre-write a recognizable prefix.
OFFSET=4660   # 0x1234, deliberately not page aligned
python3 - "$OUT/offset.mr" "$OFFSET" <<'PYEOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
head = ("MRTEST-PREFIX offset=%d: bytes before the QEMU stream are not QEMU's\n" % n).encode()
data = (head + b"prefix." * n)[:n]
open(path, "wb").write(data)
PYEOF
run_case offset.mr "file:$OUT/offset.mr,offset=$OFFSET" "$MAPPED" '{}' -- \
    -M microvm -m 16 "${MICRO_LOADERS[@]}"

# f. 8 GiB microvm, two present pages
if [ "$SKIP_BIG" != 1 ]; then
    run_case big-sparse.mr "file:$OUT/big-sparse.mr" "$MAPPED" '{}' -- \
        -M microvm -m 8G "${BIG_LOADERS[@]}"
fi

# legacy stream: no mapped-ram
run_case legacy.mig "file:$OUT/legacy.mig" '[]' '{}' -- \
    -M microvm -m 16 "${MICRO_LOADERS[@]}"

###########################################################################
# Sizes
###########################################################################
MAN="$OUT/MANIFEST.txt"
{
    echo "QEMU: $QEMU_VERSION"
    echo "firmware: $FIRMWARE"
    echo
    for f in microvm.mr pc.mr q35.mr multifd.mr offset.mr big-sparse.mr legacy.mig; do
        [ -f "$OUT/$f" ] && printf '%-15s %13s\n' "$f" "$(stat -c %s "$OUT/$f")"
    done
} > "$MAN"
echo
cat "$MAN"
