#!/usr/bin/env bash
# Full `pyckit dis` conformance: every .pyc of each version's stdlib corpus, pyckit's listing versus
# the interpreter's own dis (../shared/tools/dis_reference.py), both normalized.
#
#   Scripts/dis-conformance.sh [X.Y ...]     default: every installed version
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PYCKIT_CORPUS=${PYCKIT_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/pyckit/corpus}
root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(2.7 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13)
Scripts/corpus.sh "${versions[@]}" >/dev/null
if ! log=$(swift build -c release --product pyckit 2>&1); then echo "$log" >&2; exit 2; fi
pyckit=$(swift build -c release --show-bin-path)/pyckit
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for mm in "${versions[@]}"; do
  python=$(ls -d "$root"/versions/"$mm".*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$python" ] || [ ! -d "$PYCKIT_CORPUS/$mm" ]; then echo "skip $mm: no interpreter or corpus"; continue; fi
  "$pyckit" dis "$PYCKIT_CORPUS/$mm" -o "$out/$mm" || true
  "$python" Scripts/dis_conformance.py "$PYCKIT_CORPUS/$mm" "$out/$mm" || status=1
done
exit $status
