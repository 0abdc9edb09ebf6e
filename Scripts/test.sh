#!/usr/bin/env bash
# The project's test command (README.md, .ci/run): builds the stdlib corpus cache if needed,
# runs every Swift test — unit tests and the corpus conformance checks — with `swift test`, then
# the execution tests (README "Execution tests") on a few versions with a release build of pyckit
# (each run rewrites a whole stdlib; a debug build takes minutes for that): CPython's regression
# tests on the NOP-padded stdlib, then Scripts/inject-tests.sh (the same tests with entry and
# return probes in every function, and instance tracking).
#
#   PYCKIT_EXEC_VERSIONS   versions for Scripts/exec-tests.sh and Scripts/inject-tests.sh
#                          (default "2.7 3.8 3.12"; empty: skip both)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PYCKIT_CORPUS=${PYCKIT_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/pyckit/corpus}
Scripts/corpus.sh >/dev/null
swift test "$@"
exec_versions=${PYCKIT_EXEC_VERSIONS-2.7 3.8 3.12}
if [ -n "$exec_versions" ]; then
  swift build -c release --product pyckit
  pyckit=$(swift build -c release --show-bin-path)/pyckit
  # shellcheck disable=SC2086
  PYCKIT=$pyckit Scripts/exec-tests.sh $exec_versions
  # shellcheck disable=SC2086
  PYCKIT=$pyckit Scripts/inject-tests.sh $exec_versions
fi
