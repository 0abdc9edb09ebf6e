#!/usr/bin/env bash
# Execution conformance (ARCHITECTURE.md, "Execution"): rewrites each version's stdlib corpus with
# `pyckit rewrite`, makes the interpreter load exactly those .pyc (3.8+: -X pycache_prefix; 2.7,
# 3.6, 3.7: a copied prefix), proves it did, and runs a set of CPython's regression tests on the
# untouched and on the rewritten library. Exit 1 if a test does worse rewritten, or a proof fails.
#
#   Scripts/exec-tests.sh [X.Y ...] [--rewrite-args '--layer abstract --pad-nops'] [--jobs N]
#                         [--tests test_a,test_b] [--timeout S] [--resources RES] [--keep] ...
#
# Default: all nine versions (a missing interpreter is skipped with a message), rewrite args
# '--layer abstract --pad-nops' (the NOP-padding marker check is on exactly when --pad-nops is
# given; --marker/--no-marker override). `Scripts/exec-tests.sh --help` lists every option.
# The driver (python/exec_tests/driver.py) runs on $PYTHON (default python3, 3.6+). pyckit is
# built in .build-exec (release) unless $PYCKIT names a built binary.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
python=${PYTHON:-python3}
driver=python/exec_tests/driver.py
for a in "$@"; do
  case $a in -h|--help) exec "$python" "$driver" --pyckit - --corpus - --help ;; esac
done
export PYCKIT_CORPUS=${PYCKIT_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/pyckit/corpus}
versions=$("$python" "$driver" --pyckit - --corpus - --list-versions "$@") || exit 2
# shellcheck disable=SC2086
Scripts/corpus.sh $versions >/dev/null
if [ -n "${PYCKIT:-}" ]; then
  pyckit=$PYCKIT                    # an already built pyckit (CI, or a snapshot while sources change)
else
  scratch=.build-exec
  if ! log=$(nice swift build -c release --product pyckit --scratch-path "$scratch" 2>&1); then
    echo "$log" >&2
    echo "exec-tests: building pyckit failed" >&2
    exit 2
  fi
  pyckit=$(swift build -c release --scratch-path "$scratch" --show-bin-path)/pyckit
fi
exec "$python" "$driver" --pyckit "$pyckit" --corpus "$PYCKIT_CORPUS" "$@"
