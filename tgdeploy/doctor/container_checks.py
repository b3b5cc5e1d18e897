"""The doctor on the Containerfile tgdeploy --container wrote beside apache/, read against
the project: a Python its base image lacks, requirements its pip cannot install there,
replicas of state that lives in one process or one file, an edit by hand since tgdeploy
wrote it (reported, never overwritten). Files are read, nothing is built or run.

The base's Python is Debian's (settle/container.py DEBIAN_PYTHONS: the release named in
``ARG BASE=``); the requirements are what the project's virtualenv holds, read from its
metadata (settle/container_py27.py), which is what a build of the image installs.
"""
import os
import re

from tgdeploy.doctor.finding import finding
from tgdeploy.files import textfiles
from tgdeploy.files.stamped import edited
from tgdeploy.settle import container as settle_container
from tgdeploy.settle.container_py27 import normal_name, read_fields, site_packages

# Distributions PyPI lists with no files to install (FIELD-NOTES: TurboGears 1.x needs them).
NOT_ON_PYPI = ('PEAK-Rules', 'RuleDispatch', 'PyProtocols')
BASE_LINE = re.compile(r'^ARG BASE=(\S+)\s*$', re.M)
REPLICAS = re.compile(r'^\s*replicas:\s*(\d+)\s*$', re.M)
MAX_BYTES = 1024 * 1024

E_PYTHON, E_NOT_ON_PYPI, E_REQUIRES_PYTHON, E_REPLICAS, W_EDITED = (
    'TGD-E044', 'TGD-E045', 'TGD-E046', 'TGD-E047', 'TGD-W044')


def findings(values):
    """The findings about ``values``' project's Containerfile; none when it has none."""
    project = os.path.dirname(values.paths.apache_dir)
    path = os.path.join(project, 'Containerfile')
    if not os.path.isfile(path):
        return []
    data = textfiles.read_bytes(path, MAX_BYTES)
    found = []
    if edited(data):
        found.append(finding(W_EDITED, '%s was edited since tgdeploy wrote it: tgdeploy '
                             '--container keeps your edit and writes nothing until you '
                             'choose; review it against the project, or pass --overwrite '
                             '(yours is saved as Containerfile.bak)' % path))
    match = BASE_LINE.search(textfiles.decode(data)[0])
    base = match.group(1) if match else None
    pythons = base_pythons(base)
    wanted = '.'.join(values.python.version.split('.')[:2])
    if pythons and wanted not in pythons:
        found.append(finding(E_PYTHON, python_text(path, base, pythons, wanted)))
    used = [wanted] if wanted in pythons or not pythons else pythons[:1]
    found += requirement_findings(values, base, used[0])
    found += replica_findings(values)
    return found


def base_pythons(base):
    """The Pythons Debian's release of the image ``base`` has ([] when it names none)."""
    if not base:
        return []
    tag = base.rsplit('/', 1)[-1].split(':', 1)[-1]
    release = tag.split('-', 1)[0]
    return [version for version, name in settle_container.DEBIAN_PYTHONS if name == release]


def python_text(path, base, pythons, wanted):
    fitting = [name for version, name in settle_container.DEBIAN_PYTHONS if version == wanted]
    fix = ('build with --build-arg BASE=debian:%s-slim, or run tgdeploy --container again'
           % fitting[0]) if fitting else (
        'no Debian release has it: make the virtualenv with Python %s and run tgdeploy '
        '--container again' % ' or '.join(sorted(set(
            v for v, _ in settle_container.DEBIAN_PYTHONS), reverse=True)))
    return ('%s builds on %s, which has Python %s, not %s (the virtualenv\'s): its '
            'requirements and mod_wsgi would be for another Python; %s'
            % (path, base, ' and '.join(pythons), wanted, fix))


