"""What the generated deployment already covers of the facts the project's own deployment
files state (own_facts.py, own_python.py), and for the rest what they do and the tgdeploy
option that covers it; where no option does yet, what to add by hand (BY_HAND).
"""
import os
import re

from tgdeploy._compat import shell_quote
from tgdeploy.doctor.own_files import inside

# The distributions' web server users, as options.DEFAULT_USERS (not imported: the doctor's
# reading needs none of the option checks); apache on RHEL is the user tgdeploy picks there.
WEB_SERVER_USERS = ('www-data', 'apache', 'httpd')

# What tgdeploy cannot set yet, and where an operator adds it by hand: one table, so that an
# option added later replaces one string (as --pass-authorization, --maximum-requests and
# --alias did). %(conf)s is the generated Apache config.
BY_HAND = {
    'script_alias': 'add `%(value)s` (with its own WSGIDaemonProcess) to %(conf)s',
}

# Environment names that are about the image or the shell, not the application, or that the
# generated .wsgi sets itself (PYTHON_EGG_CACHE, in the data folder).
IGNORED_ENV = ('PATH', 'HOME', 'PWD', 'SHELL', 'USER', 'VIRTUAL_ENV', 'DEBIAN_FRONTEND',
               'PYTHONUNBUFFERED', 'PYTHONDONTWRITEBYTECODE', 'PYTHONIOENCODING',
               'PYTHON_EGG_CACHE', 'PYTHONHASHSEED', 'TERM', 'LANGUAGE')
SECRET_NAME = re.compile(r'PASSWORD|PASSWD|SECRET|KEY|TOKEN|CREDENTIAL|DSN', re.I)
URL_WITH_PASSWORD = re.compile(r'://[^/@\s]*:[^/@\s]*@')
IN_A_FUNCTION = 'package and pass --startup package.module:function'


def judged_kinds(facts, values):
    """[(line, kind of fact, what the file does, the fix)] for the facts the deployment does
    not cover."""
    found = []
    for fact in facts:
        said = JUDGES[fact[1]](values, *fact[2:])
        if said:
            found.append((fact[0], fact[1]) + said)
    return found


def by_hand(key, values, value=''):
    conf = values.paths.conf_file or os.path.join(values.paths.apache_dir,
                                                   values.project.slug + '.conf')
    if inside(os.path.abspath(conf), os.path.abspath(values.paths.project_dir)):
        conf = os.path.relpath(conf, values.paths.project_dir)
    return 'tgdeploy has no option for it yet, so %s (tgdeploy keeps an edited file)' % (
        BY_HAND[key] % {'conf': conf, 'value': value, 'apache_dir': values.paths.apache_dir})


def normal_locale(name):
    return name.lower().replace('utf-8', 'utf8')


def judge_locale(values, name):
    if not name or normal_locale(name) == normal_locale(values.daemon.locale):
        return None
    return ('sets the locale %s, the generated deployment runs in %s'
            % (name, values.daemon.locale),
            'pass --locale %s' % shell_quote(name))


def judge_env(values, name, value):
    if name in IGNORED_ENV or name.startswith('PIP_') or \
            name in [n for n, _ in values.apache.setenv or []]:
        return None
    what = 'sets %s in the environment, the generated .wsgi does not' % name
    if value is None or SECRET_NAME.search(name) or URL_WITH_PASSWORD.search(value):
        return (what, 'pass --setenv %s=...' % name)
    return (what, 'pass --setenv %s' % shell_quote('%s=%s' % (name, value)))


def judge_path(values, folder, how):
    if os.path.isabs(folder):
        real = os.path.realpath(folder)
        home = values.python.home
        if real == os.path.realpath(values.paths.project_dir) or \
                (home and inside(real, os.path.realpath(home))):
            return None
    return ('adds %s to the Python path (%s), the generated .wsgi adds only the project folder'
            % (folder, how),
            'install that code into the virtualenv (pip install -e %s) or add it from '
            '--startup' % (shell_quote(folder) if os.path.isabs(folder) else 'its folder'))


def judge_pass_authorization(values):
    if values.apache.pass_authorization:
        return None
    return ('passes the Authorization header to the application (WSGIPassAuthorization On), '
            'the generated config does not', 'pass --pass-authorization yes')


def judge_maximum_requests(values, count):
    if values.daemon.maximum_requests == count:
        return None
    return ('restarts each daemon process after %d requests (maximum-requests=%d), the '
            'generated config %s' % (count, count, 'after %d' % values.daemon.maximum_requests
                                     if values.daemon.maximum_requests else 'does not'),
            'pass --maximum-requests %d' % count)


def judge_threads(values, count):
    # Only one thread says something about the code (not thread-safe); other counts were
    # sized for another machine, and ours come from bench/threads.py.
    return just_one(values, count, 'threads', 'one thread per process (threads=1: code that '
                                              'is not thread-safe)')


