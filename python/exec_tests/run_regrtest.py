"""Run one CPython regression test in this process and prove which bytecode it ran.

Runs inside the interpreter under test (2.7 and 3.6+):

    python -B -s [-X pycache_prefix=DIR] run_regrtest.py --test test_json --out RESULT.json
           [--manifest MANIFEST.json] [--marker] [--resources RES] [--verbose]
    python -B -s -v ... run_regrtest.py --probe --out EARLY.json

The first thing it does, before importing anything, is hook the import system (3.x):
`_bootstrap_external._compile_bytecode` (every module code object unmarshalled from a .pyc goes
through it, with the .pyc path and the payload bytes) and `SourceLoader.source_to_code` (every
recompile from source). Then it runs the test with regrtest's own main (test.regrtest on 2.7,
test.libregrtest from 3.6) and reads the per-test verdict from regrtest's result lists.

With --manifest (the rewritten run) it then proves, for every standard-library source module the
process imported (3.x: every load seen by the hooks plus sys.modules at the end; 2.7: sys.modules
after the test and again before regrtest unloads the test's modules):
  * it was loaded from the .pyc the manifest placed for its source: 3.x, the hooked load names
    that path and its payload hashes to the manifest's SHA-256; 2.7, the module's __file__ is
    that .pyc (2.7 sets __file__ to the .pyc only when it loaded the code from it) and the file
    still hashes to the manifest;
  * no standard-library source was compiled by the import system (a header mismatch makes the
    interpreter recompile silently);
  * every function and method defined by the module is a code object of that .pyc's marshalled
    tree (code equality compares code, constants, names, line table; not the file name);
  * with --marker, every code object loaded from a rewritten .pyc (and every function's code)
    carries the NOP padding (nopmarker.py states the rule).
Modules imported before this script ran (interpreter startup) cannot be hooked; they are
written to the result as `early` and the driver proves them with a `-v` probe run (--probe),
whose stderr names the file each startup module's code object came from.
"""
import sys

# -- hooks first: nothing below may import before they are installed -------------------------
_EARLY = {}
for _name, _module in list(sys.modules.items()):
    _EARLY[_name] = getattr(_module, '__file__', None)
_LOADS = []        # (source_path, bytecode_path, payload bytes, code object)
_RECOMPILES = []   # source paths the import system compiled
_PY2 = sys.version_info[0] == 2

if not _PY2:
    _ext = sys.modules['_frozen_importlib_external']
    _orig_compile_bytecode = _ext._compile_bytecode
    _orig_source_to_code = _ext.SourceLoader.source_to_code

    def _compile_bytecode(data, name=None, bytecode_path=None, source_path=None):
        code = _orig_compile_bytecode(data, name, bytecode_path, source_path)
        _LOADS.append((source_path, bytecode_path, bytes(data), code))
        return code

    def _source_to_code(self, data, path, *args, **kwargs):
        code = _orig_source_to_code(self, data, path, *args, **kwargs)
        _RECOMPILES.append(path)
        return code

    _ext._compile_bytecode = _compile_bytecode
    _ext.SourceLoader.source_to_code = _source_to_code

# -- the rest of the script may import freely ---------------------------------------------------
import hashlib  # noqa: E402
import json  # noqa: E402
import marshal  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402

import nopmarker  # noqa: E402  (beside this script, which is sys.path[0])


def _stdlib_root():
    for entry in sys.path:
        if entry and os.path.isfile(os.path.join(entry, 'os.py')):
            return os.path.realpath(entry)
    return None


STDLIB = _stdlib_root()
_EXCLUDED = tuple(os.path.join(STDLIB, d) + os.sep for d in ('site-packages', 'dist-packages', 'lib-dynload'))


def in_stdlib(path):
    """Is `path` a file of the standard library's own tree (not site-packages or lib-dynload)?"""
    if not path:
        return False
    real = os.path.realpath(path)
    return real.startswith(STDLIB + os.sep) and not real.startswith(_EXCLUDED)


