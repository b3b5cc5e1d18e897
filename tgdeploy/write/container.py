"""``--container``: apache/ as always, plus what an image and its containers need.

- apache/container/: the container's Apache config and entry script (copied into the
  image), and config/ (the .wsgi, the ini and, for TurboGears 1, the .cfg, rendered by
  tg_modwsgi's own templates with every path moved into the image: settle/container.py),
  mounted at run time, never in a layer: it holds the secrets;
- apache/NAME.kube.yaml: a Deployment, a Service, the config as a Secret, the data as a
  volume claim (a secret file too);
- the project's Containerfile and .containerignore, beside apache/.

apache/ goes in place as install.py puts it (staging, one swap, user edits kept unless
--overwrite). The two files of the project's root cannot be swapped with a folder: each
carries in its first line the checksum of the rest, so an edit is seen without a
manifest, and each is written to a temporary file and renamed over the old one, under the
project's lock, after apache/ is in place.
"""
import io
import json
import os
import shutil
import tempfile

from paste.util.template import paste_script_template_renderer

from tgdeploy._compat import PY2
from tgdeploy.doctor import container_checks
from tgdeploy.errors import TgDeployError
from tgdeploy.files import textfiles
from tgdeploy.files.stamped import edited, stamped  # noqa: F401 (tests read them here)
from tgdeploy.settle import container as settle_container
from tgdeploy.write import install, render, swap
from tgdeploy.write.copying import free_name

TEMPLATE_NAME = 'tg_container'
# (template, path in apache/, mode)
APACHE_FILES = (('httpd.conf_tmpl', 'container/httpd.conf', 0o644),
                ('entrypoint.sh_tmpl', 'container/entrypoint.sh', 0o755),
                ('kube.yaml_tmpl', '%(slug)s.kube.yaml', 0o640))
# Python 2.7: what the host's virtualenv holds (settle/container_py27.py)
PY27_FILES = (('requirements-py27.txt_tmpl', 'container/requirements-py27.txt', 0o644),)
# (template, file beside apache/)
ROOT_FILES = (('Containerfile_tmpl', 'Containerfile'), ('containerignore_tmpl', '.containerignore'))
PY27_CONTAINERFILE = 'Containerfile-py27_tmpl'


def settle(values):
    """(the host's values moved into the image: a Settled, the container's own values: a
    settle/container.py Container)."""
    moved = settle_container.moved_values(values)
    return moved, settle_container.settle(values, moved)


def write(values, overwrite):
    """Write apache/ with the container's files and the project's Containerfile and
    .containerignore. Returns (Changes of apache/, its entries, [(verb, root file)])."""
    moved, box = settle(values)
    project = os.path.dirname(values.paths.apache_dir)
    planned = plan_root_files(moved, box, project, overwrite)  # refuses before any write
    target = install.real_target(values.paths.apache_dir)
    install.check_parent(target)
    changes, entries = install.install_folder(
        target, lambda new_dir: render_apache(values, moved, box, new_dir), overwrite,
        secret_files(values, box), values.daemon.group)
    return changes, entries, put_root_files(planned, target, project)


def run(values, overwrite, out, report):
    """--container: write, then say what was written (``report`` is cli/deploy.py's for
    apache/) and the commands that build and run the image. Returns the exit code."""
    changes, entries, root_files = write(values, overwrite)
    report(changes, entries, values, out)
    out('')
    out('Container (%s):' % os.path.join(values.paths.apache_dir, settle_container.FOLDER))
    for verb, path in root_files:
        out('  %s %s' % (verb, path))
    with io.open(os.path.join(os.path.dirname(values.paths.apache_dir), 'Containerfile'),
                 encoding='utf-8') as f:
        text = f.read()
    # The commands, as the Containerfile's own header gives them.
    start = text.index('# Build it from this folder')
    for line in text[start:text.index('\nARG BASE=', start)].splitlines():
        out(('  ' + line[2:]).rstrip())
    # What the doctor sees in it already (a requirement the build cannot install...).
    for found in container_checks.findings(values):
        out('%s\n  id: %s' % (found, found.id))
    return 0


def simulate(values, overwrite, out):
    """--container --simulate: say what a run would write in apache/ (install.simulate's
    lines, with diffs) and beside it, and refuse what it would refuse; nothing is written
    (apache/ is rendered in a temporary folder). Returns the exit code."""
    moved, box = settle(values)
    project = os.path.dirname(values.paths.apache_dir)
    changes, lines = install.simulate(
        values, overwrite, lambda _, new_dir: render_apache(values, moved, box, new_dir))
    for line in lines:
        out(line)
    planned, refused = root_file_states(moved, box, project, overwrite)
    for path, text in refused:
        out('edited by you, would refuse %s' % path)
        out_diff(path, text, out)
    for verb, name, text in planned:
        path = os.path.join(project, name)
        if verb == 'created':
            out('would create %s' % path)
        elif verb != 'unchanged':
            out('%s %s' % ('would update' if verb == 'updated' else
                           'would replace (saving a .bak)', path))
            out_diff(path, text, out)
    install.refuse_edits(changes, values.paths.apache_dir, overwrite)
    refuse_root_edits(refused)
    for found in container_checks.findings(values):
        out('%s\n  id: %s' % (found, found.id))
    return 0


