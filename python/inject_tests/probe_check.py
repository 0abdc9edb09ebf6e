"""Proof that the probes of an --all-functions run fire: uses a few stdlib functions and checks
that the entry and return counters of probe.py moved (exit 1 if not). Runs on 2.7 and 3.6+."""
from __future__ import print_function

import sys

import probe


def count(counter):
    return next(counter)      # the next value is the number of calls so far


before = (count(probe._entries), count(probe._returns))
import json  # noqa: E402
import textwrap  # noqa: E402
json.loads(json.dumps({'a': [1, 2, 3]}))
textwrap.fill('probe ' * 40, width=30)
after = (count(probe._entries) - 1, count(probe._returns) - 1)
entries, returns = after[0] - before[0], after[1] - before[1]
print('probe: %d entries, %d returns while using json and textwrap (%d, %d since startup)'
      % (entries, returns, after[0], after[1]))
sys.exit(0 if entries > 0 and returns > 0 else 1)
