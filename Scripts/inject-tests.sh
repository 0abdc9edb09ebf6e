#!/usr/bin/env bash
# Execution checks of `pyckit inject` (issue 5) on each version's whole standard library, through
# the execution-test driver (Scripts/exec-tests.sh, which proves the instrumented .pyc are the ones
# loaded):
#   probes     every function of the stdlib instrumented with an entry and a return probe
#              (python/inject_tests/probe.py, C-level counters: no Python frames, so tracers in the
#              tests see what they expect), found as the builtin __pyckit_probe__ that each
#              module's code installs first thing (--at-module-entry '__import__("probe")');
#              CPython's regression tests must pass as they do untouched, and probe_check.py
#              proves the probes fire.
#   instances  every __init__ defined in a class body that has a `self` (--require-local self)
#              instrumented with
#              __import__("pyckit_registry").Register(self) before every return; instances.py
#              creates argparse/threading/logging objects and checks each was registered once per
#              __init__ that returned normally, against what the interpreter reports
#              (sys.monitoring 3.12+, sys.settrace before).
#
#   Scripts/inject-tests.sh [X.Y ...] [--only probes|instances] [exec-tests options ...]
#
# Default: all nine versions. Probe modules reach the rewritten runs through --path (PYTHONPATH on
# 3.8+, the copied prefix's lib-dynload on 2.7-3.7). `PYCKIT=path` uses a built pyckit.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
only=
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --only) only=${2:?--only needs probes or instances}; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
dir=python/inject_tests
status=0
if [ -z "$only" ] || [ "$only" = probes ]; then
  Scripts/exec-tests.sh "${args[@]}" --path "$dir" --program "$dir/probe_check.py" \
    --inject "--all-functions --at-module-entry '__import__(\"probe\")' --at-entry '__pyckit_probe__.enter()' --before-return '__pyckit_probe__.leave()'" \
    || status=1
fi
if [ -z "$only" ] || [ "$only" = instances ]; then
  Scripts/exec-tests.sh "${args[@]}" --path "$dir" --program "$dir/instances.py" --tests none \
    --inject "--init-methods --require-local self --before-return '__import__(\"pyckit_registry\").Register(self)'" \
    || status=1
fi
exit $status