def requirement_findings(values, base, python):
    """What the image's pip cannot install on ``python``, the image's Python."""
    found = []
    own = set([normal_name(values.project.name or ''), normal_name(values.project.package or ''),
               'tgdeploy'])
    missing = dict((normal_name(name), name) for name in NOT_ON_PYPI)
    for name, version, fields, local in distributions(values.python.home):
        key = normal_name(name)
        if key in own:
            continue
        if key in missing:
            found.append(finding(E_NOT_ON_PYPI, (
                '%s %s is in the virtualenv, but PyPI lists %s with no files: the image\'s '
                'pip cannot install it; put its sdist or wheel where the build\'s pip finds '
                'it (find-links in the pip.conf of the build), or drop it'
                % (name, version, missing[key]))))
        elif local:
            found.append(finding(E_NOT_ON_PYPI, (
                '%s %s was installed from %s, not from an index: the image\'s pip cannot '
                'install it; publish it to your index, or make it a requirement of the '
                'project itself' % (name, version, local))))
        needs = fields.get('Requires-Python')
        if needs and not allows(needs, python):
            found.append(finding(E_REQUIRES_PYTHON, (
                '%s %s requires Python %s; the image\'s Python is %s (%s): pin a release of '
                '%s for that Python, or build on a base that has the virtualenv\'s Python'
                % (name, version, needs, python, base or 'no base named', name))))
    return found


def distributions(home):
    """[(name, version, metadata fields, where it came from when not an index)] of the
    virtualenv ``home``."""
    found = []
    for folder in site_packages(home or ''):
        for entry in sorted(os.listdir(folder)):
            path = os.path.join(folder, entry)
            local = None
            if entry.endswith('.dist-info'):
                local = direct_url(os.path.join(path, 'direct_url.json'))
                meta = os.path.join(path, 'METADATA')
            elif entry.endswith('.egg-info'):
                meta = os.path.join(path, 'PKG-INFO') if os.path.isdir(path) else path
            else:
                continue
            fields = read_fields(meta, ('Name', 'Version', 'Requires-Python'))
            if 'Name' in fields and 'Version' in fields:
                found.append((fields['Name'], fields['Version'], fields, local))
    return found


def direct_url(path):
    if not os.path.isfile(path):
        return None
    match = re.search(r'"url"\s*:\s*"([^"]+)"', textfiles.read_text(path, 64 * 1024))
    return match.group(1) if match else 'a folder or URL'


def allows(specifier, python):
    """Whether the Requires-Python ``specifier`` admits ``python`` ('2.7', '3.11'): the
    comparisons of PEP 440 on release numbers (what Requires-Python holds in practice)."""
    wanted = version_tuple(python)
    for clause in specifier.split(','):
        match = re.match(r'^\s*(~=|==|!=|<=|>=|<|>)\s*([0-9][0-9.]*)(\.\*)?\s*$', clause)
        if not match:
            continue  # a clause this reading cannot weigh refuses nothing
        op, number, star = match.groups()
        other = version_tuple(number)
        if star or op == '~=':
            width = len(other) if star else len(other) - 1
            same = wanted[:width] == other[:width]
            if (op in ('==', '~=') and not same) or (op == '!=' and same):
                return False
            if op == '~=' and wanted < other[:2]:
                return False
            continue
        if op == '!=' and len(other) > len(wanted):
            continue  # 3.11 is not one patch level: it may be any other
        # An image's Python is a minor version: a patch level in the clause counts as it.
        other = other[:len(wanted)]
        size = max(len(wanted), len(other))
        a, b = pad(wanted, size), pad(other, size)
        if not {'==': a == b, '!=': a != b, '<=': a <= b, '>=': a >= b,
                '<': a < b, '>': a > b}[op]:
            return False
    return True


def version_tuple(text):
    return tuple(int(part) for part in text.strip('.').split('.') if part.isdigit())


def pad(numbers, size):
    return tuple(numbers) + (0,) * (size - len(numbers))


def replica_findings(values):
    """A manifest that runs several replicas of state kept in one process or one file."""
    path = os.path.join(values.paths.apache_dir, values.project.slug + '.kube.yaml')
    if not os.path.isfile(path):
        return []
    counts = [int(n) for n in REPLICAS.findall(textfiles.read_text(path, MAX_BYTES))]
    why = settle_container.one_replica(values)
    if not why or not counts or max(counts) <= 1:
        return []
    return [finding(E_REPLICAS, (
        '%s runs %d replicas, but %s: each replica would see its own state; keep replicas: 1, '
        'or move the state to a shared store first' % (path, max(counts), why)))]
