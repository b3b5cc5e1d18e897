"""README step 2's lines for what the project itself needs before it serves, beyond the data
folder, read from the project (never run here); the README template asks for them:

- a TurboGears 2 project whose own documentation gives its set-up (``kallithea-cli db-create
  -c my.ini``, detect/own_setup.py) where ``gearbox setup-app`` would do nothing: that
  command, non-interactive (the fullest documented form; an administrator ``admin`` whose
  password tgdeploy generates into a root-only file of the deployment folder, kept by later
  runs and never shown; a folder option in the data folder; its "yes to every question"
  flag), run once (a marker in the data folder keeps a second run of step 2 from
  re-creating the database), and the front-end build its documentation names (npm);
- a project whose start-up stops without a folder setting it cannot pick itself
  (settle/daemon_env.py seeded_settings): that folder in the data folder, and its settings
  file written with it when the file is not there yet.
"""
import os
import sys

from tgdeploy.detect import own_setup
from tgdeploy.settle import daemon_env

PASSWORD_FILE = 'admin-password'
ADMIN = 'admin'
USER_OPTIONS = ('--user', '--username', '--admin', '--admin-user', '--login')
PASSWORD_OPTIONS = ('--password', '--passwd', '--admin-password')
EMAIL_OPTIONS = ('--email', '--mail', '--admin-email')
FOLDER_WORDS = ('repos', 'root', 'dir', 'folder', 'path', 'location', 'storage')


class Steps(object):
    """What README step 2 adds: ``folders`` to make the daemon user's, ``lines`` to run
    (shell, quoted), ``notes`` to say, and ``replaces_setup_app`` (gearbox setup-app would do
    nothing: the project's own set-up runs instead)."""

    def __init__(self):
        self.folders = []
        self.lines = []
        self.notes = []
        self.replaces_setup_app = False
        self.settings = []  # the settings (section.key) step 2 gives a folder


def step_two(project, paths, python, config, daemon, apache, sh):
    """Steps for README step 2 (the groups of the settled values, and the template's sh)."""
    steps = Steps()
    if project.flavor == 'tg2' and project.package_dir:
        own_set_up(steps, project, paths, python, config, daemon, sh)
    if project.flavor in ('cherrypy', 'tg1'):
        seeded(steps, paths, daemon, apache, sh)
    return steps


def own_set_up(steps, project, paths, python, config, daemon, sh):
    found = own_setup.documented_steps(paths.project_dir, project.package_dir)
    if not found['setup']:
        return
    script, sub, options, doc, line = found['setup']
    bin_dir = os.path.join(python.home, 'bin')
    secret = os.path.join(paths.apache_dir, PASSWORD_FILE)
    words, needs_password = [], False
    for name, value in options:
        if name in ('-c', '--config'):
            value = config.file
        elif name in USER_OPTIONS:
            value = ADMIN
        elif name in PASSWORD_OPTIONS:
            needs_password = True
            words.append('%s="$(cat %s)"' % (name, sh(secret)))
            continue
        elif name in EMAIL_OPTIONS:
            value = '%s@localhost' % ADMIN
        elif value is not None and any(w in name for w in FOLDER_WORDS):
            value = os.path.join(paths.data_dir, name.lstrip('-'))
            steps.folders.append(value)
        words.append(name if value is None else '%s%s%s' % (
            name, '=' if name.startswith('--') else ' ', sh(value)))
    if not any(name in ('-c', '--config') for name, _ in options):
        words[:0] = ['-c', sh(config.file)]
    marker = os.path.join(paths.data_dir, '.%s-%s.done' % (script, sub))
    if needs_password:
        steps.lines.append('%s -m tgdeploy.files.secret_file %s' % (sh(sys.executable),
                                                                     sh(secret)))
        steps.notes.append('the password of its administrator "%s" is in %s (root\'s alone; '
                           'made once, kept by later runs)' % (ADMIN, secret))
    steps.lines.append('cd %s && test -e %s || { %s %s %s && touch %s; }' % (
        sh(paths.project_dir), sh(marker), sh(os.path.join(bin_dir, script)), sub,
        ' '.join(words), sh(marker)))
    steps.notes.append('%s %s is its own set-up (%s:%d), run once: %s marks it done (remove it '
                       'to run it again; it may re-create the database)'
                       % (script, sub, doc, line, marker))
    steps.replaces_setup_app = True
    build = found['build']
    front_end = own_setup.front_end_dir(project.package_dir)
    if build and front_end:
        # Built into the deployed tree (the one Apache serves the static files of), with
        # the virtualenv's programs first on PATH, as an activated virtualenv has them.
        steps.lines.append('cd %s && test -d %s || PATH=%s:"$PATH" PYTHONPATH=%s %s %s' % (
            sh(paths.project_dir), sh(os.path.join(front_end, 'node_modules')), sh(bin_dir),
            sh(paths.import_dir or paths.project_dir), sh(os.path.join(bin_dir, build[0])),
            build[1]))
        steps.notes.append('%s %s builds its front end (%s:%d) with npm (apt-get install npm); '
                           'once: %s/node_modules marks it done' % (
                               build[0], build[1], build[2], build[3], front_end))


def seeded(steps, paths, daemon, apache, sh):
    setenv = dict(apache.setenv or [])
    config_home = setenv.get('XDG_CONFIG_HOME')
    # Only the config folder the deployment put in the data folder: one the user names
    # (--setenv XDG_CONFIG_HOME=...) holds the user's own settings.
    if config_home != os.path.join(paths.data_dir, 'xdg-config'):
        return
    for seed in daemon_env.seeded_settings(paths.project_dir, paths.data_dir,
                                           config_home=config_home):
        folder, path = seed['folder'], seed['file']
        steps.settings.append(seed['setting'])
        steps.folders += [folder] + [f for f in (config_home, os.path.dirname(path))
                                     if f not in steps.folders]
        steps.lines.append("test -e %s || { printf '[%%s]\\n%%s = %%s\\n' %s %s %s > %s && "
                           "chown %s:%s %s; }" % (
                               sh(path), sh(seed['section']), sh(seed['key']), sh(folder),
                               sh(path), daemon.user, daemon.group, sh(path)))
        steps.notes.append('%s, a folder its start-up stops without (%s): %s, named in '
                           '%s; put its files there, or name a folder of your own in that '
                           'file' % (seed['setting'], seed['where'], folder,
                                     os.path.basename(path)))
