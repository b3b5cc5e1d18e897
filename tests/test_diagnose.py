"""--diagnose's reading, without Apache: each catalogued message in the forms mod_wsgi 4.9/5.0
and 6.x write it (texts from their sources, with the prefixes Apache puts in front), the
logs found from a generated .conf (piped rotatelogs included), the time window, the bounded
read of a huge log, a symlink not followed, the exit codes. The real faults are provoked in
tests/test_diagnose_real.py."""
import os
import pwd
import time

import pytest

from tgdeploy.errors import TgDeployError
from tgdeploy.serve import diagnose, diagnose_logs
from tgdeploy.serve.diagnose_messages import BY_ID, classify, plain
from tgdeploy.settle.settled import Settled

T = '[Thu Dec 03 12:52:24.123456 2026] '
W4 = T + '[wsgi:error] [pid 41:tid 140] [client 127.0.0.1:5000] mod_wsgi (pid=41): '
W6 = T + '[wsgi:error] [pid 41:tid 140] [client 127.0.0.1:5000] [script /p/apache/x.wsgi] '
INFO4 = T + '[wsgi:info] [pid 41:tid 140] mod_wsgi (pid=41): '
RAW = T + '[wsgi:error] [pid 41:tid 140] [client 127.0.0.1:5000] '

# (line as logged, the kind --diagnose must call it)
LINES = [
    (RAW + "Truncated or oversized response headers received from daemon process 'x': "
     "/p/apache/x.wsgi", 'headers-truncated'),
    (W6 + "WSGI0146: Daemon process 'x' closed connection before sending complete response "
     "headers.", 'headers-truncated'),
    (W6 + "WSGI0147: Error reading response headers from daemon process 'x' (Broken pipe).",
     'headers-truncated'),
    (W6 + "WSGI0144: Response header line too long from daemon process 'x'.",
     'header-too-long'),
    (RAW + "Timeout when reading response headers from daemon process 'x': /p/apache/x.wsgi",
     'headers-timeout'),
    (W6 + "WSGI0145: Timeout when reading response headers from daemon process 'x'.",
     'headers-timeout'),
    (W4 + "Queue timeout expired for WSGI daemon process 'x'.", 'queue-timeout'),
    (W6 + "WSGI0084: Queue timeout expired for WSGI daemon process 'x'.", 'queue-timeout'),
    (T + "[wsgi:error] [pid 41:tid 140] (2)No such file or directory: [client 127.0.0.1:5000] "
     "mod_wsgi (pid=41): Unable to connect to WSGI daemon process 'x' on "
     "'/run/wsgi.41.0.1.sock' after multiple attempts as listener backlog limit was exceeded "
     "or the socket does not exist.", 'daemon-unreachable'),
    (W6 + "WSGI0116: Unable to connect to WSGI daemon process 'x' on '/run/s.sock' after "
     "multiple attempts as listener backlog limit was exceeded or the socket does not exist.",
     'daemon-unreachable'),
    (W4 + "Unable to connect to WSGI daemon process 'x' on '/run/s.sock' as user with "
     "uid=33.", 'daemon-socket-denied'),
    (INFO4 + "Daemon process request time limit exceeded, stopping process 'x'.",
     'request-timeout'),
    (T + "[wsgi:info] [pid 41:tid 140] Daemon process request time limit exceeded, stopping "
     "daemon process 'x'.", 'request-timeout'),
    (W6 + "Request interrupted by RequestTimeout; thread recovered.", 'request-interrupted'),
    (T + "[wsgi:info] [pid 41:tid 140] Injected RequestTimeout into thread 2 of daemon process "
     "'x'.", 'request-interrupted'),
    (INFO4 + "Daemon process deadlock timer expired, stopping process 'x'.", 'deadlock'),
    (T + "[wsgi:info] [pid 41:tid 140] Daemon process deadlock timer expired, stopping daemon "
     "process 'x'.", 'deadlock'),
    (INFO4 + "Process 'x' has died, deregister and restart it.", 'daemon-died'),
    (INFO4 + "Process 'x' terminated by signal 9", 'daemon-died'),
    (T + "[wsgi:info] [pid 40:tid 140] Process 'x' (pid=41) has died; deregistering and "
     "restarting it.", 'daemon-died'),
    (T + "[core:notice] [pid 40:tid 140] AH00052: child pid 41 exit signal Segmentation "
     "fault (11)", 'daemon-died'),
    (W4 + "Failed to exec Python script file '/p/apache/x.wsgi'.", 'script-failed'),
    (W6 + "WSGI0109: Unable to execute Python script file '/p/apache/x.wsgi'.",
     'script-failed'),
    (W4 + "Target WSGI script '/p/apache/x.wsgi' cannot be loaded as Python module.",
     'script-failed'),
    (T + "[wsgi:error] [pid 41:tid 140] (13)Permission denied: [client 127.0.0.1:5000] "
     "mod_wsgi (pid=41, process='x', application=''): Could not read/compile source file "
     "'/p/apache/x.wsgi'.", 'script-unreadable'),
    (W6 + "WSGI0105: Could not read or compile WSGI script '/p/apache/x.wsgi' for daemon "
     "process 'x'.", 'script-unreadable'),
    (T + "[core:error] [pid 41:tid 140] (13)Permission denied: [client 127.0.0.1:5000] "
     "AH00035: access to /m denied (filesystem path '/p/apache') because search permissions "
     "are missing on a component of the path", 'script-unreadable'),
    (W4 + "Target WSGI script '/p/apache/x.wsgi' does not contain WSGI application "
     "'application'.", 'no-application'),
    (W4 + "Exception occurred processing WSGI script '/p/apache/x.wsgi'.",
     'request-exception'),
    (W6 + "WSGI0174: ValueError exception raised processing WSGI script '/p/apache/x.wsgi' "
     "for daemon process 'x'.", 'request-exception'),
    (T + "[wsgi:error] [pid 41:tid 140] mod_wsgi (pid=41): Python home /v is not accessible. "
     "Python interpreter may not be able to be initialized correctly.", 'python-home'),
    ("Fatal Python error: init_fs_encoding: failed to get the Python codec of the filesystem "
     "encoding", 'python-home'),
    (T + "[wsgi:error] [pid 41:tid 140] (70007)The timeout specified has expired: [client "
     "127.0.0.1:5000] mod_wsgi (pid=41): Failed to proxy response from daemon.",
     'proxy-timeout'),
    (W6 + "WSGI0118: Unable to proxy response to client (read timeout).", 'proxy-timeout'),
    (T + "[wsgi:error] [pid 41:tid 140] (32)Broken pipe: [client 127.0.0.1:5000] mod_wsgi "
     "(pid=41): Failed to proxy response to client.", 'client-gone'),
    (RAW + "OSError: Apache/mod_wsgi failed to write response data: Broken pipe",
     'client-gone'),
    (INFO4 + "Maximum requests reached, triggering immediate shutdown 'x'.",
     'maximum-requests'),
    (INFO4 + "Starting process 'x' with uid=33, gid=33 and threads=1.", 'daemon-start'),
    (T + "[wsgi:info] [pid 41:tid 140] Starting daemon process 'x' with uid=33, gid=33 and "
     "threads=1.", 'daemon-start'),
]


