"""Execution conformance: CPython's regression tests on the untouched and on the rewritten stdlib.

Called by Scripts/exec-tests.sh (which builds pyckit and the corpus first); runs on any Python
3.6+. For each version it rewrites the stdlib corpus with `pyckit rewrite`, puts the result where
the interpreter loads it from (3.8+: a -X pycache_prefix directory; 2.7/3.6/3.7: a copied prefix
whose library tree holds the rewritten .pyc and no other), proves the placement (headers match
the sources; a -v probe shows the startup modules load from it), then runs each regression test
twice, untouched and rewritten, in run_regrtest.py, which proves per run which bytecode was
loaded. It exits 1 when a test does worse on the rewritten library or a proof fails.
"""
import argparse
import concurrent.futures
import fnmatch
import hashlib
import json
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ALL_VERSIONS = ['2.7', '3.6', '3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13']
TESTS = ['test_grammar', 'test_exceptions', 'test_with', 'test_contextlib', 'test_generators', 'test_scope',
         'test_class', 'test_descr', 'test_dict', 'test_set', 'test_list', 'test_tuple', 'test_string',
         'test_json', 'test_re', 'test_functools', 'test_itertools', 'test_collections', 'test_traceback',
         'test_sys_settrace', 'test_argparse', 'test_unittest', 'test_coroutines', 'test_asyncgen',
         'test_dataclasses', 'test_enum', 'test_typing']
RANK = {'pass': 3, 'env': 3, 'skip': 1, 'none': 1, 'fail': 0, 'timeout': 0, 'error': 0}
DEFAULT_REWRITE = '--layer abstract --pad-nops'


def log(message):
    print(message, flush=True)


def find_interpreter(root, version):
    base = os.path.join(root, 'versions')
    if not os.path.isdir(base):
        return None
    found = [d for d in os.listdir(base) if d == version or d.startswith(version + '.')]
    found = [d for d in found if re.match(r'^%s\.\d+$' % re.escape(version), d)]
    found.sort(key=lambda d: [int(p) for p in d.split('.')])
    for d in reversed(found):
        python = os.path.join(base, d, 'bin', 'python')
        if os.access(python, os.X_OK):
            return python
    return None


