#!/usr/bin/env bash
# Benchmark: `pyckit dis` over whole stdlib corpora versus the same interpreter's own dis (the
# reference listing of ../shared/tools/dis_reference.py, built in one process per corpus), in the
# same run. Also times one cold `pyckit dis` process on a small file. pyckit's figures are the best
# of REPEATS runs (default 11: a run takes under a second); the machine's other load only ever adds
# to them. CPU time is the process's user+sys time from getrusage (microseconds).
#
#   Scripts/bench-dis.sh [X.Y ...]      default: 3.11 3.12 3.13
#   PYCKIT_BIN=path/to/pyckit Scripts/bench-dis.sh ...    measure that binary instead of building
#
# The binary is built as it is shipped: release, with the Swift runtime and Foundation linked in
# (`--static-swift-stdlib`, in .build-bench), which starts a process in half the time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.11 3.12 3.13)
export PYCKIT_CORPUS=${PYCKIT_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/pyckit/corpus}
Scripts/corpus.sh "${versions[@]}" >/dev/null
root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
repeats=${REPEATS:-11}
if [ -n "${PYCKIT_BIN:-}" ]; then
  pyckit=$PYCKIT_BIN
else
  if ! log=$(swift build -c release --product pyckit --static-swift-stdlib --scratch-path .build-bench 2>&1); then echo "$log" >&2; exit 2; fi
  pyckit=$(swift build -c release --static-swift-stdlib --scratch-path .build-bench --show-bin-path)/pyckit
fi

cat > /tmp/pyckit-bench-dis.py <<'PY'
import os, sys, time
sys.path.insert(0, sys.argv[2])
import dis_reference
files = []
for d, _, names in os.walk(sys.argv[1]):
    files += [os.path.join(d, n) for n in names if n.endswith(".pyc")]
t = time.process_time()
chars = 0
for f in files:
    chars += len(dis_reference.listing(dis_reference.load_code(f)))
print("%.3f %d %d" % (time.process_time() - t, len(files), chars))
PY

cpu() {  # user+sys CPU seconds of a command (getrusage, microseconds), output discarded; best of $repeats
  python3 - "$repeats" "$@" <<'PY'
import resource, subprocess, sys
best = None
for _ in range(int(sys.argv[1])):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    best = t if best is None else min(best, t)
print("%.3f" % best)
PY
}
wall() {  # wall seconds of a command, output discarded; best of $repeats
  local best="" s e t
  for _ in $(seq "$repeats"); do
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l | awk '{printf "%.3f", $1}')
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  echo "$best"
}

for mm in "${versions[@]}"; do
  python=$(ls -d "$root"/versions/"$mm".*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
  dir=$PYCKIT_CORPUS/$mm
  if [ -z "$python" ] || [ ! -d "$dir" ]; then echo "skip $mm: no interpreter or corpus"; continue; fi
  "$pyckit" dis "$dir" >/dev/null 2>&1 || true   # warm the page cache
  read -r py_cpu nfiles chars < <("$python" /tmp/pyckit-bench-dis.py "$dir" "$here/../shared/tools")
  ours_cpu=$(cpu "$pyckit" dis --jobs 1 "$dir")
  ours_wall=$(wall "$pyckit" dis "$dir")
  echo "dis $mm: $nfiles files, $chars characters"
  echo "  CPython dis (reference listing):   ${py_cpu} s CPU"
  echo "  pyckit dis, 1 job:                 ${ours_cpu} s CPU   -> $(echo "scale=1; $py_cpu / $ours_cpu" | bc -l)x"
  echo "  pyckit dis, $(nproc) jobs, wall:          ${ours_wall} s       -> $(echo "scale=1; $py_cpu / $ours_wall" | bc -l)x"
done
small=$(find "$PYCKIT_CORPUS/${versions[0]}" -name '*.pyc' -size -4k | sort | head -n 1)
echo "cold start, one small file ($(stat -c %s "$small") bytes): $(wall "$pyckit" dis "$small") s wall"
