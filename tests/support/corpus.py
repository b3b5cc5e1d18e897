"""The corpus of published TurboGears applications (REAL-PROJECTS.md): fetched from PyPI by
name (scripts/provision-py27 downloads the sdists into the lab, never into this
repository), unpacked into a temp folder, deployed by tgdeploy at / and at /sub, and each
generated config checked by a private Apache (`apache2 -t`) loading the mod_wsgi for the
application's Python. An application with a virtualenv of its own in the lab (made from
tests/corpus-requirements) is then served: deployed into its own apache/ folder, the
README's step 2 run as written, and `tgdeploy --check` crawling it at / and at /sub.
One row per application; the tests compare the rows with the table."""
import glob
import os
import posixpath
import re
import shutil
import subprocess
import tarfile
import tempfile

LAB = os.environ.get('TGDEPLOY_LAB', '/opt/tgdeploy-lab')
CORPUS_REQUIREMENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                   'corpus-requirements')
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
MOUNTS = ('/', '/sub')


def sdist(name, version):
    found = sorted(glob.glob(os.path.join(CORPUS, '%s-%s.tar.*' % (name, version))))
    return found[0] if found else None


def unpack(archive, folder):
    """Unpack a downloaded sdist into ``folder``. The tests run as root: the archive is refused
    before anything is written when a member could land outside ``folder`` -- an absolute
    name or a '..' in it, a link whose target is absolute or has a '..' (links to links can
    climb out: a/d -> ., a/up -> d/..), a member reached through a link, a device file.
    (Debian 12's Python 3.11.2 has no tarfile filters; where they exist, 'tar' applies too.)"""
    def climbs(path):
        return path.startswith('/') or '..' in path.split('/')

    with tarfile.open(archive) as tar:
        links = []
        for member in tar.getmembers():
            name = posixpath.normpath(member.name)  # ./a//b is a/b (no '..' is left after)
            through_link = any(name.startswith(link + '/') for link in links)
            if (climbs(member.name) or member.isdev() or through_link
                    or ((member.issym() or member.islnk()) and climbs(member.linkname))):
                raise AssertionError('%s: member %r leads out of the folder or is a device'
                                     % (archive, member.name))
            if member.issym() or member.islnk():
                links.append(name)
        extra = {'filter': 'tar'} if hasattr(tarfile, 'tar_filter') else {}
        tar.extractall(folder, **extra)


def row(name, version, venv, mod_wsgi, options):
    """The table row of one application, every cell a short plain text."""
    archive = sdist(name, version)
    if archive is None:
        return ['%s %s' % (name, version), 'not fetched (%s)' % provisioner(venv), '', '', '']
    work = tempfile.mkdtemp(prefix='tgdeploy-corpus-')
    os.chmod(work, 0o755)
    try:
        unpack(archive, work)
        project = os.path.join(work, '%s-%s' % (name, version))
        venv_dir = os.path.join(LAB, venv)
        if not os.path.exists(os.path.join(venv_dir, 'bin', 'tgdeploy')):
            return ['%s %s' % (name, version), 'no virtualenv %s (%s)' % (venv, provisioner(venv)),
                    '', '', '']
        cells = [deploy(project, venv_dir, mod_wsgi, options, mount, work) for mount in MOUNTS]
        detected = cells[0][0] if cells[0][0] else cells[1][0]
        deployed = cells[0][1] == cells[1][1] == 'apache2 -t: Syntax OK'
        return ['%s %s' % (name, version), detected, cells[0][1], cells[1][1],
                served(name, venv, project, mod_wsgi, options) if deployed else '']
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
        return '', 'refused: ' + clean(one_line(proc.stderr.replace('tgdeploy: error: ', '')),
                                        project)
    seen = [line[len('  seen: '):] for line in proc.stdout.splitlines()
            if line.startswith('  seen: ')]
    conf = glob.glob(os.path.join(out, '*.conf'))[0]
    return clean('; '.join(seen), project), configtest(conf, mod_wsgi, work)


def provisioner(venv):
    """The script that makes a lab virtualenv of the corpus."""
    return 'scripts/provision-corpus3' if venv.startswith('corpus3/') else 'scripts/provision-py27'


def serving_venv(name, venv=''):
    """The virtualenv an application is served from: its own lab virtualenv when the corpus
    names one (corpus3/NAME for Python 3, py27/corpus-NAME for a Python 2.7 stack of its own),
    else py27/corpus-NAME made from its TurboGears 1 line's pins."""
    if venv.startswith('corpus3/') or venv == 'py27/corpus-' + name:
        return os.path.join(LAB, venv)
    return os.path.join(LAB, 'py27', 'corpus-' + name)


def served(name, venv, project, mod_wsgi, options):
    """What came of serving the application at each mount, or why it is not served."""
    lab_venv, venv = venv, serving_venv(name, venv)
    if not os.path.exists(os.path.join(CORPUS_REQUIREMENTS, name + '.txt')):
        return 'not served: no tests/corpus-requirements/%s.txt' % name
    if os.path.exists(venv + '.missing'):
        with open(venv + '.missing') as f:
            return 'not served: its requirements do not install: ' + ', '.join(
                f.read().split('\n')).strip(', ')
    if not os.path.exists(os.path.join(venv, 'bin', 'tgdeploy')):
        return 'not served: no virtualenv for it (run %s)' % provisioner(lab_venv)
    crawls = [crawl(project, venv, mod_wsgi, options, mount) for mount in MOUNTS]
    if crawls[0] == crawls[1]:
        return 'at / and /sub: ' + crawls[0]
    return '; '.join('at %s: %s' % (mount, text) for mount, text in zip(MOUNTS, crawls))


