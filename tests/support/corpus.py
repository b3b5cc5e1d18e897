"""The corpus of published TurboGears applications (REAL-PROJECTS.md): fetched from PyPI by
name (scripts/provision-py27 downloads the sdists into the lab, never into this
repository), unpacked into a temp folder, deployed by tgdeploy at / and at /sub, and each
generated config checked by a private Apache (`apache2 -t`) loading the mod_wsgi for the
application's Python. One row per application; the tests compare the rows with the table."""
import glob
import os
import re
import shutil
import subprocess
import tarfile
import tempfile

LAB = os.environ.get('TGDEPLOY_LAB', '/opt/tgdeploy-lab')
CORPUS = os.path.join(LAB, 'corpus')
DEBIAN_WSGI = '/usr/lib/apache2/modules/mod_wsgi.so'



def apps():
    """(name, version, lab virtualenv, mod_wsgi, [tgdeploy options]) from tests/corpus.txt."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        'corpus.txt')
    found = []
    with open(path) as f:
        for line in f:
            words = line.split('#')[0].split()
            if words:
                module = DEBIAN_WSGI if words[3] == 'debian' else words[3]
                found.append((words[0], words[1], words[2], module, words[4:]))
    return found


COLUMNS = ('application', 'detected', 'at /', 'at /sub', 'served')
NOT_SERVED = 'not yet: its requirements are not installed in the lab'


def sdist(name, version):
    found = sorted(glob.glob(os.path.join(CORPUS, '%s-%s.tar.*' % (name, version))))
    return found[0] if found else None


def row(name, version, venv, mod_wsgi, options):
    """The table row of one application, every cell a short plain text."""
    archive = sdist(name, version)
    if archive is None:
        return ['%s %s' % (name, version), 'not fetched (scripts/provision-py27)', '', '', '']
    work = tempfile.mkdtemp(prefix='tgdeploy-corpus-')
    os.chmod(work, 0o755)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(work)
        project = os.path.join(work, '%s-%s' % (name, version))
        venv_dir = os.path.join(LAB, venv)
        cells = [deploy(project, venv_dir, mod_wsgi, options, mount, work)
                 for mount in ('/', '/sub')]
        detected = cells[0][0] if cells[0][0] else cells[1][0]
        return ['%s %s' % (name, version), detected, cells[0][1], cells[1][1],
                NOT_SERVED if cells[0][1] == 'apache2 -t: Syntax OK' else '']
    finally:
        shutil.rmtree(work, ignore_errors=True)


def deploy(project, venv, mod_wsgi, options, mount, work):
    """(what detection saw, what came of the deployment) for one mount."""
    out = os.path.join(work, 'out' + mount.replace('/', '-'))
    proc = subprocess.run([os.path.join(venv, 'bin', 'tgdeploy'), '--python-home', venv,
                           '--mount', mount, '--output-dir', out] + options + [project],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=dict(os.environ, PIP_CONFIG_FILE='/dev/null'), timeout=120)
    if proc.returncode != 0:
        return '', 'refused: ' + clean(proc.stderr.strip().replace('tgdeploy: error: ', ''),
                                        project)
    seen = [line[len('  seen: '):] for line in proc.stdout.splitlines()
            if line.startswith('  seen: ')]
    conf = glob.glob(os.path.join(out, '*.conf'))[0]
    return clean('; '.join(seen), project), configtest(conf, mod_wsgi, work)


def configtest(conf, mod_wsgi, work):
    from tgdeploy.private_apache import PrivateApache
    root = tempfile.mkdtemp(dir=work)
    os.chmod(root, 0o755)
    module = mod_wsgi if os.path.isabs(mod_wsgi) else os.path.join(LAB, mod_wsgi)
    code, text = PrivateApache(root, [conf], module).configtest()
    return 'apache2 -t: ' + (' '.join(text.split()) if code else 'Syntax OK')


def clean(text, project):
    """Without the temp folder's name, and no table syntax."""
    return re.sub(r'/tmp/tgdeploy-corpus-\w+/', '', text.replace(project + '/', '')).replace(
        '|', '/')


def table():
    rows = [COLUMNS, ['---'] * len(COLUMNS)] + [row(*app) for app in apps()]
    return [row_line(cells) for cells in rows]


BEGIN, END = '<!-- table: scripts/real-projects -->', '<!-- end of table -->'


def write(path):
    """Replace the table between the markers of ``path`` (REAL-PROJECTS.md)."""
    with open(path) as f:
        text = f.read()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    with open(path, 'w') as f:
        f.write(text[:start] + '\n' + '\n'.join(table()) + '\n' + text[end:])


def committed_row(path, name, version):
    """The line of the table in ``path`` for one application (None if it has none)."""
    with open(path) as f:
        text = f.read()
    for line in text[text.index(BEGIN):text.index(END)].splitlines():
        if line.startswith('| %s %s |' % (name, version)):
            return line
    return None


def row_line(cells):
    return '| %s |' % ' | '.join(cells)