def judge_processes(values, count):
    return just_one(values, count, 'processes', 'one daemon process (processes=1: state kept '
                                                'in one process)')


def just_one(values, count, key, what):
    daemon = values.apache.mode == 'daemon'
    if count != 1 or (daemon and getattr(values.daemon, key) == 1):
        return None
    ours = 'runs %s %s' % (getattr(values.daemon, key), key) if daemon else \
        'runs in Apache\'s own workers (embedded mode)'
    return ('runs %s, the generated config %s' % (what, ours),
            'pass %s--%s 1' % ('' if daemon else '--mode daemon ', key))


def judge_user(values, name):
    return account(values, name, 'user', 'runs the daemon as %s, the generated config as %s')


def judge_group(values, name):
    return account(values, name, 'group',
                   'runs the daemon in group %s, the generated config in %s')


def account(values, name, key, what):
    if name == getattr(values.daemon, key) or name in WEB_SERVER_USERS or '%' in name:
        return None
    return (what % (name, getattr(values.daemon, key)), 'pass --%s %s' % (key, shell_quote(name)))


def judge_alias(values, text, url, target, mount):
    ours = values.static.urls or []
    urls = set(u.rstrip('/') for u, _ in ours)
    relative = set(under_mount(u, values.apache.mount) for u, _ in ours)
    if url.rstrip('/') in urls or (mount and under_mount(url, mount) in relative):
        return None
    if os.path.isabs(target) and any(inside(os.path.realpath(target), os.path.realpath(p))
                                     for _, p in ours):
        return None
    return ('serves %s (%s), the generated config does not' % (url, text),
            'pass --alias %s' % shell_quote('%s=%s' % (url.rstrip('/') or '/', target)))


def under_mount(url, mount):
    """A URL as seen from its application's mount: /accounts/static under /accounts is
    /static."""
    url = url.rstrip('/') or '/'
    if mount in ('/', '') or not url.startswith(mount.rstrip('/') + '/'):
        return url
    return url[len(mount.rstrip('/')):]


def judge_script_alias(values, text):
    return ('maps another WSGI script (%s), the generated config does not' % text,
            by_hand('script_alias', values, text))


def judge_mount(values, url):
    if url == values.apache.mount or not re.match(r'^/[\w.~/-]*$', url):
        return None
    return ('mounts the application at %s, the generated config at %s'
            % (url, values.apache.mount), 'pass --mount %s' % url)


def judge_limit_request_body(values, count):
    if count == values.apache.limit_request_body:
        return None
    return ('limits request bodies to %d bytes, the generated config to %s'
            % (count, values.apache.limit_request_body),
            'pass --limit-request-body %d' % count)


def judge_call(values, name, spec, when):
    if spec and spec == values.startup.function:
        return None
    what = '%s, the generated deployment does not' % (when % ('calls ' + name))
    if spec:
        return (what, 'pass --startup %s' % spec)
    return (what, 'put that call in a function of the project\'s ' + IN_A_FUNCTION)


def judge_statement(values, text, when):
    return ('%s, the generated deployment does not' % (when % ('sets ' + text)),
            'do that in a function of the project\'s ' + IN_A_FUNCTION)


def judge_requires(values, requirement, how):
    return ('asks for %s (%s), the generated .wsgi takes what the virtualenv holds'
            % (requirement, how),
            'install that version there (%s/bin/pip install %s)'
            % (values.python.home or 'the virtualenv', shell_quote(requirement)))


def judge_config(values, path):
    deployed = [values.config.source, values.config.file, values.tg1.cfg_file]
    if any(p and os.path.realpath(p) == os.path.realpath(path) for p in deployed):
        return None
    return ('loads the config %s, the generated deployment derives its own from %s'
            % (path, values.config.source),
            'pass --config %s if that is the one to run with' % shell_quote(path))


def judge_root(values, spec):
    if not spec or values.project.flavor not in ('tg1', 'cherrypy') or spec == values.project.root:
        return None
    return ('serves the root %s, the generated deployment %s' % (spec, values.project.root),
            'pass --root %s' % spec)


JUDGES = {'locale': judge_locale, 'env': judge_env, 'path': judge_path,
          'pass_authorization': judge_pass_authorization,
          'maximum_requests': judge_maximum_requests, 'threads': judge_threads,
          'processes': judge_processes, 'user': judge_user, 'group': judge_group,
          'alias': judge_alias, 'script_alias': judge_script_alias, 'mount': judge_mount,
          'limit_request_body': judge_limit_request_body, 'call': judge_call,
          'statement': judge_statement, 'requires': judge_requires, 'config': judge_config,
          'root': judge_root}