def clean_env(path=None):
    """The environment of every interpreter run: no PYTHON* variables but PYTHONDONTWRITEBYTECODE,
    and PYTHONPATH when `path` (directories) is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('PYTHON')}
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    if path:
        env['PYTHONPATH'] = os.pathsep.join(path)
    return env


def run(cmd, path=None, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          env=clean_env(path), **kwargs)


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def describe_exit(code):
    if code < 0:
        try:
            return 'killed by %s' % signal.Signals(-code).name
        except ValueError:
            return 'killed by signal %d' % -code
    return 'exit status %d' % code


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fmt_seconds(s):
    return '%dm%02ds' % (s // 60, s % 60) if s >= 60 else '%.0fs' % s


class Version:
    """Everything one interpreter version needs: paths, flags, the placed rewritten library."""

    def __init__(self, name, python, args, work):
        self.name = name
        self.python = python                # the untouched interpreter
        self.args = args
        self.work = os.path.join(work, name)
        self.info = json.loads(run([python, '-c', 'import sys, json; print(json.dumps('
                                    '{"v": list(sys.version_info[:3])}))']).stdout)
        self.vinfo = tuple(self.info['v'][:2])
        self.flags = ['-B', '-s']
        if self.vinfo >= (3, 11):
            self.flags += ['-X', 'frozen_modules=off']    # startup modules from .pyc, not frozen
        self.rewritten_python = python
        self.rewritten_flags = list(self.flags)
        # --path directories: on PYTHONPATH of rewritten runs (3.8+), copied into the copied
        # prefix's lib-dynload (2.7-3.7, whose test subprocesses run with -E or -I too)
        self.rewritten_path = [os.path.abspath(d) for d in (args.path or [])]
        self.path_modules = set(n[:-3] for d in self.rewritten_path for n in os.listdir(d) if n.endswith('.py'))
        self.placement_root = None          # where the placed .pyc live (checked for strays)
        self.manifest_path = os.path.join(self.work, 'manifest.json')
        self.problems = []                  # proof failures (fatal)
        self.notes = []
        self.times = {}

    # -- setup -------------------------------------------------------------------------------
    def prepare(self, pyckit, corpus):
        t0 = time.time()
        os.makedirs(self.work)
        rewritten = os.path.join(self.work, 'rewritten')
        if self.args.inject is not None:
            cmd = [pyckit, 'inject', corpus, '-o', rewritten, '--quiet'] + shlex.split(self.args.inject)
        else:
            cmd = [pyckit, 'rewrite', corpus, '-o', rewritten, '--quiet'] + shlex.split(self.args.rewrite_args)
        if self.args.jobs:
            cmd += ['--jobs', str(self.args.jobs)]
        p = run(cmd)
        if p.returncode != 0:
            raise SetupError('pyckit %s failed (%d): %s' % (cmd[1], p.returncode, (p.stderr or p.stdout).strip()[-2000:]))
        kept = 0
        for pattern in self.args.keep_original or []:
            for dirpath, _, filenames in os.walk(corpus):
                for name in filenames:
                    rel = os.path.relpath(os.path.join(dirpath, name), corpus)
                    if fnmatch.fnmatch(rel, pattern):
                        shutil.copy2(os.path.join(corpus, rel), os.path.join(rewritten, rel))
                        kept += 1
        if self.args.keep_original:
            self.notes.append('%d files kept as compiled (--keep-original %s)'
                              % (kept, ' '.join(self.args.keep_original)))
        self.times['rewrite'] = time.time() - t0
        t1 = time.time()
        if self.vinfo >= (3, 8):
            prefix = os.path.join(self.work, 'pycache')
            os.makedirs(prefix)
            self.rewritten_flags += ['-X', 'pycache_prefix=' + prefix]
            self.placement_root = prefix
        else:
            self.copy_prefix()
        p = run([self.rewritten_python] + self.rewritten_flags +
                [os.path.join(HERE, 'layout.py'), '--from', rewritten, '--manifest', self.manifest_path],
                path=self.rewritten_path)
        if p.returncode != 0:
            raise SetupError('layout failed: ' + (p.stderr or p.stdout).strip()[-2000:])
        log('[%s] %s' % (self.name, p.stdout.strip()))
        with open(self.manifest_path) as f:
            self.manifest = json.load(f)
        if self.vinfo < (3, 8) and not self.manifest['stdlib'].startswith(os.path.realpath(self.work) + os.sep):
            raise SetupError('the copied interpreter imports its stdlib from %s, not from the copy'
                             % self.manifest['stdlib'])
        for line in self.manifest['header_mismatches']:
            self.problems.append('header does not match source: ' + line)
        if not self.manifest['files']:
            raise SetupError('no rewritten .pyc were placed')
        self.times['place'] = time.time() - t1

    def copy_prefix(self):
        """2.7/3.6/3.7: a copy of the interpreter whose library tree holds only rewritten .pyc."""
        real = os.path.realpath(self.python)
        prefix = os.path.dirname(os.path.dirname(real))
        lib = json.loads(run([self.python, '-c', 'import os, sys, json; print(json.dumps([os.path.realpath(p) '
                              'for p in sys.path if p and os.path.isfile(os.path.join(p, "os.py"))]))']).stdout)[0]
        copy = os.path.join(self.work, 'prefix')
        os.makedirs(os.path.join(copy, 'bin'))
        exe = os.path.join(copy, 'bin', os.path.basename(real))
        shutil.copy2(real, exe)
        # copytree copies mtimes (copy2), so the .pyc headers still match their sources
        shutil.copytree(lib, os.path.join(copy, os.path.relpath(lib, prefix)), symlinks=True,
                        ignore=shutil.ignore_patterns('__pycache__', '*.pyc', '*.pyo', '*.a', 'site-packages'))
        os.makedirs(os.path.join(copy, os.path.relpath(lib, prefix), 'site-packages'))
        # --path modules go to lib-dynload: on sys.path from the start (site-packages is added
        # only after site.py has imported os, whose instrumented code may already need them)
        # and, like site-packages, outside what the proofs count as the standard library
        dynload = os.path.join(copy, os.path.relpath(lib, prefix), 'lib-dynload')
        for d in self.rewritten_path:
            for name in os.listdir(d):
                if name.endswith('.py'):
                    shutil.copy2(os.path.join(d, name), os.path.join(dynload, name))
        self.rewritten_path = []
        self.rewritten_python = exe
        self.placement_root = os.path.join(copy, os.path.relpath(lib, prefix))

    def probe(self):
        """Prove the startup modules (imported before run_regrtest.py could hook) load from the
        rewritten files: `-v` makes the import system name the file each code object came from."""
        out = os.path.join(self.work, 'probe.json')
        p = run([self.rewritten_python] + self.rewritten_flags + ['-v', os.path.join(HERE, 'run_regrtest.py'),
                 '--probe', '--out', out, '--manifest', self.manifest_path], cwd=self.work,
                path=self.rewritten_path)
        if p.returncode != 0:
            raise SetupError('the -v probe (%s) exited %s; last lines:\n%s' % (
                ' '.join(p.args), describe_exit(p.returncode), '\n'.join(p.stderr.strip().splitlines()[-15:])))
        with open(out) as f:
            result = json.load(f)
        from_pyc, from_source = set(), set()
        for line in p.stderr.splitlines():
            m = re.match(r"^# code object from '(.+)'$", line) or re.match(r'^import \S+ # precompiled from (.+)$', line)
            if m:
                from_pyc.add(os.path.realpath(m.group(1)))
                continue
            m = re.match(r'^# code object from (.+\.py)$', line) or re.match(r'^import \S+ # from (.+\.py)$', line)
            if m:
                from_source.add(os.path.realpath(m.group(1)))
        stdlib = self.manifest['stdlib'] + os.sep
        outside = tuple(stdlib + d + os.sep for d in ('site-packages', 'dist-packages', 'lib-dynload'))
        for source in sorted(from_source):
            if source.startswith(stdlib) and not source.startswith(outside):   # .pth files may import
                self.problems.append('startup: compiled from source %s' % source)
        self.proven_early = set()       # .pyc paths
        for name, source, pyc in result['early']:
            if pyc in from_pyc and pyc in self.manifest['files']:
                self.proven_early.add(pyc)
            else:
                self.problems.append('startup module %s: not loaded from %s' % (name, pyc))
        for e in result['errors']:
            self.problems.append('startup: ' + e)
        if self.vinfo < (3,):
            self.notes.append('startup modules: checked by __file__, which 2.7 points at the .pyc it loaded')
        else:
            self.notes.append('%d startup modules proven by the -v probe' % len(self.proven_early))

    def check_untouched(self):
        """After the runs: the placed files are byte-identical and no other .pyc appeared."""
        changed = [p for p, e in self.manifest['files'].items()
                   if not os.path.exists(p) or sha256(p) != e['sha256']]
        for p in changed[:20]:
            self.problems.append('rewritten file changed or removed during the runs: ' + p)
        strays = []
        for dirpath, _, filenames in os.walk(self.placement_root):
            for name in filenames:
                if name.endswith(('.pyc', '.pyo')) and name.split('.', 1)[0] in self.path_modules:
                    continue        # a --path module (2.7 probe.pyc, 3.x __pycache__/probe.cpython-36.pyc)
                    #                 compiled by a test's subprocess (no -B there)
                if name.endswith(('.pyc', '.pyo')):
                    path = os.path.realpath(os.path.join(dirpath, name))
                    if path not in self.manifest['files']:
                        strays.append(path)
        for p in strays[:20]:
            self.problems.append('a .pyc was written during the runs: ' + p)
        self.notes.append('%d rewritten files unchanged, %d new .pyc' % (len(self.manifest['files']) - len(changed),
                                                                          len(strays)))

    # -- test runs ---------------------------------------------------------------------------
    def available_tests(self, tests):
        testdir = os.path.join(self.manifest['stdlib'], 'test')
        have = []
        for t in tests:
            if os.path.isfile(os.path.join(testdir, t + '.py')) or os.path.isdir(os.path.join(testdir, t)):
                have.append(t)
        return have

    def run_test(self, test, mode, verbose=False):
        rewritten = mode == 'rewritten'
        python = self.rewritten_python if rewritten else self.python
        flags = self.rewritten_flags if rewritten else self.flags
        label = mode + '-' + test + ('-verbose' if verbose else '')
        cwd = os.path.join(self.work, 'cwd', label)
        os.makedirs(cwd)
        out = os.path.join(self.work, 'results', label + '.json')
        logpath = os.path.join(self.work, 'logs', label + '.log')
        cmd = [python] + flags + [os.path.join(HERE, 'run_regrtest.py'), '--test', test, '--out', out]
        if self.args.resources:
            cmd += ['--resources', self.args.resources]
        if self.args.verbose_tests or verbose:
            cmd.append('--verbose')
        if rewritten:
            cmd += ['--manifest', self.manifest_path]
            if self.args.marker:
                cmd += ['--marker', '--marker-min-coverage', str(self.args.marker_min_coverage)]
        start = time.time()
        with open(logpath, 'w') as logf:
            logf.write('$ %s\n' % ' '.join(shlex.quote(c) for c in cmd))
            logf.flush()
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=logf, stderr=subprocess.STDOUT,
                                    env=clean_env(self.rewritten_path if rewritten else None),
                                    start_new_session=True)
            try:
                proc.wait(timeout=self.args.timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return {'state': 'timeout', 'seconds': time.time() - start, 'log': logpath, 'errors': []}
        seconds = time.time() - start
        if not os.path.exists(out):
            return {'state': 'error', 'seconds': seconds, 'log': logpath, 'errors': [],
                    'detail': 'no result (%s)' % describe_exit(proc.returncode)}
        with open(out) as f:
            result = json.load(f)
        result['seconds'] = seconds
        result['log'] = logpath
        return result


class SetupError(Exception):
    pass


def run_program(version, args):
    """--program: runs FILE on the rewritten library (cwd: its own directory under the work
    directory); returns (passed, exit description, output)."""
    cwd = os.path.join(version.work, 'cwd', 'program')
    os.makedirs(cwd)
    cmd = [version.rewritten_python] + version.rewritten_flags + [os.path.abspath(args.program)]
    try:
        p = run(cmd, path=version.rewritten_path, cwd=cwd, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return False, 'timeout after %ds' % args.timeout, ''
    return p.returncode == 0, describe_exit(p.returncode), (p.stdout + p.stderr).rstrip()


def run_version(version, tests, args, lock):
    """Set up, run both modes of every test, check. Returns a summary dict."""
    t0 = time.time()
    cpu0 = children_cpu()
    summary = {'version': version.name, 'rows': [], 'problems': version.problems, 'notes': version.notes}
    try:
        version.prepare(args.pyckit, os.path.join(args.corpus, version.name))
        version.probe()
    except SetupError as e:
        version.problems.append('setup: %s' % e)
        summary['seconds'] = time.time() - t0
        summary['status'] = 'SETUP FAILED'
        return summary
    have = version.available_tests(tests)
    missing = [t for t in tests if t not in have]
    for d in ('cwd', 'results', 'logs'):
        os.makedirs(os.path.join(version.work, d))
    jobs = [(t, m) for t in have for m in ('untouched', 'rewritten')]
    results = {}
    t1 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(version.run_test, t, m): (t, m) for t, m in jobs}
        for fut in concurrent.futures.as_completed(futures):
            t, m = futures[fut]
            try:
                r = fut.result()
            except Exception as e:      # a bug here must not pass silently
                r = {'state': 'error', 'seconds': 0, 'errors': [], 'detail': repr(e), 'log': ''}
            results[(t, m)] = r
            with lock:
                log('[%s] %-9s %-18s %-7s %6.1fs' % (version.name, m, t, r['state'], r['seconds']))
    version.times['tests'] = time.time() - t1
    program_failed = False
    if args.program:
        t2 = time.time()
        passed, how, output = run_program(version, args)
        version.times['program'] = time.time() - t2
        program_failed = not passed
        summary['program'] = (os.path.basename(args.program), passed, how, output)
    version.check_untouched()
    loads = 0
    marker_objects = 0
    untouched_errors = 0
    regressions = []
    for t in tests:
        if t in missing:
            summary['rows'].append((t, 'n/a', 'n/a', None, None, ''))
            continue
        u, r = results[(t, 'untouched')], results[(t, 'rewritten')]
        note = ''
        if r['state'] == 'error':               # a crash, or the harness failed: no result, no proof
            note = 'rewritten: %s' % r.get('detail')
        if u['state'] == 'error':
            untouched_errors += 1
            note = 'untouched: %s' % u.get('detail') + ('; ' + note if note else '')
        for e in r.get('errors', []):
            version.problems.append('%s: %s' % (t, e))
        for name, source, pyc in r.get('early', []):
            if pyc not in version.proven_early:
                version.problems.append('%s: startup module %s not covered by the probe' % (t, name))
        if r.get('marker'):
            mk = r['marker']
            note = 'NOP before %.1f%% of %d instructions' % (100.0 * mk['covered'] / max(1, mk['instructions']),
                                                            mk['instructions'])
            marker_objects += mk['code_objects']
            for ex in mk['examples'][:3]:
                version.problems.append('%s: no NOP padding: %s %s line %s (%d/%d)' % ((t,) + tuple(ex)))
        loads = max(loads, (r.get('modules') or {}).get('pyc', 0))
        worse = RANK[r['state']] < RANK[u['state']]
        if worse:
            regressions.append(t)
            # the verdict stands; a verbose rerun only adds the details regrtest hides by default
            again = version.run_test(t, 'rewritten', verbose=True)
            note = 'WORSE; verbose rerun: %s, see %s' % (again['state'], again.get('log', '')) + \
                ('; ' + note if note else '')
        elif u['state'] not in ('pass', 'env'):
            note = ('already %s untouched' % u['state']) + ('; ' + note if note else '')
        summary['rows'].append((t, u['state'], r['state'], u['seconds'], r['seconds'], note))
    if have and untouched_errors == len(have):
        version.problems.append('no untouched run produced a result: the harness is broken; see %s'
                                % os.path.join(version.work, 'logs'))
    version.notes.insert(0, 'up to %d stdlib modules per run loaded from rewritten .pyc' % loads)
    if args.marker:
        version.notes.insert(1, 'NOP padding checked in %d code objects over all runs' % marker_objects)
    version.times['total'] = time.time() - t0
    version.times['cpu'] = children_cpu() - cpu0      # load-independent: wall ~ cpu / jobs when idle
    summary['seconds'] = version.times['total']
    summary['times'] = version.times
    summary['regressions'] = regressions
    if version.problems:
        summary['status'] = 'PROOF FAILED'
    elif program_failed:
        summary['status'] = 'PROGRAM FAILED'
    elif regressions:
        summary['status'] = 'WORSE: ' + ', '.join(regressions)
    else:
        summary['status'] = 'OK'
    return summary


def print_version(s, args):
    log('')
    log('== %s: %s  (%s)' % (s['version'], s['status'], fmt_seconds(s['seconds'])))
    if s['rows']:
        log('   %-20s %-10s %-10s %8s %8s  %s' % ('test', 'untouched', 'rewritten', 'time', 'time', ''))
        for t, u, r, ut, rt, note in s['rows']:
            log('   %-20s %-10s %-10s %8s %8s  %s' % (t, u, r, '' if ut is None else '%.1fs' % ut,
                                                    '' if rt is None else '%.1fs' % rt, note))
    if s.get('program'):
        name, passed, how, output = s['program']
        log('   program %s on the rewritten library: %s (%s)' % (name, 'passed' if passed else 'FAILED', how))
        for line in output.splitlines()[-40:]:
            log('     | ' + line)
    if s.get('times'):
        log('   time: ' + ', '.join('%s %s' % (k, fmt_seconds(v)) for k, v in s['times'].items()) +
            ' (cpu: user+sys of all processes)')
    for n in s['notes']:
        log('   ' + n)
    for p in s['problems'][:40]:
        log('   PROOF: ' + p)
    if len(s['problems']) > 40:
        log('   PROOF: ... %d more' % (len(s['problems']) - 40))


def main(argv):
    parser = argparse.ArgumentParser(prog='Scripts/exec-tests.sh', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('versions', nargs='*', help='X.Y versions (default: all nine)')
    parser.add_argument('--pyckit', required=True)
    parser.add_argument('--corpus', required=True)
    parser.add_argument('--rewrite-args', default=DEFAULT_REWRITE,
                        help='arguments for pyckit rewrite (default: %(default)r)')
    parser.add_argument('--inject', metavar='ARGS',
                        help="run `pyckit inject ARGS` instead of pyckit rewrite, e.g. --inject \"--all-functions "
                             "--at-entry '__import__(\\\"probe\\\").enter()' ...\" (see README)")
    parser.add_argument('--path', action='append', metavar='DIR',
                        help='a directory of modules the rewritten runs import (probe modules): on PYTHONPATH '
                             '(3.8+) or copied into the copied prefix\'s lib-dynload (2.7-3.7); repeatable')
    parser.add_argument('--keep-original', action='append', metavar='GLOB',
                        help='corpus files (relative paths, fnmatch) to load as compiled, not rewritten; '
                             'repeatable')
    parser.add_argument('--program', metavar='FILE',
                        help='also run FILE on the rewritten library; a non-zero exit fails the version')
    parser.add_argument('--marker', dest='marker', action='store_true', default=None,
                        help='require NOP padding in every loaded code object (default: on with --pad-nops)')
    parser.add_argument('--no-marker', dest='marker', action='store_false')
    parser.add_argument('--marker-min-coverage', type=float, default=0.5,
                        help='share of the instructions of each code object that must follow a NOP '
                             '(default 0.5; or all but 3, and always at least one; see nopmarker.py)')
    parser.add_argument('--tests', help='comma-separated test names (default: the built-in list)')
    parser.add_argument('--jobs', '-j', type=int, default=os.cpu_count() or 2)
    parser.add_argument('--timeout', type=int, default=1200, help='seconds per test run (default 1200)')
    parser.add_argument('--resources', '-u', help='regrtest -u resources (default: none)')
    parser.add_argument('--verbose-tests', action='store_true', help='run regrtest with -v')
    parser.add_argument('--work', help='work directory (default: a temporary one, removed unless --keep)')
    parser.add_argument('--keep', action='store_true', help='keep the work directory')
    parser.add_argument('--list-versions', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.marker is None:
        args.marker = args.inject is None and '--pad-nops' in shlex.split(args.rewrite_args)
    versions = args.versions or ALL_VERSIONS
    for v in versions:
        if not re.match(r'^\d\.\d+$', v):
            parser.error('not a version: %r' % v)
    if args.list_versions:          # for exec-tests.sh: which corpora to build
        print(' '.join(versions))
        return 0
    tests = [] if args.tests == 'none' else args.tests.split(',') if args.tests else TESTS
    root = os.environ.get('PYENV_ROOT')
    if not root and shutil.which('pyenv'):
        root = run(['pyenv', 'root']).stdout.strip()
    root = root or os.path.expanduser('~/.pyenv')
    work = args.work or tempfile.mkdtemp(prefix='pyckit-exec-')
    os.makedirs(work, exist_ok=True)
    what = ('inject ' + args.inject) if args.inject is not None else ('rewrite ' + args.rewrite_args)
    log('exec-tests: %s; marker %s; jobs %d; work %s' % (what, 'on' if args.marker else 'off', args.jobs, work))
    summaries = []
    lock = threading.Lock()
    for v in versions:
        python = find_interpreter(root, v)
        if python is None:
            log('[%s] skip: no interpreter under %s/versions' % (v, root))
            summaries.append({'version': v, 'status': 'SKIPPED (no interpreter)', 'rows': [], 'problems': [],
                              'notes': [], 'seconds': 0})
            continue
        if not os.path.isdir(os.path.join(args.corpus, v)):
            log('[%s] skip: no corpus at %s' % (v, os.path.join(args.corpus, v)))
            summaries.append({'version': v, 'status': 'SKIPPED (no corpus)', 'rows': [], 'problems': [],
                              'notes': [], 'seconds': 0})
            continue
        if os.path.exists(os.path.join(work, v)):
            shutil.rmtree(os.path.join(work, v))
        log('[%s] %s' % (v, python))
        s = run_version(Version(v, python, args, work), tests, args, lock)
        print_version(s, args)
        summaries.append(s)
    log('')
    log('== summary (%s)' % what)
    log('   %-7s %-8s %-8s %5s %5s %5s %5s  %s' % ('version', 'wall', 'cpu', 'pass', 'skip', 'fail', 'worse',
                                                    'status'))
    failed = False
    for s in summaries:
        rows = [r for r in s['rows'] if r[2] != 'n/a']
        count = lambda state: sum(1 for r in rows if RANK.get(r[2]) == RANK[state])
        cpu = s.get('times', {}).get('cpu')
        log('   %-7s %-8s %-8s %5d %5d %5d %5d  %s' % (s['version'], fmt_seconds(s['seconds']),
                                                    '' if cpu is None else fmt_seconds(cpu), count('pass'),
                                                    count('skip'), count('fail'), len(s.get('regressions', [])),
                                                    s['status']))
        if not (s['status'] == 'OK' or s['status'].startswith('SKIPPED')):
            failed = True
    if not args.work and not args.keep and not failed:
        shutil.rmtree(work, ignore_errors=True)
    elif not args.work:
        log('work directory kept: ' + work)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
