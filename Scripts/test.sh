#!/usr/bin/env bash
# The project's test command (README.md, .ci/run): builds the stdlib corpus cache if needed,
# then runs every Swift test — unit tests and the corpus conformance checks — with `swift test`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PYCKIT_CORPUS=${PYCKIT_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/pyckit/corpus}
Scripts/corpus.sh >/dev/null
swift test "$@"
