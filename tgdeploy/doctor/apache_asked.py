"""What this machine's Apache itself says it loads: its config files in the order it reads
them (-D DUMP_INCLUDES), its modules (-D DUMP_MODULES) and its defined names
(-D DUMP_RUN_CFG), asked in one configtest run.

Apache's own answer settles what reading files guesses at: an Include inside a false
<IfDefine>, an IncludeOptional of a folder no layout names, the order of the files, a module
loaded under <IfModule>. A tree that cannot be asked (see below), or whose configtest fails
(a copy from another machine, say), is read as files (apache_config.py).

Asking runs Apache's control script, which sources the tree's envvars and loads every module
the config names, wherever its Includes lead: code of whoever could write any of those files.
So this machine's own tree (/etc/apache2, /etc/httpd: what Apache itself runs as root at its
next start) is asked as the running user; another tree only by root, and then as the user
nobody (whose rights no one gains anything from), never as root; a user other than root reads
another tree as files.
"""
import os
import pwd
import re
import signal
import stat
import subprocess
import threading

# Debian's control script honours APACHE_CONFDIR (its multi-instance setup); RHEL's httpd
# takes the ServerRoot with -d.
DEBIAN_CONTROL = '/usr/sbin/apache2ctl'
RHEL_HTTPD = '/usr/sbin/httpd'
DUMPS = ('-t', '-D', 'DUMP_INCLUDES', '-D', 'DUMP_MODULES', '-D', 'DUMP_RUN_CFG')
TIMEOUT = 20  # seconds: a configtest takes well under one; a hung one must not hang the doctor
DUMP_DEFINES = ('DUMP_INCLUDES', 'DUMP_MODULES', 'DUMP_RUN_CFG')
SYSTEM_TREES = ('/etc/apache2', '/etc/httpd')
NOBODY = 'nobody'

INCLUDED = re.compile(r'^\s+\((?:\d+|\*)\)\s+(\S.*?)\s*$')
MODULE = re.compile(r'^\s+(\w+)\s+\((?:static|shared)\)\s*$')
DEFINE = re.compile(r'^Define:\s+([^=\s]+)(?:=(.*))?$')


class Asked(object):
    """Apache's answer: ``files`` in reading order, ``modules`` loaded (names such as
    wsgi_module), ``defines`` {name: value or ''} as the config defines them."""

    def __init__(self, files, modules, defines):
        self.files = files
        self.modules = modules
        self.defines = defines


def control_command(apache_root):
    """The command that asks the Apache of ``apache_root``, with its environment; None when
    this machine has no such Apache or the tree may not be asked (see the module's text)."""
    if not apache_root or not may_ask(apache_root) or asking_user(apache_root) is False:
        return None
    env = dict(os.environ, LANG='C', LC_ALL='C')
    if os.path.isfile(os.path.join(apache_root, 'apache2.conf')) and \
            os.access(DEBIAN_CONTROL, os.X_OK):
        env['APACHE_CONFDIR'] = apache_root
        env.pop('APACHE_ENVVARS', None)
        return [DEBIAN_CONTROL] + list(DUMPS), env
    conf = os.path.join(apache_root, 'conf', 'httpd.conf')
    if os.path.isfile(conf) and os.access(RHEL_HTTPD, os.X_OK):
        return [RHEL_HTTPD, '-d', apache_root, '-f', conf] + list(DUMPS), env
    return None


def asking_user(apache_root):
    """None: ask as the running user (this machine's own tree); a pwd entry: ask as that
    user (root, another tree: nobody); False: do not ask."""
    if os.path.realpath(apache_root) in SYSTEM_TREES:
        return None
    if os.geteuid() != 0:
        return False
    try:
        return pwd.getpwnam(NOBODY)
    except KeyError:
        return False