def expected_pyc(source):
    """The .pyc the import system looks for when it imports `source`."""
    if _PY2:
        return os.path.realpath(source + 'c')
    import importlib.util
    return os.path.realpath(importlib.util.cache_from_source(source))


_EARLY_FILES = []


def _early_files():
    """Real paths of the files of the modules imported before the hooks (aliases such as 3.13's
    collections.abc -> _collections_abc appear later under another name)."""
    if not _EARLY_FILES:
        _EARLY_FILES.append(set(os.path.realpath(f) for f in _EARLY.values() if f))
    return _EARLY_FILES[0]


def is_frozen(module):
    spec = getattr(module, '__spec__', None)
    if spec is None:
        return False
    loader = getattr(spec, 'loader', None)
    return spec.origin == 'frozen' or getattr(loader, '__name__', '') == 'FrozenImporter' \
        or type(loader).__name__ == 'FrozenImporter'


# -- running the test --------------------------------------------------------------------------

def run_regrtest(test, resources, verbose, after_test):
    """Run `test` with regrtest's main in this process; returns (state, exit code)."""
    argv = []
    if resources:
        argv += ['-u', resources]
    if verbose:
        argv.append('-v')
    if _PY2:
        from test import regrtest
        results = []
        original_runtest = regrtest.runtest
        original_unload = regrtest.unload_test_modules

        def runtest(*args, **kwargs):
            result = original_runtest(*args, **kwargs)
            results.append(result[0])
            return result

        def unload_test_modules(save_modules):
            after_test()        # the test's own modules are still in sys.modules here
            return original_unload(save_modules)

        regrtest.runtest = runtest
        regrtest.unload_test_modules = unload_test_modules
        sys.argv = ['regrtest'] + argv
        code = 0
        try:
            regrtest.main(tests=[test])
        except SystemExit as exc:
            code = exc.code
        names = {regrtest.PASSED: 'pass', regrtest.ENV_CHANGED: 'env', regrtest.SKIPPED: 'skip',
                 regrtest.RESOURCE_DENIED: 'skip', getattr(regrtest, 'TEST_DID_NOT_RUN', 'none'): 'none'}
        state = names.get(results[-1], 'fail') if results else 'fail'
        return state, code

    __import__('test.libregrtest.main')
    regrtest_main = sys.modules['test.libregrtest.main']   # the package re-exports main() as `main`
    Regrtest = regrtest_main.Regrtest
    if Regrtest.__init__.__code__.co_argcount > 1:          # 3.11.7+: Regrtest(ns)
        runner = Regrtest(regrtest_main._parse_args(argv))
    else:                                                   # 3.6 - 3.11.6: parses sys.argv
        sys.argv = ['python -m test'] + argv
        runner = Regrtest()
    code = 0
    try:
        runner.main(tests=[test])
    except SystemExit as exc:
        code = exc.code
    try:
        import faulthandler
        faulthandler.cancel_dump_traceback_later()  # regrtest arms a 2-minute exit watchdog
    except Exception:
        pass
    after_test()
    results = getattr(runner, 'results', runner)              # 3.12+ keeps them in .results
    env_changed = getattr(results, 'env_changed', None) or getattr(results, 'environment_changed', [])
    if test in results.bad:
        state = 'fail'
    elif test in env_changed:
        state = 'env'
    elif test in results.good:
        state = 'pass'
    elif test in results.skipped or test in getattr(results, 'resource_denied', []):
        state = 'skip'
    elif test in getattr(results, 'run_no_tests', []):
        state = 'none'
    else:
        state = 'fail'      # interrupted, crashed, or no verdict at all
    return state, code


# -- proving what was loaded ------------------------------------------------------------------

def _loose_key(code):
    """Code identity without the flags: types.coroutine and friends replace a function's code
    with a copy that differs only in co_flags."""
    return (code.co_name, code.co_firstlineno, code.co_code, code.co_consts, code.co_names)


