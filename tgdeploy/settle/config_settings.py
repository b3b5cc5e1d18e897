"""How a setting reads in the configs tgdeploy derives from: the line of an ini or
TurboGears 1.x .cfg setting, whether its key names a secret, and where a TurboGears 2
package keeps its app_cfg.py.

The lowest layer of settle: production.py (secrets, what production changes),
installed.py (secrets kept from the installed config), write_locations.py and
mount_links.py read these here, so none of them imports another to get them.
"""
import os
import re

SECRET_NAME = re.compile(r'(?:^|[._])(?:secret|secret_key|validate_key|encrypt_key|'
                         r'cookie_secret)\Z', re.I)
SETTING = re.compile(r'^\s*(?P<key>[A-Za-z_][\w.]*)\s*[=:]\s*(?P<value>.*?)\s*$')


def is_secret(key):
    return bool(SECRET_NAME.search(key))


def unquote(value):
    if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
        return value[1:-1]
    return value


def app_cfg_path(package_dir):
    return package_dir and os.path.join(package_dir, 'config', 'app_cfg.py')
