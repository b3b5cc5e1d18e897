"""The deployment's folders: the output folder (apache/, swapped whole), the data folder
(the one the daemon user may write), where each may lie, and the file names they hold.
"""
import os
import pwd
import re

from tgdeploy.errors import TgDeployError

# Folders that must never become the data folder (the README chowns it to the daemon
# user) nor the output folder (it is swapped whole); folders below them are fine.
SYSTEM_DIRS = ('/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64',
               '/libx32', '/media', '/mnt', '/opt', '/proc', '/root', '/run', '/sbin', '/srv',
               '/sys', '/tmp', '/usr', '/usr/bin', '/usr/lib', '/usr/local', '/usr/sbin',
               '/usr/share', '/var', '/var/lib', '/var/log', '/var/tmp', '/var/www',
               '/etc/apache2', '/etc/httpd')


def folder(given, project_dir, default_name):
    """An output or data folder: relative ones are taken from the project, not the cwd."""
    return os.path.abspath(os.path.join(project_dir, given or default_name))


def file_slug(name):
    slug = re.sub(r'[^A-Za-z0-9_.-]+', '-', name).strip('-.')
    if not slug:
        raise TgDeployError('project name %r gives no usable file name: rename the project'
                            % name)
    return slug


def within(path, folder):
    """Whether ``path`` is ``folder`` or lies below it (both absolute, normalised)."""
    return path == folder or path.startswith(folder.rstrip('/') + '/')


def either_within(path, folder):
    # Symlinks are compared both as written and resolved.
    return within(path, folder) or within(os.path.realpath(path), os.path.realpath(folder))


def system_folder(path):
    return path in SYSTEM_DIRS or any(within(path, top) for top in ('/proc', '/sys', '/dev'))


def check_output_dir(apache_dir, project_dir):
    # Checked as written and as resolved: a symlink (apache -> /etc, /proc/1/root) must not
    # lead the swap to a system folder or to the folder that holds the project.
    for path in (apache_dir, os.path.realpath(apache_dir)):
        if system_folder(path) or either_within(project_dir, path):
            raise TgDeployError('--output-dir %s%s would be swapped whole, and it is %s: use a '
                                'folder of its own such as %s' % (
                                    apache_dir, '' if path == apache_dir else ' (%s)' % path,
                                    'a system folder' if system_folder(path) else
                                    'the project folder or holds it',
                                    os.path.join(project_dir, 'apache')))


def check_data_dir(data_dir, project_dir, python_home):
    homes = set(entry.pw_dir.rstrip('/') or '/' for entry in pwd.getpwall())
    real = os.path.realpath(data_dir)
    if system_folder(data_dir) or system_folder(real) or data_dir in homes or real in homes:
        raise TgDeployError('--data-dir %s is a system or home folder, and the README would '
                            'have you chown it to the daemon user: use a folder of its own such '
                            'as %s' % (data_dir, os.path.join(project_dir, 'data')))
    for folder, what in ((project_dir, 'the project'), (python_home, 'the virtualenv')):
        if either_within(folder, data_dir):
            raise TgDeployError('--data-dir %s holds %s (%s), and the README would have you '
                                'chown it to the daemon user: use %s'
                                % (data_dir, what, folder, os.path.join(project_dir, 'data')))


def check_placement(apache_dir, data_dir, static_dirs):
    """Neither the output nor the data folder inside a folder that exposes it."""
    exposing = [(static, 'the static folder %s, which Apache serves to anyone' % static)
                for static in static_dirs]
    for path, option, others in (
            (data_dir, 'data-dir', exposing + [(apache_dir, 'the output folder %s' % apache_dir)]),
            (apache_dir, 'output-dir', exposing + [(data_dir, 'the data folder %s, which the '
                                                   'daemon user may write (it could rewrite '
                                                   'its own .wsgi)' % data_dir)])):
        for folder, what in others:
            if either_within(path, folder):
                raise TgDeployError('--%s %s lies inside %s: choose a folder outside it'
                                    % (option, path, what))