class Proof(object):
    def __init__(self, manifest, marker):
        self.manifest = manifest            # None on the untouched run: collect, do not judge
        self.files = manifest['files'] if manifest else {}
        self.header_size = manifest['header_size'] if manifest else 0
        self.marker = marker
        self.errors = []
        self.modules = {}                   # name -> 'pyc' | 'early' | 'frozen'
        self.early = []                     # (name, source, expected pyc) to prove by probe
        self.trees = {}                     # pyc path -> set of code objects (content check)
        self.functions = 0
        self.marked_paths = set()

    def error(self, message):
        if len(self.errors) < 200 and message not in self.errors:
            self.errors.append(message)

    def pyc_tree(self, pyc):
        tree = self.trees.get(pyc)
        if tree is None:
            with open(pyc, 'rb') as f:
                code = marshal.loads(f.read()[self.header_size:])
            codes = list(nopmarker.code_tree(code))
            tree = (set(codes), set(_loose_key(c) for c in codes))
            self.trees[pyc] = tree
            if self.marker and pyc not in self.marked_paths:
                self.marked_paths.add(pyc)
                self.marker.check_tree(code, pyc)
        return tree

    def check_loads(self):
        """3.x: every hooked load and recompile of a standard-library source."""
        for source in _RECOMPILES:
            if in_stdlib(source):
                self.error('recompiled from source: %s' % source)
        for source, bytecode, payload, code in _LOADS:
            if not in_stdlib(source):
                continue
            pyc = os.path.realpath(bytecode)
            entry = self.files.get(pyc)
            if entry is None:
                self.error('loaded %s from %s, which the manifest did not place' % (source, bytecode))
                continue
            if hashlib.sha256(payload).hexdigest() != entry['payload_sha256']:
                self.error('loaded %s from %s, but its payload is not the rewritten one' % (source, bytecode))
            if self.marker and pyc not in self.marked_paths:
                self.marked_paths.add(pyc)
                self.marker.check_tree(code, pyc)

    def check_module(self, name, module):
        source = getattr(module, '__file__', None)
        if not source or not in_stdlib(source):
            return
        if is_frozen(module):
            self.modules[name] = 'frozen'
            return
        if _PY2:
            if source.endswith('.py'):
                self.error('%s was compiled from source %s' % (name, source))
                return
            if not source.endswith('.pyc'):
                return
            pyc = os.path.realpath(source)
            source = source[:-1]
        else:
            if not source.endswith('.py'):
                return
            pyc = expected_pyc(source)
            cached = getattr(module, '__cached__', None)
            if cached and os.path.realpath(cached) != pyc:
                self.error('%s: __cached__ is %s, expected %s' % (name, cached, pyc))
            real = os.path.realpath(source)
            loaded = [b for s, b, _, _ in _LOADS if s and os.path.realpath(s) == real]
            if not loaded:
                if name in _EARLY or real in _early_files():
                    if [name, real, pyc] not in self.early:
                        self.early.append([name, real, pyc])
                    self.modules[name] = 'early'
                elif self.manifest:
                    self.error('%s: no load of %s seen by the import hook' % (name, source))
                    return
        if self.manifest is None:
            self.modules.setdefault(name, 'pyc')
            return
        if pyc not in self.files:
            self.error('%s: %s is not a rewritten file' % (name, pyc))
            return
        self.modules.setdefault(name, 'pyc')
        if _PY2 and pyc not in self.trees:
            # 2.7 has no load hook: the file __file__ names must still be the rewritten one
            # (a subprocess without -B could have recompiled and replaced it)
            with open(pyc, 'rb') as f:
                payload = f.read()[self.header_size:]
            if hashlib.sha256(payload).hexdigest() != self.files[pyc]['payload_sha256']:
                self.error('%s: %s is no longer the rewritten file' % (name, pyc))
        try:
            tree = self.pyc_tree(pyc)
        except Exception as exc:
            self.error('%s: cannot read %s: %r' % (name, pyc, exc))
            return
        for code in self.defined_code(module, source):
            self.functions += 1
            if code not in tree[0] and _loose_key(code) not in tree[1]:
                self.error('%s: code of %s (line %d) is not in %s' % (name, code.co_name, code.co_firstlineno, pyc))
            elif self.marker is not None:
                self.marker.check_tree(code, pyc)

    def defined_code(self, module, source):
        """Code objects of the functions and methods `module` defines (filename is its source)."""
        real = os.path.realpath(source)
        seen = set()
        stack = list(vars(module).values())
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, (staticmethod, classmethod)):
                stack.append(obj.__func__)
            elif isinstance(obj, property):
                stack.extend(f for f in (obj.fget, obj.fset, obj.fdel) if f is not None)
            elif isinstance(obj, types.FunctionType):
                code = obj.__code__
                if code.co_filename == source or os.path.realpath(code.co_filename) == real:
                    yield code
            elif isinstance(obj, type) or (_PY2 and isinstance(obj, types.ClassType)):
                if getattr(obj, '__module__', None) == module.__name__:
                    try:
                        stack.extend(vars(obj).values())
                    except TypeError:
                        pass

    def scan_sys_modules(self):
        for name, module in list(sys.modules.items()):
            if module is None or name in self.modules and self.modules[name] != 'early':
                continue
            try:
                self.check_module(name, module)
            except Exception as exc:
                self.error('%s: proof failed: %r' % (name, exc))