@pytest.mark.parametrize('line,kind', LINES, ids=[kind for line, kind in LINES])
def test_each_message_is_recognised(line, kind):
    message = diagnose.error_lines(line, None)[0][2]
    found, match = classify(plain(message))
    assert found is not None and found.id == kind, (plain(message), found)
    assert found.cause and found.fix
    if 'group' in match.groupdict() and "'x'" in line:
        assert match.group('group') == 'x'


def test_every_kind_is_tested():
    assert set(BY_ID) == set(kind for line, kind in LINES)


def test_error_and_access_times():
    when = diagnose.error_time(T + 'x')
    assert time.localtime(when)[:6] == (2026, 12, 3, 12, 52, 24)
    entry = diagnose.access_entry('127.0.0.1 - - [03/Dec/2026:12:52:24 +0100] "GET /m/ '
                                  'HTTP/1.1" 504 300 "-" "curl/8" 1000012')
    assert entry == (when_utc(2026, 12, 3, 11, 52, 24), 'GET /m/ HTTP/1.1', 504)


def when_utc(*fields):
    import calendar
    return calendar.timegm(fields + (0, 0, 0))


# -- the logs a generated .conf names ----------------------------------------------------

CONF = '''WSGIDaemonProcess x \\
    processes=1 threads=1
<VirtualHost *:80>
ErrorLog "%(logs)s/site-error.log"
CustomLog "|/usr/bin/rotatelogs -l -f -D -L '%(logs)s/site/access.log' '%(logs)s/site/access.%%Y-%%m-%%d.log' 86400" "%%h %%l %%u %%t \\"%%r\\" %%>s %%O \\"%%{Referer}i\\" \\"%%{User-Agent}i\\" %%D"
</VirtualHost>
'''


def deployment(tmp_path, conf=CONF, log_dir=None):
    logs = tmp_path / 'logs'
    (logs / 'site').mkdir(parents=True)
    apache = tmp_path / 'apache'
    apache.mkdir()
    (apache / 'site.conf').write_text(conf % {'logs': log_dir or logs})
    return Settled.from_flat({'conf_file': str(apache / 'site.conf'), 'log_dir': log_dir,
                              'log_path': str(logs), 'project_dir': str(tmp_path)}), logs


