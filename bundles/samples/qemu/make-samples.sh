#!/usr/bin/env bash
# make-samples.sh [--check]
#
# Makes Thaw's QEMU samples again with make-files.sh (QEMU 9 or later, python3) and
#   without --check: packs them (pack.py) into the samples bundle's resources and rewrites SHA256SUMS;
#   with --check:    only says whether the packs of what QEMU wrote are the committed ones (exit 1 if not):
#                    the same extents and size, so the same files (and it is quick: holes are not read),
#                    but for the number of empty RAM passes, which follows the machine's speed (same-stream.py).
# The files are byte-for-byte reproducible: no guest code runs and the RTC follows the stopped VM clock.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
resources="$here/../src/main/resources/dev/thaw/samples/impl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$here/make-files.sh" "$work" > "$work/make.log" 2>&1 || { cat "$work/make.log" >&2; exit 2; }

# sample name <- make-files.sh's name
names=(qemu-microvm.mr:microvm.mr qemu-pc.mr:pc.mr qemu-q35.mr:q35.mr qemu-multifd.mr:multifd.mr
       qemu-offset.mr:offset.mr qemu-8g-sparse.mr:big-sparse.mr qemu-legacy.mig:legacy.mig)
mkdir -p "$work/packed"
for pair in "${names[@]}"; do
    sample=${pair%%:*} made=${pair#*:}
    python3 "$here/pack.py" "$work/$made" "$work/packed/$sample.sparse.gz"
done

if [ "${1:-}" = --check ]; then
    differ=0
    for pair in "${names[@]}"; do
        sample=${pair%%:*}
        cmp -s "$work/packed/$sample.sparse.gz" "$resources/$sample.sparse.gz" && continue
        # Only the count of empty RAM passes may differ: it follows this machine's speed (same-stream.py).
        if python3 "$here/same-stream.py" "$work/packed/$sample.sparse.gz" "$resources/$sample.sparse.gz"; then
            echo "$sample: the same stream but for the number of empty RAM passes before switchover" >&2
        else
            echo "$sample differs" >&2; differ=1
        fi
    done
    [ "$differ" = 0 ] || { echo "QEMU wrote different samples than the committed ones" >&2; exit 1; }
    echo "QEMU wrote the committed samples again: $(head -n1 "$work/make.log")"
    exit 0
fi
cp "$work"/packed/*.sparse.gz "$resources/"
for pair in "${names[@]}"; do
    sample=${pair%%:*} made=${pair#*:}
    echo "$(sha256sum "$work/$made" | cut -d' ' -f1)  $sample"
done > "$here/SHA256SUMS"
echo "packed into $resources; SHA256SUMS rewritten"
