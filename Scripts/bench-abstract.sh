#!/usr/bin/env bash
# Benchmark: `pyckit rewrite --layer abstract` (lift every code object to editable bytecode and
# assemble it again) over whole stdlib corpora versus the Python `bytecode` library's
# `Bytecode.from_code(c).to_code()` on the same interpreter and files, in the same run. Both tools'
# results are checked by one comparer (python/bench/abstract_roundtrip.py): how many code objects
# come back exact in every field, and how many keep their line table.
#
#   Scripts/bench-abstract.sh [--layer LAYER] [X.Y ...]      default: --layer abstract 3.11 3.13
#   PYCKIT_BIN=path/to/pyckit Scripts/bench-abstract.sh ...   measure that binary instead of building
#   (built as shipped: release, Swift runtime and Foundation linked in, `--static-swift-stdlib`)
#
# `bytecode` (pinned by BYTECODE_VERSION, default 0.19.1: it supports 3.11–3.14) is installed from
# PyPI into a virtualenv per interpreter under ~/.cache/pyckit/venv-X.Y (XDG_CACHE_HOME). Its time
# is the process CPU time of from_code + to_code alone, one code object at a time (nested ones
# lifted on their own, not through their parent): no reading, unmarshalling or writing.
# pyckit is timed two ways in the same --jobs 1 run (best of 3 runs):
#   lift+assemble  `rewrite --timing`: thread CPU time of lift and assemble (freeing the lifted form
#                  included) alone, summed over files; the like-for-like number
#   whole command  user+sys CPU of the process: file reading, unmarshalling, marshalling and
#                  writing included
# and wall time of one run with all cores.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
layer=abstract
if [ "${1:-}" = --layer ]; then layer=${2:?--layer needs a value}; shift 2; fi
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.11 3.13)
pin=${BYTECODE_VERSION:-0.19.1}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/pyckit
export PYCKIT_CORPUS=${PYCKIT_CORPUS:-$cache/corpus}
Scripts/corpus.sh "${versions[@]}" >/dev/null
root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
if [ -n "${PYCKIT_BIN:-}" ]; then
  pyckit=$PYCKIT_BIN
else
  build=(swift build -c release --product pyckit --static-swift-stdlib --scratch-path .build-bench)
  if ! log=$(nice "${build[@]}" 2>&1); then echo "$log" >&2; exit 2; fi
  pyckit=$(swift build -c release --static-swift-stdlib --scratch-path .build-bench --show-bin-path)/pyckit
