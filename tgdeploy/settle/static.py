"""What Apache serves itself: the project's static folders as aliases under the mount,
the folder the application serves at its root (mod_rewrite), and the user's --alias.
"""
import os
import re
import shlex

from tgdeploy.errors import TgDeployError
from tgdeploy.settle.checks import UNCARRIED, check_path
from tgdeploy.settle.paths import either_within, folder, within


def join_url(mount, url):
    return url if mount == '/' else mount + url


def apache_static(urls, mount):
    """(Aliases Apache can carry, paths it cannot): quoted, a file named "my file.txt" or
    "r\u00e9sum\u00e9.pdf" is served by Apache; only names UNCARRIED holds are left to the
    application, which serves the static folder too."""
    usable, skipped = [], []
    for url, path in urls:
        if UNCARRIED.search(url.replace('%', '')) or UNCARRIED.search(path.replace('%', '')):
            skipped.append(path)
        else:
            usable.append((join_url(mount, url), path))
    return usable, skipped


def rewritable(static_root):
    """The folder the application serves at its root, if mod_rewrite can name it: it reads
    $N, %N and backslashes in its strings as its own, has no escape for a double quote, and
    cuts a substitution at "?" (its query) or "#". Elsewhere the application serves the
    folder, and the aliases its entries."""
    if static_root and not re.search(r'[$\\"?#]', static_root) and \
            not UNCARRIED.search(static_root):
        return static_root
    return None


def folders_of(static_urls, static_root=None):
    """The folders Apache serves: each aliased folder, or the folder of an aliased file,
    and the application's static root."""
    folders = sorted(set([path if os.path.isdir(path) else os.path.dirname(path)
                          for _, path in static_urls] + ([static_root] if static_root else [])))
    return [f for f in folders if not any(within(f, other) and f != other for other in folders)]


def check_aliases(given, static_urls, private, static_dirs, project_dir, elsewhere):
    """[(url, path)] from --alias URL=PATH (repeatable): Apache serves PATH at URL."""
    if not given:
        return []
    try:
        items = list(given) if isinstance(given, (list, tuple)) else shlex.split(given)
    except ValueError as e:
        raise TgDeployError('--alias %r: %s; quote each URL=PATH as a shell would' % (given, e))
    aliases = []
    for item in items:
        url, sep, path = item.partition('=')
        if not sep or not url.startswith('/') or not path:
            raise TgDeployError('--alias %r is not URL=PATH, such as /media=/srv/shop/media'
                                % item)
        check_url_path(url, item)
        path = check_path('--alias ' + url, folder(path, project_dir, ''))
        if not elsewhere and not os.path.exists(path):
            raise TgDeployError('--alias %s: %s does not exist: create it, or pass '
                                '--elsewhere yes if these files are for another machine'
                                % (url, path))
        for taken, _ in static_urls + aliases:
            if within(url.rstrip('/'), taken.rstrip('/')) or within(taken, url.rstrip('/')):
                raise TgDeployError('--alias %s clashes with the static alias %s the project '
                                    'already has: choose another URL' % (url, taken))
        if any(either_within(path, p) or either_within(p, path) for p in private) and \
                not any(either_within(path, s) for s in static_dirs):
            raise TgDeployError('--alias %s=%s would open a private folder of the project '
                                '(its sources, apache/ or data): serve a folder outside it'
                                % (url, path))
        aliases.append((url.rstrip('/') or '/', path))
    return aliases


def check_url_path(url, item):
    if re.search(r'[\x00-\x20\x7f"\\<>%]', url) or '${' in url or \
            set(url.split('/')) & set(['.', '..']):
        raise TgDeployError('--alias %r: the URL may hold letters, digits and ._~-/ '
                            'such as /media' % item)