def main(argv):
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument('--test')
    parser.add_argument('--out', required=True)
    parser.add_argument('--manifest')
    parser.add_argument('--marker', action='store_true')
    parser.add_argument('--marker-min-coverage', type=float, default=0.5)
    parser.add_argument('--marker-allowance', type=int, default=3)
    parser.add_argument('--resources')
    parser.add_argument('--verbose', action='store_true')
    parser.add_argument('--probe', action='store_true')
    args = parser.parse_args(argv)

    manifest = None
    if args.manifest:
        with open(args.manifest) as f:
            manifest = json.load(f)
    marker = nopmarker.MarkerCheck(args.marker_min_coverage, args.marker_allowance) if args.marker else None
    proof = Proof(manifest, marker)

    if args.probe:
        proof.scan_sys_modules()
        result = {'early': proof.early, 'errors': proof.errors}
        with open(args.out, 'w') as f:
            json.dump(result, f)
        return 0

    # A shell that starts a job in the background makes it ignore SIGINT, and Python then keeps
    # SIGINT ignored: give the test the handler a normal start installs (test_generators raises
    # SIGINT into a generator and expects KeyboardInterrupt).
    import signal
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)

    start = time.time()
    state, code = run_regrtest(args.test, args.resources, args.verbose, proof.scan_sys_modules)
    elapsed = time.time() - start
    if not _PY2:
        proof.check_loads()
    proof.scan_sys_modules()
    counts = {}
    for kind in proof.modules.values():
        counts[kind] = counts.get(kind, 0) + 1
    result = {
        'test': args.test,
        'state': state,
        'exit_code': code if isinstance(code, int) else str(code),
        'seconds': round(elapsed, 2),
        'version': '%d.%d' % sys.version_info[:2],
        'stdlib': STDLIB,
        'modules': counts,
        'functions_checked': proof.functions,
        'stdlib_loads_from_pyc': sum(1 for s, _, _, _ in _LOADS if in_stdlib(s)),
        'stdlib_recompiles': sum(1 for s in _RECOMPILES if in_stdlib(s)),
        'early': proof.early,
        'errors': proof.errors,
        'marker': marker.summary() if marker else None,
    }
    if marker is not None and marker.failure_count:
        proof.errors.append('%d code objects lack the NOP padding' % marker.failure_count)
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=1)
    sys.stdout.flush()
    sys.stderr.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
