#!/usr/bin/env bash
# Benchmark: `pyckit rewrite --layer marshal --check` over one version's stdlib corpus versus that
# interpreter running marshal.loads + marshal.dumps over the same files, in the same run.
#
#   Scripts/bench-marshal.sh [X.Y] [REPEATS]      default 3.11, best of 5
#
# Reports wall-clock seconds (best of REPEATS) for: pyckit with all cores, pyckit with --jobs 1,
# and CPython's C marshal (one process, file reading included, as pyckit's is), plus the ratios.
# CPython's numbers also show how many files marshal.dumps(marshal.loads(body)) gives back exactly.
# pyckit is built as shipped: release, Swift runtime and Foundation linked in (`--static-swift-stdlib`).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mm=${1:-3.11}
repeats=${2:-5}
export PYCKIT_CORPUS=${PYCKIT_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/pyckit/corpus}
Scripts/corpus.sh "$mm" >/dev/null
dir=$PYCKIT_CORPUS/$mm
root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
python=$(ls -d "$root"/versions/"$mm".*/bin/python | sort -V | tail -n 1)
if ! log=$(swift build -c release --product pyckit --static-swift-stdlib --scratch-path .build-bench 2>&1); then echo "$log" >&2; exit 2; fi
pyckit=$(swift build -c release --static-swift-stdlib --scratch-path .build-bench --show-bin-path)/pyckit

best() {  # best wall time of "$@" over $repeats runs, in seconds
  local b=""
  for _ in $(seq "$repeats"); do
    local s e t
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
  done
  printf '%.3f' "$b"
}

cat > /tmp/pyckit-bench-marshal.py <<'PY'
import marshal, os, sys
root = sys.argv[1]
h = 8 if sys.version_info[0] == 2 else (12 if sys.version_info[:2] < (3, 7) else 16)
n = same = 0
for d, _, fs in os.walk(root):
    for f in fs:
        if f.endswith('.pyc'):
            with open(os.path.join(d, f), 'rb') as fh:
                body = fh.read()[h:]
            n += 1
            same += marshal.dumps(marshal.loads(body)) == body
print("%d files, %d identical after loads+dumps" % (n, same))
PY

files=$(find "$dir" -name '*.pyc' | wc -l)
bytes=$(du -sb "$dir" | cut -f1)
"$pyckit" rewrite --layer marshal --check "$dir" >/dev/null  # warm the page cache, and prove identity
py_identical=$("$python" /tmp/pyckit-bench-marshal.py "$dir")
t_all=$(best "$pyckit" rewrite --layer marshal --check -q "$dir")
t_one=$(best "$pyckit" rewrite --layer marshal --check -q --jobs 1 "$dir")
t_py=$(best "$python" /tmp/pyckit-bench-marshal.py "$dir")
echo "corpus $mm: $files files, $bytes bytes ($dir)"
echo "CPython $mm marshal.loads+dumps: ${t_py} s   ($py_identical)"
echo "pyckit rewrite --check, $(nproc) jobs: ${t_all} s   ratio $(echo "scale=2; $t_all / $t_py" | bc -l)"
echo "pyckit rewrite --check, 1 job:  ${t_one} s   ratio $(echo "scale=2; $t_one / $t_py" | bc -l)"