def now_error(message, ago=0):
    stamp = time.strftime('[%a %b %d %H:%M:%S.000000 %Y] ', time.localtime(time.time() - ago))
    return stamp + '[wsgi:error] [pid 7:tid 8] ' + message + '\n'


def now_access(status, path='/', ago=0):
    stamp = time.strftime('%d/%b/%Y:%H:%M:%S +0000', time.gmtime(time.time() - ago))
    return '127.0.0.1 - - [%s] "GET %s HTTP/1.1" %d 10 "-" "curl" 1200\n' % (stamp, path, status)


def run(values, **kwargs):
    lines = []
    code = diagnose.diagnose(values, lines.append, **kwargs)
    return code, '\n'.join(lines)


def test_the_logs_of_the_conf_rotated_ones_included_and_the_window(tmp_path):
    values, logs = deployment(tmp_path)
    (logs / 'site-error.log').write_text(
        now_error("mod_wsgi (pid=7): Queue timeout expired for WSGI daemon process 'x'.") +
        now_error("mod_wsgi (pid=7): Exception occurred processing WSGI script 'w'.", 7200))
    (logs / 'site-error.log.1').write_text(
        now_error("mod_wsgi (pid=7): Failed to proxy response to client.", 60))
    (logs / 'site' / 'access.2026-12-02.log').write_text(now_access(502, ago=120))
    (logs / 'site' / 'access.2026-12-03.log').write_text(
        ''.join(now_access(500, '/x') for _ in range(6)))
    os.symlink('access.2026-12-03.log', str(logs / 'site' / 'access.log'))  # rotatelogs' -L
    code, text = run(values, minutes=60)
    assert code == 3
    assert '[queue-timeout]' in text and '[client-gone]' in text
    assert 'request-exception' not in text  # two hours ago
    assert 'answers 500 in the access log: 6 times' in text and 'a burst of 6' in text
    assert 'answers 502 in the access log: 1 time' in text
    assert text.count('access.log') == 0  # the link is not read, its file is
    assert text.index('[http-500]') < text.index('[client-gone]')  # errors first


def test_log_dir_as_apache_reads_it(tmp_path, monkeypatch):
    values, logs = deployment(tmp_path, log_dir='${APACHE_LOG_DIR}')
    (logs / 'site-error.log').write_text(
        now_error("mod_wsgi (pid=7): Failed to proxy response to client."))
    monkeypatch.delenv('APACHE_LOG_DIR', raising=False)
    code, text = run(values)
    assert code == 1 and '[client-gone]' in text  # log_path: the platform's folder
    monkeypatch.setenv('APACHE_LOG_DIR', str(tmp_path / 'elsewhere'))
    with pytest.raises(TgDeployError) as e:
        run(values)
    assert str(tmp_path / 'elsewhere' / 'site-error.log') in str(e.value)


def test_nothing_found_and_no_log_at_all(tmp_path):
    values, logs = deployment(tmp_path)
    with pytest.raises(TgDeployError) as e:
        run(values)
    message = str(e.value)
    assert '\n' not in message and str(logs / 'site-error.log') in message
    assert str(logs / 'site' / 'access.*-*-*.log') in message
    (logs / 'site-error.log').write_text(now_error('AH00094: Command line: apache2'))
    assert run(values) == (0, 'read %s (the last 1440 minutes)\nnothing found'
                           % (logs / 'site-error.log'))
    os.remove(values.paths.conf_file)
    with pytest.raises(TgDeployError) as e:
        run(values)
    assert 'deploy first' in str(e.value)


def test_a_symlink_for_the_log_is_not_followed(tmp_path):
    values, logs = deployment(tmp_path)
    secret = tmp_path / 'secret'
    secret.write_text(now_error("mod_wsgi (pid=7): Queue timeout expired for WSGI daemon "
                                "process 'x'."))
    os.symlink(str(secret), str(logs / 'site-error.log'))
    (logs / 'site' / 'access.2026-12-03.log').write_text(now_access(200))
    code, text = run(values)
    assert code == 0 and 'a symlink, not followed' in text and 'queue-timeout' not in text


def test_a_huge_log_is_read_from_its_end_only(tmp_path):
    values, logs = deployment(tmp_path)
    path = logs / 'site-error.log'
    with open(str(path), 'wb') as f:
        f.truncate(200 * 1024 * 1024)  # 200 MiB (sparse) before the last lines
        f.seek(0, 2)
        f.write(b'\n' + now_error("mod_wsgi (pid=7): Queue timeout expired for WSGI daemon "
                                   "process 'x'.").encode())
    started = time.time()
    code, text = run(values, limit=4 * 1024 * 1024)
    assert time.time() - started < 5
    assert code == 3 and '[queue-timeout]' in text
    assert 'only its last 4 MiB read (200 MiB before them skipped)' in text


