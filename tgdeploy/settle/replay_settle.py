"""Settle --startup-script and --env-file (options.settle calls this): which start-up of the
project's own each daemon process replays (startup_script.py, apps/replay.py), the
environment it gets (with the places in the data folder its code asks for by its own rules:
daemon_env.py), and what the report and the doctor say about both.
"""
import os
import re

from tgdeploy._compat import shell_quote
from tgdeploy.settle import daemon_env, envfile, own_steps
from tgdeploy.settle.daemon_env import shown
from tgdeploy.settle.checks import check_path

from tgdeploy.detect import own_setup, startup_script
from tgdeploy.errors import TgDeployError
from tgdeploy.detect.projectfiles import read_text

ERROR, WARNING = 'error', 'warning'
REPLAYED_FLAVORS = ('cherrypy', 'tg1')


def settle(opts, values, project):
    """Fill ``values.startup`` (the start-up replayed, the --env-file), and add to the
    evidence (``project.evidence``), the environment (``apache.setenv``) and the files
    holding secrets (``production.secret_files``)."""
    project_dir = values.paths.project_dir
    env_file = opts.get('env_file') and check_path('--env-file', os.path.abspath(
        os.path.join(project_dir, opts['env_file'])))
    env_pairs = envfile.read(env_file) if env_file else []
    found = startup(opts.get('startup_script'), project, project_dir)
    if found is None and project.flavor == 'cherrypy' and not project.root:
        raise TgDeployError('without its start-up (--startup-script no) there is no one '
                            'CherryPy root object to serve: pass --root module:Root')
    if found is not None:
        check_path('--startup-script', found.path)
    evidence = list(values.project.evidence)
    if found is not None:
        evidence += seen(found, project_dir)
    if env_file:
        evidence.append('environment from %s: %s' % (
            os.path.relpath(env_file, project_dir),
            ', '.join(name for name, _ in env_pairs) or 'nothing'))
    if project.flavor == 'tg2':
        evidence += own_set_up(project_dir, values.project.package_dir, values.config.file)
    setenv = list(values.apache.setenv or [])
    taken = [name for name, _ in setenv + env_pairs]
    derived = daemon_env.derived(project_dir, values.paths.data_dir, taken)
    setenv += [(name, value) for name, value, _ in derived]
    for why in sorted(set(why for _, _, why in derived), key=[w for _, _, w in derived].index):
        evidence.append('environment: %s (%s)' % (', '.join(
            '%s=%s' % (name, shown(value, project_dir)) for name, value, w in derived
            if w == why), why))
    secret_files = list(values.production.secret_files or [])
    wsgi = os.path.basename(values.paths.wsgi_file)
    if env_pairs and wsgi not in secret_files:
        secret_files.append(wsgi)
    values.startup.update(replay=found, script=found and found.script,
                          call=found and found.call,
                          sets_config=bool(found and found.sets_config),
                          env_file=env_file, env_pairs=env_pairs)
    values.project.evidence = evidence
    values.production.secret_files = secret_files
    values.apache.setenv = setenv
    # README step 2's own lines read the environment just settled (the XDG folders).
    values.startup.own_steps = own_steps.step_two(values.project, values.paths, values.python,
                                                  values.config, values.daemon, values.apache,
                                                  shell_quote)


def own_set_up(project_dir, package_dir, config_file):
    """The report's line on a TurboGears 2 project's own documented set-up, where gearbox
    setup-app (README step 2) does nothing for it (own_setup.py)."""
    found = own_setup.documented(project_dir, package_dir)
    if not found:
        return []
    command, doc, line = found
    return ['its own set-up: gearbox setup-app does nothing for it (no websetup in %s/); its '
            'documentation says %s (%s:%d): README step 2 runs it with -c %s' % (
                os.path.basename(package_dir), command, doc, line,
                shown(config_file, project_dir))]


def startup(option, project, project_dir):
    if option == 'no':
        return None
    if option:
        if project.flavor not in REPLAYED_FLAVORS:
            raise TgDeployError('--startup-script applies to CherryPy and TurboGears 1.x '
                                'projects; a TurboGears 2 application starts from its ini: '
                                'drop it (--startup runs a function of yours)')
        return startup_script.given(project_dir, option, project.flavor)
    if project.flavor not in REPLAYED_FLAVORS:
        return None
    return startup_script.find(project_dir, project.flavor, project.package_dir)


def seen(found, project_dir):
    lines = ['start-up replayed in each daemon process, minus the server: %s'
             % found.describe(project_dir)]
    if found.left_out:
        lines.append('start-up: left to Apache: %s' % ', '.join(found.left_out))
    if found.argv_note:
        lines.append('start-up: ' + found.argv_note)
    for what in found.impossible:
        lines.append('start-up: not carried over: it %s (--doctor: an error)' % what)
    for stop in found.stops:
        lines.append('start-up: stops itself (sys.exit) ' + stop.describe())
    return lines


def findings(values):
    """[(level, text)] for the doctor: what the replayed start-up does that a replay cannot
    carry (errors), and the environment variables it reads that the deployment does not set
    (errors without a default, warnings with one), its modules' reads when they are imported
    included."""
    found = values.startup.replay
    project_dir = values.paths.project_dir
    result = [(ERROR, '%s: the start-up %s; replayed in each daemon process it cannot do '
                      'that: make it start without it, or pass --startup-script no (and '
                      '--startup package.module:function for what it sets up)'
               % (os.path.relpath(found.path, project_dir), what))
              for what in (found.impossible if found else [])]
    deployed = set(name for name, _ in values.apache.setenv or []) | set(
        name for name, _ in values.startup.env_pairs or [])
    if found:
        deployed |= set(name for name, _ in set_in_script(found))
    said = set()
    # What its modules read when they are imported, replayed start-up or not.
    reads = (found.env_reads if found else []) + daemon_env.import_time_reads(project_dir)
    for name, has_default, path, line in reads:
        if name in deployed or name in said:
            continue
        said.add(name)
        place = '%s:%d' % (os.path.relpath(path, project_dir), line)
        if has_default:
            result.append((WARNING, '%s: the start-up reads %s, the deployment does not set '
                                    'it (its default applies): pass --env-file or --setenv '
                                    '%s=...' % (place, name, name)))
        else:
            result.append((ERROR, '%s: the start-up reads %s, the deployment does not set it '
                                  '(KeyError at start-up): pass --env-file or --setenv %s=...'
                           % (place, name, name)))
    # A start-up that exits turns every request of that process into a 500: say when it
    # would, before the first request finds out.
    provided = values.startup.own_steps.settings if values.startup.own_steps else []
    for stop in (found.stops if found else []):
        if stop.setting in provided:  # README step 2 writes it (own_steps.py)
            continue
        result.append((WARNING, 'the replayed start-up stops itself (sys.exit) %s: give it '
                                'that setting before serving (its own config file, or '
                                '--setenv/--env-file when it reads the environment)'
                       % stop.describe()))
    return result


def set_in_script(found):
    """The variables the start script sets itself (os.environ[...] = ...) before reading."""
    pairs = re.findall(r'os\.environ(?:\[\s*[\'"](\w+)[\'"]\s*\]\s*=[^=]|'
                       r'\.setdefault\(\s*[\'"](\w+))', read_text(found.path))
    return [(first or second, None) for first, second in pairs]
