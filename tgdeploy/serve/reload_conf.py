"""--reload: what was deployed, read from the generated .conf (the daemon's name, user,
home, mount and the virtual host's port), bounded: the project's folder may belong to
another user, who could put a FIFO, a symlink or a huge file where the .conf was."""
import os

from tgdeploy.errors import TgDeployError
from tgdeploy.files.regular_file import NotRegular, read_with_identity

CONF_LIMIT = 1024 * 1024  # a generated .conf is a few KiB


def deployed(values):
    """Name, user, group, home, python-home, locale, mount and .wsgi of the daemon as the
    generated .conf says (the options of this run may differ from the deploy's: --mount
    changes the name), with this run's values where the file is missing."""
    target = {'name': values.daemon.name, 'user': values.daemon.user,
              'home': values.paths.project_dir, 'mount': values.apache.mount or '/',
              'server_name': values.apache.server_name, 'port': None, 'tls': False,
              'group': values.daemon.group, 'python_home': values.python.home,
              'lang': values.daemon.locale, 'locale': values.daemon.locale,
              'wsgi_file': values.paths.wsgi_file,
              'file': None}  # (device, inode) of the .conf read, which an Apache must load
    there = os.path.lexists(values.paths.conf_file)  # a dangling symlink is there too
    if values.apache.mode != 'daemon' and not there:
        raise TgDeployError('--reload is for daemon mode; this deployment runs embedded in '
                            'Apache: apachectl graceful')
    if there:
        read_conf(values.paths.conf_file, target)
    return target


def conf_text(path):
    """(text, (device, inode)) of the .conf. Its folder is opened once without following a
    symlink (unless it is one already, which options.settle let through: another user's is
    refused there) and the file read through that descriptor, so a folder swapped for a
    symlink since cannot lead the read elsewhere."""
    folder, name = os.path.split(os.path.abspath(path))
    # O_PATH (Linux, Python 3): the folder need not be readable, only entered, as before.
    flags = getattr(os, 'O_PATH', os.O_RDONLY) | getattr(os, 'O_DIRECTORY', 0)
    if not os.path.islink(folder):
        flags |= getattr(os, 'O_NOFOLLOW', 0)
    fd = os.open(folder, flags)
    try:
        data, identity = read_with_identity('/proc/self/fd/%d/%s' % (fd, name), CONF_LIMIT)
    except NotRegular as e:
        raise TgDeployError('%s %s: --reload reads only the regular file tgdeploy wrote there; '
                            'nothing signalled. Remove it and deploy again' % (path, e.why))
    except EnvironmentError as e:
        e.filename = path  # the path the user knows, not /proc/self/fd/N/...
        raise
    finally:
        os.close(fd)
    return data.decode('utf-8', 'replace'), identity


def read_conf(path, target):
    daemon = None
    host = {}
    text, target['file'] = conf_text(path)
    text = text.replace('\\\n', ' ')
    for line in text.splitlines():
        words = apache_words(line)
        if not words:
            continue
        key = words[0].lower()
        if key == 'wsgidaemonprocess' and daemon is None and len(words) > 1:
            daemon = words
        elif key == '<virtualhost' and len(words) > 1:
            host = {'port': words[1].rstrip('>').rsplit(':', 1)[-1], 'tls': False}
        elif key == 'sslengine' and words[1:2] == ['on']:
            host['tls'] = True
        elif key == 'servername' and len(words) > 1:
            target['server_name'] = words[1]
        elif key == 'wsgiscriptalias' and len(words) > 1:
            target['mount'] = words[1]
            if len(words) > 2:
                target['wsgi_file'] = words[2]
            if host.get('port', '').isdigit():
                target['port'], target['tls'] = int(host['port']), host['tls']
    if daemon is None:
        raise TgDeployError('%s has no WSGIDaemonProcess: --reload is for daemon mode (embedded '
                            'mode lives in Apache\'s processes: apachectl graceful)' % path)
    target['name'] = daemon[1]
    for word in daemon[2:]:
        key, _, value = word.partition('=')
        if key in ('user', 'group', 'home', 'python-home', 'lang', 'locale'):
            target[key.replace('-', '_')] = value


def apache_words(line):
    """The words of one config line as Apache (ap_getword_conf) and mod_wsgi's name=value
    options split them: a quoted stretch keeps its spaces, and inside it a backslash escapes
    the quote character only."""
    words, word, quote, i = [], None, None, 0
    line = line.strip()
    if line.startswith('#'):
        return []
    while i < len(line):
        c = line[i]
        if quote:
            if c == '\\' and line[i + 1:i + 2] == quote:
                i += 1
                word += quote
            elif c == quote:
                quote = None
            else:
                word += c
        elif c in '"\'':
            quote, word = c, word or ''
        elif c.isspace():
            if word is not None:
                words.append(word)
            word = None
        else:
            word = (word or '') + c
        i += 1
    if word is not None:
        words.append(word)
    return words
