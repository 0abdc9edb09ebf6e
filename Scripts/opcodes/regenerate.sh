#!/usr/bin/env bash
# Re-dump the opcode data of every installed CPython and re-render the Swift tables.
#
#   Scripts/opcodes/regenerate.sh            # all of 2.7 and 3.6 ... 3.13 that are installed
#   Scripts/opcodes/regenerate.sh 3.12 3.13  # only these release lines
#
# Interpreters are looked up as $PYENV_ROOT (else `pyenv root`, else ~/.pyenv) /versions/X.Y.Z/bin/python,
# taking the newest X.Y.Z of each release line. A missing interpreter is skipped with a message and its committed
# data file is kept. Then Scripts/opcodes/generate.py renders Sources/PycKit/Versions/Generated/.
# Exit status: 0 ok, 1 when a dump or the generator failed.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${PYENV_ROOT:-}"
if [[ -z "$root" ]] && command -v pyenv >/dev/null 2>&1; then
    root="$(pyenv root 2>/dev/null)"
fi
root="${root:-$HOME/.pyenv}"

lines=("$@")
if [[ ${#lines[@]} -eq 0 ]]; then
    lines=(2.7 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13)
fi

status=0
for line in "${lines[@]}"; do
    # Newest installed patch release of this line (2.7.18, 3.12.1, ...).
    best=""
    for dir in "$root/versions/$line".*; do
        [[ -x "$dir/bin/python" ]] || continue
        patch="${dir##*/$line.}"
        [[ "$patch" =~ ^[0-9]+$ ]] || continue
        if [[ -z "$best" || "$patch" -gt "${best##*/$line.}" ]]; then
            best="$dir"
        fi
    done
    if [[ -z "$best" ]]; then
        echo "regenerate.sh: skipping $line: no interpreter under $root/versions (keeping data/$line.json)" >&2
        continue
    fi
    if ! "$best/bin/python" "$here/dump_opcodes.py"; then
        echo "regenerate.sh: dump_opcodes.py failed under $best/bin/python" >&2
        status=1
    fi
done

if ! python3 "$here/generate.py"; then
    status=1
fi
exit $status
