#!/usr/bin/env bash
# Builds (once) the standard-library corpus every conformance test reads: each installed CPython's
# stdlib, tests included, compiled by that interpreter into $PYCKIT_CORPUS/<X.Y>/ with
# ../shared/tools/build-corpus.sh. A version is rebuilt only when its interpreter changed.
#
#   Scripts/corpus.sh [X.Y ...]      default: all nine versions; missing interpreters are skipped
#
# PYCKIT_CORPUS defaults to ~/.cache/pyckit/corpus (XDG_CACHE_HOME), shared by every checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${PYCKIT_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/pyckit/corpus}
tool=$here/../shared/tools/build-corpus.sh
[ -f "$tool" ] || { echo "corpus: $tool not found (../shared must sit beside the repository)" >&2; exit 2; }
root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(2.7 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13)
mkdir -p "$out"
pids=()
for mm in "${versions[@]}"; do
  python=$(ls -d "$root"/versions/"$mm".*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$python" ]; then
    echo "corpus: skip $mm: no interpreter under $root/versions" >&2
    continue
  fi
  stamp="$out/.stamp-$mm"
  want="$python $("$python" -c 'import sys; print(sys.version.split()[0])') $(cksum < "$tool" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$out/$mm" ]; then
    continue
  fi
  rm -rf "${out:?}/$mm"
  ( bash "$tool" "$out" "$mm" >/dev/null && echo "$want" > "$stamp" && echo "corpus: built $mm ($(find "$out/$mm" -name '*.pyc' | wc -l) files)" >&2 ) &
  pids+=($!)
  # two compiles at a time: the machines have two cores
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
echo "$out"