def may_ask(apache_root):
    """The tree's folder and the files Apache starts from belong to root or to the running
    user, and neither group nor others may write them."""
    me = os.geteuid()
    for name in ('', 'apache2.conf', 'envvars', 'conf', os.path.join('conf', 'httpd.conf')):
        try:
            info = os.lstat(os.path.join(apache_root, name))
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode) or info.st_uid not in (0, me) or info.st_mode & 0o022:
            return False
    return True


def ask(apache_root):
    """Apache's answer for ``apache_root``, or None where it cannot be asked or cannot say
    (a config that fails its configtest, a missing binary): the caller reads the files."""
    found = control_command(apache_root)
    if found is None:
        return None
    command, env = found
    output = run_bounded(command, env, asking_user(apache_root))
    return output and parse(output)


def run_bounded(command, env, user=None):
    """The command's output if it ends well within TIMEOUT, else None: run in a session of
    its own (as ``user`` when given), so that what its shell starts is stopped with it."""
    def child():
        os.setsid()
        if user:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
    if user:
        env = dict(env, HOME='/', USER=user.pw_name, LOGNAME=user.pw_name)
    try:
        with open(os.devnull) as nothing:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=nothing, env=env, close_fds=True, cwd='/',
                                    preexec_fn=child)
    except (OSError, IOError):
        return None
    timer = threading.Timer(TIMEOUT, kill_quietly, [proc])
    timer.start()
    try:
        output = proc.communicate()[0]
    finally:
        timer.cancel()
    if proc.returncode != 0:
        return None
    return output.decode('utf-8', 'replace')


def kill_quietly(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def parse(output):
    """The three dumps out of one configtest's output; None if the output has no file list."""
    files, modules, defines = [], set(), {}
    for line in output.splitlines():
        included = INCLUDED.match(line)
        module = MODULE.match(line)
        define = DEFINE.match(line)
        if included:
            files.append(included.group(1))
        elif module:
            modules.add(module.group(1))
        elif define and define.group(1) not in DUMP_DEFINES:
            defines[define.group(1)] = define.group(2) or ''
    if not files:
        return None
    return Asked(files, modules, defines)


# -- sections that Apache's answer decides ------------------------------------------------

SECTION_OPEN = re.compile(r'^\s*<(IfModule|IfDefine)\s+("?)(!?)\s*([^>"]*?)\2\s*>', re.I)
SECTION_CLOSE = re.compile(r'^\s*</(IfModule|IfDefine)\s*>', re.I)


def module_id(name):
    """The name <IfModule> uses, as -D DUMP_MODULES writes it: mod_ssl.c -> ssl_module."""
    name = name.strip()
    match = re.match(r'^mod_(\w+)\.c$', name)
    if match:
        return match.group(1) + '_module'
    return name


def holds(kind, negated, argument, asked):
    """Whether a section's condition holds for what Apache said; True where Apache's answer
    cannot say (a module by a file name no dump shows), so nothing is dropped on a guess."""
    if kind.lower() == 'ifdefine':
        present = argument in asked.defines
    else:
        name = module_id(argument)
        if not name.endswith('_module'):
            return True
        present = name in asked.modules
    return present != bool(negated)


def active_text(text, asked):
    """``text`` with the lines of every <IfModule>/<IfDefine> section whose condition fails
    blanked (line numbers kept); sections nest."""
    out, stack = [], []
    for line in text.split('\n'):
        opened = SECTION_OPEN.match(line)
        closed = SECTION_CLOSE.match(line)
        live = all(stack)
        if opened:
            kind, _, negated, argument = opened.groups()
            stack.append(live and holds(kind, negated, argument.strip(), asked))
            out.append('')
        elif closed and stack:
            stack.pop()
            out.append('')
        else:
            out.append(line if live else '')
    return '\n'.join(out)


def expand_defines(text, asked):
    """${NAME} replaced where the config Defines NAME; the rest (Debian's envvars such as
    ${APACHE_LOG_DIR}) left for the readers that know them."""
    def value(match):
        name = match.group(1)
        return asked.defines[name] if asked.defines.get(name) else match.group(0)
    return re.sub(r'\$\{(\w+)\}', value, text)