fi
helper=$here/python/bench/abstract_roundtrip.py
# Outputs go to a RAM file system when there is one (PYCKIT_BENCH_TMP overrides): on ext4 without a
# journal, as here, creating a file scans past every inode deleted in the last 60-300 s, so a run
# that writes 1,700 files where the previous run's were just deleted spends seconds of sys time in
# that scan, and the kernel's walk evicts the caches lift and assemble then run with (3.13, same
# binary: lift+assemble 0.83-0.85 s into a just-emptied directory, 0.64-0.69 s into a fresh one or
# tmpfs). For the same reason each timed run writes into a directory of its own, all deleted after.
tmpbase=${PYCKIT_BENCH_TMP:-}
if [ -z "$tmpbase" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then tmpbase=/dev/shm; fi
tmp=$(mktemp -d ${tmpbase:+-p "$tmpbase"})
trap 'rm -rf "$tmp"' EXIT

venv() {  # a virtualenv of interpreter $1 at $2 with bytecode==$pin; prints its python
  local want
  want=$("$1" -c 'import sys; print(sys.version)')
  if [ "$("$2/bin/python" -c 'import sys, bytecode; print(sys.version); print(bytecode.__version__)' 2>/dev/null)" \
      != "$want"$'\n'"$pin" ]; then
    "$1" -m venv --clear "$2" >&2
    "$2/bin/python" -m pip install -q --disable-pip-version-check "bytecode==$pin" >&2
  fi
  echo "$2/bin/python"
}
checked() {  # exit unless status $1 of a pyckit rewrite is 0, or 2 for files that failed (counted below)
  if [ "$1" = 0 ] || { [ "$1" = 2 ] && ! grep -q '^Usage:' "$tmp/stderr"; }; then return; fi
  echo "pyckit rewrite --layer $layer failed (exit $1):" >&2; head -n 5 "$tmp/stderr" >&2; exit 2
}
cpu() {  # "WHOLE LIFT_ASSEMBLE": user+sys CPU seconds of pyckit rewrite --timing "$@", and its lift+assemble CPU
  local s=0 whole part
  /usr/bin/time -o "$tmp/time" -f "%U %S" "$pyckit" rewrite --layer "$layer" -q --timing "$@" >/dev/null 2>"$tmp/stderr" || s=$?
  checked "$s"
  whole=$(tail -n 1 "$tmp/time" | awk '{printf "%.3f", $1 + $2}')
  part=$(sed -n 's/^timing.*lift+assemble \([0-9.]*\) s CPU.*/\1/p' "$tmp/stderr")
  echo "$whole ${part:-?}"
}
best() {  # the smallest of the numbers on stdin
  sort -g | head -n 1
}
wall() {  # wall seconds of pyckit rewrite "$@"
  local s e x=0
  s=$(date +%s.%N); "$pyckit" rewrite --layer "$layer" -q "$@" >/dev/null 2>"$tmp/stderr" || x=$?; e=$(date +%s.%N)
  checked "$x"
  echo "$e - $s" | bc -l | awk '{printf "%.3f", $1}'
}
# fail now, not after minutes of `bytecode`, if this pyckit has no such layer
"$pyckit" rewrite --layer "$layer" --check -q "$tmp/probe.pyc" >/dev/null 2>"$tmp/stderr" || checked $?
ratio() { echo "scale=1; $1 / $2" | bc -l; }

for mm in "${versions[@]}"; do
  python=$(ls -d "$root"/versions/"$mm".*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
  dir=$PYCKIT_CORPUS/$mm
  if [ -z "$python" ] || [ ! -d "$dir" ]; then echo "skip $mm: no interpreter or corpus"; continue; fi
  vpython=$(venv "$python" "$cache/venv-$mm")
  { read -r n bc_cpu bc_fail bc_all bc_lines; read -r bc_diff; } < <("$vpython" "$helper" bytecode "$dir")
  runs=()
  for r in 1 2 3; do runs+=("$(cpu "$dir" -o "$tmp/run$r" --jobs 1)"); done
  ours_cpu=$(printf '%s\n' "${runs[@]}" | awk '{print $1}' | best)
  ours_part=$(printf '%s\n' "${runs[@]}" | awk '{print $2}' | best)
  ours_wall=$(wall "$dir" -o "$tmp/all")
  { read -r _ _ ours_fail ours_all ours_lines; read -r ours_diff; } < <("$vpython" "$helper" compare "$dir" "$tmp/run1")
  rm -rf "$tmp"/run? "$tmp/all"
  echo "abstract round trip $mm: $n code objects in $(find "$dir" -name '*.pyc' | wc -l) files ($("$python" -V 2>&1))"
  printf '  %-40s %10s %9s %12s %12s\n' "" "CPU s" failures "exact (all)" "exact lines"
  printf '  %-40s %10s %9s %12s %12s\n' "bytecode $pin from_code+to_code" "$bc_cpu" "$bc_fail" "$bc_all" "$bc_lines"
  printf '  %-40s %10s %9s %12s %12s\n' "pyckit lift+assemble alone, 1 job" "$ours_part" "$ours_fail" "$ours_all" "$ours_lines"
  printf '  %-40s %10s\n' "pyckit whole command (with I/O), 1 job" "$ours_cpu"
  echo "  speed-up (bytecode CPU / pyckit CPU): $(ratio "$bc_cpu" "$ours_part")x lift+assemble alone (like for like), $(ratio "$bc_cpu" "$ours_cpu")x whole command"
  echo "  pyckit whole command, $(nproc) jobs: ${ours_wall} s wall ($(ratio "$bc_cpu" "$ours_wall")x bytecode's CPU)"
  echo "  fields that differ, bytecode: $bc_diff"
  echo "  fields that differ, pyckit:   $ours_diff"
done