def crawl(project, venv, mod_wsgi, options, mount):
    """Deploy into the project's own apache/, run README.txt's step 2 as written (data folder,
    tables, owner), then `tgdeploy --check`: the statuses its crawl saw, in short."""
    command = [os.path.join(venv, 'bin', 'tgdeploy'), '--python-home', venv, '--mount', mount,
               '--overwrite'] + options + [project]
    env = dict(os.environ, PIP_CONFIG_FILE='/dev/null')
    subprocess.run(command, check=True, stdout=subprocess.PIPE, env=env, timeout=120)
    for line in readme_step(os.path.join(project, 'apache', 'README.txt'), 2):
        step = subprocess.run(['bash', '-c', line], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env, timeout=120)
        if step.returncode != 0:
            shown = re.sub(r'^cd \S+ && ', '', line).replace(venv + '/bin/', '')
            return 'README step 2 fails: `%s`: %s' % (
                clean(re.sub(r'/tmp/tgdeploy-corpus-\w+/[^/ ]+/', '', shown), project),
                clean(one_line(step.stdout), project))
    module = mod_wsgi if os.path.isabs(mod_wsgi) else os.path.join(LAB, mod_wsgi)
    proc = subprocess.run(command + ['--check', '--mod-wsgi', module], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env, timeout=300)
    return crawl_summary(proc.stdout)


def readme_step(path, number):
    """The commands of a numbered step of the generated README (its lines indented by five)."""
    with open(path) as f:
        text = f.read()
    step = re.search(r'^%d\. .*?(?=^\d+\. )' % number, text, re.S | re.M).group(0)
    return [line.strip() for line in step.splitlines() if re.match(r'^     \S', line)]


def crawl_summary(out):
    """The landing page's statuses (its redirects followed) and the classes of status the
    rest of --check's crawl saw, failures named; no counts, which pages that list live
    objects (dowser) change from run to run."""
    requests = re.findall(r'^check: GET (\S+) -> (\d+)', out, re.M)
    if not requests:
        return 'no request made: ' + ' '.join(out.strip().splitlines()[-1:])
    statuses = [status for _, status in requests]
    landing = next((i + 1 for i, s in enumerate(statuses) if s[0] != '3'), len(statuses))
    classes = sorted(set(s[0] + 'xx' for s in statuses[landing:] if s[0] in '23'))
    failed = ['%s %s' % (s, path) for path, s in requests if s[0] not in '23']
    summary = 'landing page %s; the rest of the crawl: %s' % (
        ' > '.join(statuses[:landing]), ', '.join(classes + failed) or 'nothing')
    outside = re.findall(r'^error: \S+ links to (\S+), outside the mount', out, re.M)
    if outside:  # --check's TGD-E039: the page is 200 but its links leave the mount
        summary += '; links outside the mount: %s (TGD-E039)' % ', '.join(
            sorted(set(outside))[:3])
    causes = exceptions(out)
    return summary + (' (%s)' % causes[0] if failed and causes else '')


def exceptions(out):
    """The exception lines of the error-log tracebacks --check shows, without the log's
    prefixes and addresses, first one first."""
    found = []
    for line in out.splitlines():
        match = re.match(r'^\s*\| (?:\[[^]]*\] )*([A-Za-z_][\w.]*(?:Error|Exception|Exit)\b.*)$',
                         line)
        if match:
            # No addresses, and not the PATH of whoever runs the check.
            text = re.sub(r' at 0x[0-9a-f]+', '', match.group(1).strip())
            text = re.sub(r'\bPATH: \S+', 'PATH', text)
            if text not in found:
                found.append(text[:200])
    return found


def configtest(conf, mod_wsgi, work):
    from tgdeploy.serve.private_apache import PrivateApache
    root = tempfile.mkdtemp(dir=work)
    os.chmod(root, 0o755)
    module = mod_wsgi if os.path.isabs(mod_wsgi) else os.path.join(LAB, mod_wsgi)
    code, text = PrivateApache(root, [conf], module).configtest()
    return 'apache2 -t: ' + (' '.join(text.split()) if code else 'Syntax OK')


def one_line(text):
    """A message on one line; of a traceback, its last line (the exception), named as such."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if any(line.startswith('Traceback (most recent call last)') for line in lines):
        return 'traceback: ' + lines[-1]
    return ' '.join(lines)


def clean(text, project):
    """Without the temp folder's name, and no table syntax."""
    return re.sub(r'/tmp/tgdeploy-corpus-\w+/', '', text.replace(project + '/', '')).replace(
        '|', '/')


def table():
    from support import kallithea  # its own lab (scripts/provision-kallithea), its own steps
    rows = [COLUMNS, ['---'] * len(COLUMNS)] + [row(*app) for app in apps()] + [kallithea.row()]
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
