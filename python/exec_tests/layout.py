"""Put rewritten .pyc files where the interpreter running this script will look for them.

Runs inside the interpreter under test (2.7 and 3.6+), with the same flags as the test runs,
so the placement is the interpreter's own answer:
  3.x   importlib.util.cache_from_source(source): with -X pycache_prefix=DIR that is
        DIR/<absolute source dir>/<name>.<cache tag>.pyc, without it <dir>/__pycache__/...
  2.7   <source>c, beside the source
The source of each corpus file is found under this interpreter's stdlib directory (the
sys.path entry holding os.py), which for 2.7/3.6/3.7 is the copied library tree.

Every header is validated against its source the way the import system does it (magic; PEP 552
flags; mtime and size, or the source hash of a checked hash-based pyc), because the interpreter
silently recompiles from source when a header does not match. The manifest records, per placed
file, its source, header verdict and SHA-256 of the file and of its marshal payload.

    python layout.py --from REWRITTEN_CORPUS_DIR --manifest OUT.json
"""
from __future__ import print_function

import hashlib
import json
import os
import shutil
import struct
import sys

PY2 = sys.version_info[0] == 2
if PY2:
    import imp
    MAGIC = imp.get_magic()
    HEADER = 8
    CACHE_TAG = None
else:
    import importlib.util
    MAGIC = importlib.util.MAGIC_NUMBER
    HEADER = 16 if sys.version_info >= (3, 7) else 12
    CACHE_TAG = sys.implementation.cache_tag


def stdlib_root():
    """The sys.path entry the interpreter imports the standard library from."""
    for entry in sys.path:
        if entry and os.path.isfile(os.path.join(entry, 'os.py')):
            return os.path.realpath(entry)
    raise SystemExit('layout: no sys.path entry holds os.py')


def source_for(rel):
    """The source path (relative to the stdlib) a corpus .pyc was compiled from, or None."""
    head, name = os.path.split(rel)
    if PY2:
        return rel[:-1] if rel.endswith('.pyc') else None
    if os.path.basename(head) != '__pycache__':
        return None
    suffix = '.' + CACHE_TAG + '.pyc'
    if not name.endswith(suffix):
        return None
    return os.path.join(os.path.dirname(head), name[:-len(suffix)] + '.py')


def destination(source):
    if PY2:
        return source + 'c'
    return importlib.util.cache_from_source(source)


def header_problem(data, source):
    """Why the interpreter would not accept this header for `source`, or None."""
    if data[:4] != MAGIC:
        return 'magic %r, interpreter wants %r' % (data[:4], MAGIC)
    st = os.stat(source)
    mtime = int(st.st_mtime) & 0xFFFFFFFF
    size = st.st_size & 0xFFFFFFFF
    if PY2:
        (h_mtime,) = struct.unpack('<I', data[4:8])
        return None if h_mtime == mtime else 'mtime %d, source %d' % (h_mtime, mtime)
    if sys.version_info < (3, 7):
        h_mtime, h_size = struct.unpack('<II', data[4:12])
    else:
        (flags,) = struct.unpack('<I', data[4:8])
        if flags & ~0b11:
            return 'invalid flags %#x' % flags
        if flags & 1:
            if not flags & 2:
                return None      # unchecked hash-based: accepted as is
            import _imp
            from importlib import _bootstrap_external
            want = _imp.source_hash(_bootstrap_external._RAW_MAGIC_NUMBER, open(source, 'rb').read())
            return None if data[8:16] == want else 'source hash differs'
        h_mtime, h_size = struct.unpack('<II', data[8:16])
    if h_mtime != mtime:
        return 'mtime %d, source %d' % (h_mtime, mtime)
    if h_size != size:
        return 'size %d, source %d' % (h_size, size)
    return None


def main(argv):
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument('--from', dest='src', required=True)
    parser.add_argument('--manifest', required=True)
    parser.add_argument('--copy', action='store_true', help='copy instead of moving')
    args = parser.parse_args(argv)
    root = stdlib_root()
    manifest = {}
    missing = []
    bad = []
    for dirpath, dirnames, filenames in os.walk(args.src):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith('.pyc'):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, args.src)
            srel = source_for(rel)
            source = os.path.join(root, srel) if srel else None
            if source is None or not os.path.isfile(source):
                missing.append(rel)
                continue
            dest = destination(source)
            with open(path, 'rb') as f:
                data = f.read()
            problem = header_problem(data, source)
            if problem:
                bad.append('%s: %s' % (dest, problem))
            parent = os.path.dirname(dest)
            if not os.path.isdir(parent):
                os.makedirs(parent)
            if args.copy:
                shutil.copyfile(path, dest)
            else:
                shutil.move(path, dest)
            manifest[os.path.realpath(dest)] = {
                'source': os.path.realpath(source),
                'sha256': hashlib.sha256(data).hexdigest(),
                'payload_sha256': hashlib.sha256(data[HEADER:]).hexdigest(),
                'header_problem': problem,
            }
    with open(args.manifest, 'w') as f:
        json.dump({'stdlib': root, 'header_size': HEADER, 'files': manifest,
                   'missing_sources': missing, 'header_mismatches': bad}, f, indent=0, sort_keys=True)
    print('layout: placed %d files for %s (%d without a source, %d header mismatches)'
          % (len(manifest), root, len(missing), len(bad)))
    for line in bad[:20]:
        print('layout: header mismatch: ' + line, file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