def out_diff(path, text, out):
    for line in install.diff_text(path, text, os.path.basename(path)):
        out(line)


def secret_files(values, box):
    names = list(values.production.secret_files)
    names += [os.path.join(settle_container.CONFIG_FOLDER, name) for name in box.config_names]
    names.append(values.project.slug + '.kube.yaml')
    return names


def render_apache(values, moved_values, box, dest):
    """apache/ as render.render makes it, plus the container's files."""
    render.render(values, dest)
    scratch = tempfile.mkdtemp(prefix='tgdeploy-container-')
    try:
        moved = os.path.join(scratch, 'apache')
        render.render(moved_values, moved)
        config = os.path.join(dest, settle_container.CONFIG_FOLDER)
        os.makedirs(config)
        encoded = []
        for name in box.config_names:
            shutil.copyfile(os.path.join(moved, name), os.path.join(config, name))
            os.chmod(os.path.join(config, name), 0o640)
            # A JSON string is a YAML double-quoted scalar: any text, on one line.
            text = textfiles.decode(install.read_bytes(os.path.join(config, name)))[0]
            encoded.append((name, json.dumps(text)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    box = box.replace(config_data=encoded)  # the Secret of the Kubernetes manifest
    for template, name, mode in APACHE_FILES + (PY27_FILES if box.python2 else ()):
        path = os.path.join(dest, name % {'slug': values.project.slug})
        write_text(path, fill(template, moved_values, box))
        os.chmod(path, mode)
    return dest


def fill(template, moved, box):
    """The text of tg_container's ``template``: the groups of the ``moved`` Settled, and
    the container's own values as ``container``."""
    with io.open(os.path.join(render.template_dir(TEMPLATE_NAME), template),
                 encoding='utf-8') as f:
        text = f.read()
    names = textfiles.template_values(moved)
    names['container'] = box.map(textfiles.as_text) if PY2 else box
    return paste_script_template_renderer(text, names, filename=template)


def write_text(path, text):
    with io.open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)


# -- the files of the project's root ----------------------------------------------------

def plan_root_files(moved, box, project, overwrite):
    """[(verb, name, text)] for the root files: refuses (TgDeployError) a user's edit
    without --overwrite, before anything is written."""
    planned, refused = root_file_states(moved, box, project, overwrite)
    refuse_root_edits(refused)
    return planned


def refuse_root_edits(refused):
    if refused:
        raise TgDeployError('you edited %s since tgdeploy wrote it: nothing was written; keep '
                            'your edit, or pass --overwrite to replace it (saved as .bak)'
                            % ', '.join(path for path, _ in refused))


def root_file_states(moved, box, project, overwrite):
    """([(verb, name, text)] a run would write, [(path, text)] of the user's edits it
    refuses)."""
    planned, refused = [], []
    for template, name in ROOT_FILES:
        if box.python2 and name == 'Containerfile':
            template = PY27_CONTAINERFILE
        text = stamped(fill(template, moved, box), moved.project.tgdeploy_version)
        path = os.path.join(project, name)
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isfile(path)):
            raise TgDeployError('%s is not a plain file: move it away and run again' % path)
        if not os.path.exists(path):
            planned.append(('created', name, text))
            continue
        data = install.read_bytes(path)
        if data == text.encode('utf-8'):
            planned.append(('unchanged', name, text))
        elif not edited(data):
            planned.append(('updated', name, text))
        elif overwrite:
            planned.append(('replaced (your version saved as .bak)', name, text))
        else:
            refused.append((path, text))
    return planned, refused


def put_root_files(planned, target, project):
    done = []
    with swap.Lock(target):
        for verb, name, text in planned:
            path = os.path.join(project, name)
            if verb == 'unchanged':
                continue
            if verb.startswith('replaced'):
                shutil.copy2(path, os.path.join(project, free_name(project, name + '.bak')))
            fd, temp = tempfile.mkstemp(prefix='.tgdeploy-', dir=project)
            try:
                with io.open(fd, 'w', encoding='utf-8', newline='\n') as f:
                    f.write(text)
                os.chmod(temp, 0o644)
                os.rename(temp, path)
            except BaseException:
                if os.path.exists(temp):
                    os.remove(temp)
                raise
            done.append((verb, path))
    return done
