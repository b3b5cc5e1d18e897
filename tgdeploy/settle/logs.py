"""The deployment's logs: the folder (Apache's own, by the distribution, or --log-dir), the
files in it, and how they are rotated and kept.
"""
import os
import re

from tgdeploy.errors import TgDeployError
from tgdeploy.settle.checks import check_path
from tgdeploy.settle.paths import folder

# Where Apache's logs live: Debian's envvars sets APACHE_LOG_DIR (/var/log/apache2); RHEL's
# ServerRoot /etc/httpd holds logs -> /var/log/httpd. (The folder as Apache config says it,
# as a path, the distribution's rotation of it, Apache's rotatelogs, the owner, group and
# mode the distribution gives its log folder.)
DEBIAN_LOGS = ('${APACHE_LOG_DIR}', '/var/log/apache2', '/etc/logrotate.d/apache2',
               '/usr/bin/rotatelogs', ('root', 'adm', '0750'))
RHEL_LOGS = ('logs', '/var/log/httpd', '/etc/logrotate.d/httpd', '/usr/sbin/rotatelogs',
             ('root', 'root', '0700'))
# Days a log file is kept (systemd-tmpfiles removes older ones: apache/<slug>.tmpfiles).
LOG_DAYS = 14


def settle_logs(opts, values):
    """Fill ``values.logs``: the log folder (Apache's, or --log-dir), the files in it,
    their rotation."""
    log_text, log_path, system_rotation, rotatelogs, log_owner = platform_logs()
    if opts['log_dir']:
        log_path = log_text = check_path('--log-dir', folder(opts['log_dir'],
                                                             values.paths.project_dir, ''))
        if re.search(r'[\'"\\{}\[\]*?\x00-\x1f]', log_path):
            raise TgDeployError('--log-dir %s: quotes, backslashes, control characters and '
                                '{}[]*? cannot reach rotatelogs, logrotate and systemd-tmpfiles '
                                'intact: choose a folder without them' % log_path)
        if not values.paths.elsewhere and not os.path.isdir(log_path):
            # Apache refuses to start without it (AH02291).
            raise TgDeployError('--log-dir %s is not a folder: create it (root may own it: '
                                'Apache opens its logs before it drops root)' % log_path)
    name, daemon = values.daemon.name, values.apache.mode == 'daemon'
    values.logs.update(
        dir=log_text,
        path=log_path,
        system_rotation=system_rotation,
        rotatelogs=rotatelogs,
        owner=log_owner,
        days=LOG_DAYS,
        # The access logs' folder of its own in the log folder: the distribution's rotation
        # of *.log there (with its nightly restart) must not take rotatelogs' files too.
        folder=name,
        # Relative to the log folder: the error log, a plain file (the application's last
        # lines as its processes exit reach it; a piped one lost them), and the access log:
        # in daemon mode piped through rotatelogs (today's file a link it moves along; the
        # HTTPS virtual host's: https-access.log), in embedded mode a plain file, since
        # Apache's processes run the application and finish requests after a graceful
        # restart has ended the old piped loggers (bench/logs.py).
        piped_access=daemon,
        error_log=name + '-error.log',
        access_log=name + ('/access.log' if daemon else '-access.log'))


def platform_logs():
    """DEBIAN_LOGS or RHEL_LOGS, by the Apache tree this machine has."""
    if os.path.isdir('/etc/httpd') and not os.path.isdir('/etc/apache2'):
        return RHEL_LOGS
    return DEBIAN_LOGS
