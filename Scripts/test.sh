#!/usr/bin/env bash
# The project's test command (README.md, .ci/run): builds the stdlib corpus cache if needed,
# runs every Swift test — unit tests and the corpus conformance checks — with `swift test`, then
# the execution tests (README "Execution tests") on a few versions with the pyckit `swift test`
# built: CPython's regression tests on the NOP-padded stdlib, then the instance-tracking check of
# Scripts/inject-tests.sh (its probe run is not in CI yet: see the README).
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
  # swift test has built pyckit (debug) already: this only makes sure, then uses that binary.
  swift build --product pyckit
  # shellcheck disable=SC2086
  PYCKIT=$(swift build --show-bin-path)/pyckit Scripts/exec-tests.sh $exec_versions
  # shellcheck disable=SC2086
  PYCKIT=$(swift build --show-bin-path)/pyckit Scripts/inject-tests.sh $exec_versions --only instances
fi