@pytest.mark.parametrize('prefix', ['', '[script /p/apache/x.wsgi] '], ids=['4.9', '6.x'])
def test_tracebacks_grouped_by_exception_and_frame_in_the_project(tmp_path, prefix):
    """6.x puts the script in front of each line the application writes to wsgi.errors."""
    values, logs = deployment(tmp_path)
    project = values.paths.project_dir
    block = ['Traceback (most recent call last):',
             '  File "/v/lib/python3.11/site-packages/cherrypy/_cprequest.py", line 659, in '
             'respond',
             '  File "%s/pkg/controllers.py", line 12, in index' % project,
             '  File "/v/lib/python3.11/site-packages/sqlalchemy/engine.py", line 3, in execute',
             'sqlite3.OperationalError: attempt to write a readonly database']
    text = ''.join(now_error(prefix + line) for line in block * 3)
    text += ''.join(now_error(prefix + line) for line in block[:2] + ['KeyError: 3'])
    (logs / 'site-error.log').write_text(text)
    code, report = run(values)
    assert code == 3
    assert ('Python traceback: sqlite3.OperationalError at pkg/controllers.py:12 in index: '
            '3 times') in report
    assert 'Python traceback: KeyError at /v/lib/python3.11/site-packages/cherrypy/' \
           '_cprequest.py:659 in respond (no frame in the project): 1 time' in report


def test_the_server_log_lines_about_this_daemon_group(tmp_path):
    """Apache's parent logs a daemon's deaths and starts in the server's own error log."""
    values, logs = deployment(tmp_path)
    (logs / 'site-error.log').write_text('')
    (logs / 'error.log').write_text(  # Debian's, in the platform's log folder
        now_error("mod_wsgi (pid=9): Process 'x' has died, deregister and restart it.") +
        now_error("mod_wsgi (pid=9): Process 'x' terminated by signal 9") +
        now_error("mod_wsgi (pid=9): Process 'other' terminated by signal 11") +
        now_error("mod_wsgi (pid=9): Starting process 'x' with uid=33, gid=33 and threads=1."))
    code, text = run(values)
    died = [line for line in text.splitlines() if '[daemon-died]' in line]
    assert code == 3 and ': 2 times, ' in died[0]
    assert died[0].endswith('; signal 9') and 'signal 11' not in died[0], died
    assert 'daemon process started: 1 time' in text


def test_without_an_error_log_of_its_own_the_servers_is_read_whole(tmp_path):
    """No --server-name: the .conf has a GlobalLog only; the errors are in the server's."""
    values, logs = deployment(tmp_path, conf='WSGIDaemonProcess x\nGlobalLog '
                              '"%(logs)s/site/access.log" combined\n')
    (logs / 'error.log').write_text(
        now_error("mod_wsgi (pid=7): Exception occurred processing WSGI script 'w'."))
    code, text = run(values, minutes=0)
    assert code == 3 and '[request-exception]' in text and '(every line)' in text
    assert 'names no ErrorLog of its own (no --server-name)' in text


def test_since_beyond_any_log_is_refused_in_one_line():
    for value in ('1' + '0' * 400, str(diagnose.MAX_MINUTES + 1)):
        with pytest.raises(TgDeployError) as refused:
            diagnose.minutes(value)
        assert 'give a number of minutes' in str(refused.value)
    assert diagnose.minutes(str(diagnose.MAX_MINUTES)) == diagnose.MAX_MINUTES


def test_as_root_a_folder_symlink_another_user_planted_among_the_logs_is_not_followed(
        tmp_path):
    """The log folder belongs to the application's user, who swaps the rotated logs' folder
    for a symlink to a folder only root may read: root's --diagnose must not show it."""
    if os.geteuid() != 0:
        pytest.fail('this test is about a run as root (CI runs the tests as root)')
    values, logs = deployment(tmp_path)
    (logs / 'site-error.log').write_text(now_error('AH00094: Command line: apache2'))
    hidden = tmp_path / 'root-only'
    hidden.mkdir(mode=0o700)
    (hidden / 'access.2026-12-03.log').write_text(now_access(500, '/SECRET-TOKEN'))
    os.rmdir(str(logs / 'site'))
    os.symlink(str(hidden), str(logs / 'site'))
    nobody = pwd.getpwnam('nobody')
    os.lchown(str(logs / 'site'), nobody.pw_uid, nobody.pw_gid)
    os.chown(str(logs), nobody.pw_uid, nobody.pw_gid)
    code, text = run(values)
    assert 'SECRET-TOKEN' not in text, text
    assert 'access.2026-12-03.log not read' in text and 'leads through a symlink' in text, text
