"""--diagnose: the error-log lines it knows, as data. Each kind has a stable id, a level
(error, warning, info), the patterns of its message in mod_wsgi 4.9 and 5.0 ("mod_wsgi
(pid=N): ...") and 6.x (numbered "WSGI0145: ..."), read in mod_wsgi's sources, the cause,
and the fix in tgdeploy's terms (the option, --doctor, the README section).

A pattern is matched against the message once Apache's and mod_wsgi's prefixes are gone
(plain()): the time, module, pid, errno, client, "AH01234:", "mod_wsgi (pid=N):",
"[script PATH]" and "WSGI0123:" parts. Its named group ``group``, when there, is the daemon
process group the line is about."""
import re
from collections import namedtuple

Kind = namedtuple('Kind', 'id level title patterns cause fix')

ERROR, WARNING, INFO = 'error', 'warning', 'info'
LEVELS = (ERROR, WARNING, INFO)  # worst first
GROUP = r"'(?P<group>[^']*)'"

# The prefixes in front of a message, in any order: errno text, client, Apache's and
# mod_wsgi's numbers, mod_wsgi 4.x/5.x's pid, 6.x's script.
PREFIXES = re.compile(r'^(?:\(\d+\)[^:]*: |\[(?:client|remote) [^\]]*\] ?|AH\d+: |'
                      r'mod_wsgi \(pid=\d+[^)]*\): |\[script [^\]]*\] |WSGI\d{4}: )')

KINDS = (
    Kind('headers-truncated', ERROR, 'the daemon process ended a request before its headers',
         (r"^Truncated or oversized response headers received from daemon process " + GROUP,
          r"^Daemon process " + GROUP + r" closed connection before sending complete "
          r"response headers",
          r"^Error reading response headers from daemon process " + GROUP),
         'the daemon process serving the request died or dropped it: killed (a kill -9, the '
         'kernel\'s OOM killer), crashed in a C extension, restarted by request-timeout or '
         'the deadlock timer, or the application sent a header larger than the header '
         'buffer (mod_wsgi 4.9/5.0 say the same then); the client got a 500',
         'look at the daemon-died, request-timeout and deadlock lines at the same time; for '
         'memory: dmesg | grep -i oom, then fewer --threads or --maximum-requests; for a '
         'crash: the extension named in the core dump (tgdeploy already runs the application '
         'in the main interpreter, application-group=%{GLOBAL}); for a large cookie or '
         'header: raise --header-buffer-size (mod_wsgi\'s default 32768 bytes)'),
    Kind('header-too-long', ERROR, 'a response header longer than mod_wsgi accepts',
         (r"^Response header line too long from daemon process " + GROUP,
          r"^Malformed header '.*' found when reading script headers from daemon process "
          + GROUP),
         'the application sent a header (usually a large cookie) longer than the daemon\'s '
         'header buffer (mod_wsgi\'s default 32768 bytes); the client got a 500',
         'raise --header-buffer-size (tgdeploy --header-buffer-size 65536, then deploy again), '
         'or make the cookie smaller'),
    Kind('headers-timeout', ERROR, 'no response headers within socket-timeout',
         (r"^Timeout when reading response headers from daemon process " + GROUP,),
         'the application did not start its answer within --socket-timeout (default 60 s): '
         'a slow page, a stuck thread, or a request that waited for a busy daemon',
         'find the slow URLs in the access log (its last field is the time in microseconds); '
         'fix them, or raise --socket-timeout and --request-timeout together'),
    Kind('queue-timeout', ERROR, 'a request waited too long for a free daemon thread',
         (r"^Queue timeout expired for WSGI daemon process " + GROUP,),
         'every thread of every daemon process was busy for --queue-timeout seconds (default '
         '45); the request was answered 504 without reaching Python (4.9, 5.0 and 6.x)',
         'more capacity: --processes and --threads (README "Production settings"), and find '
         'what holds the threads (slow URLs in the access log, request-timeout lines); '
         '--queue-timeout 0 makes requests wait on instead'),
    Kind('daemon-unreachable', ERROR, 'Apache could not reach the daemon processes',
         (r"^Unable to connect to WSGI daemon process " + GROUP + r" on '[^']*' after "
          r"multiple attempts",
          r"^Unable to send request details to WSGI daemon process " + GROUP,
          r"^Maximum number of WSGI daemon process (?:restart connects reached|" + GROUP +
          r" restart attempts reached)"),
         'the daemon processes were not running (their start-up failed, or they were being '
         'restarted), or their socket was full or deleted (a tmp cleaner removing '
         'WSGISocketPrefix\'s files); the client got a 503',
         'read the script-failed and daemon-died lines before it; tgdeploy --check runs the '
         'deployment in a private Apache and shows its start-up traceback'),
    Kind('daemon-socket-denied', ERROR, 'Apache may not use the daemon\'s socket',
         (r"^Unable to connect to WSGI daemon process " + GROUP + r" on '[^']*' as user",),
         'Apache\'s worker user cannot open the daemon\'s socket (WSGISocketPrefix in a '
         'folder it may not enter); every request is a 503',
         'tgdeploy --doctor; point WSGISocketPrefix at a folder Apache\'s user can enter '
         '(Debian: /var/run/apache2/wsgi)'),
    Kind('request-timeout', ERROR, 'requests ran past request-timeout: process restarted',
         (r"^Daemon process request time limit exceeded",),
         'requests ran longer than --request-timeout (default 60 s): mod_wsgi 4.9/5.0 '
         'restart the process once the running requests\' time averaged over its threads '
         'passes it, 6.x when one request passes timeout x (1 + ln threads); every request '
         'in that process got a 500/502',
         'find the slow URLs in the access log (last field: microseconds) and fix them, move '
         'long work out of the request, or raise --request-timeout'),
    Kind('request-interrupted', WARNING, 'a request ran past request-timeout: interrupted',
         (r"^Request interrupted by RequestTimeout",
          r"^Injected RequestTimeout into thread \d+ of daemon process " + GROUP),
         'with --interrupt-timeout, mod_wsgi 6.x raised mod_wsgi.RequestTimeout in the thread '
         'of a request that ran past --request-timeout and answered 504; the process went '
         'on serving',
         'find the slow URLs in the access log (last field: microseconds) and fix them, or '
         'raise --request-timeout'),
    Kind('deadlock', ERROR, 'the Python interpreter was stuck: process restarted',
         (r"^Daemon process deadlock timer expired",),
         'a thread held Python\'s global lock for deadlock-timeout (300 s): a C extension '
         'blocked without releasing it, or a sub-interpreter deadlock',
         'the traceback dump logged before it names the code; tgdeploy already runs the '
         'application in the main interpreter (application-group=%{GLOBAL}); update or '
         'replace the extension'),
    Kind('daemon-died', ERROR, 'a daemon process died and was restarted',
         (r"^Process " + GROUP + r"(?: \(pid=\d+\))? has died[,;] deregister",
          r"^Process " + GROUP + r"(?: \(pid=\d+\))? terminated by signal (?P<signal>\d+)",
          r"^child pid \d+ exit signal (?P<what>.*)"),
         'the process was killed (signal 9: kill -9 or the kernel\'s OOM killer) or crashed '
         '(signal 11, 6: a C extension); the requests it was serving were lost',
         'signal 9: dmesg | grep -i oom, then fewer --threads, --maximum-requests to bound '
         'leaks; signal 11/6: update the C extension in the traceback or core dump'),
    Kind('script-failed', ERROR, 'the application could not be loaded (start-up failure)',
         (r"^Failed to exec Python script file '(?P<script>[^']*)'",
          r"^Unable to execute Python script file '(?P<script>[^']*)'",
          r"^Target WSGI script '(?P<script>[^']*)' cannot be loaded as Python module",
          r"^SystemExit exception raised when doing exec of Python script file"),
         'importing the .wsgi script (the project\'s start-up) raised: a missing package in '
         'the virtualenv, a database or file the daemon user may not read or write, a config '
         'error; every request is a 500 until it is fixed',
         'the traceback that follows names the cause (listed below by exception); '
         'tgdeploy --check reproduces it in a private Apache; tgdeploy --doctor checks the '
         'daemon user\'s access (README "Day two")'),
    Kind('script-unreadable', ERROR, 'the .wsgi script cannot be read',
         (r"^Could not read(?:/| or )compile (?:source file|WSGI script) '(?P<script>[^']*)'",
          r"^Unable to stat target WSGI script '(?P<script>[^']*)'",
          r"^Target WSGI script not found or unable to stat",
          r"^access to .* denied \(filesystem path '[^']*'\) because search permissions are "
          r"missing"),
         'the daemon user (or Apache\'s) may not read the .wsgi file or enter a folder on its '
         'path, or the file is gone',
         'tgdeploy --doctor names the folder; give the daemon user read on apache/ and '
         'search (x) on every folder above the project, or deploy again'),
    Kind('no-application', ERROR, 'the .wsgi script defines no application',
         (r"^Target WSGI script '(?P<script>[^']*)' does not contain WSGI application",),
         'the .wsgi ran but left no ``application``: an edited or foreign script',
         'tgdeploy --overwrite writes tgdeploy\'s .wsgi again (yours is kept as .bak)'),
    Kind('request-exception', ERROR, 'an exception escaped the application (a 500)',
         (r"^Exception occurred processing WSGI script '(?P<script>[^']*)'",
          r"^\S+ exception raised processing WSGI script '(?P<script>[^']*)'"),
         'a request raised an exception the framework did not turn into a page',
         'the traceback (listed below by exception and first frame in the project) names '
         'the code; TurboGears shows the same with debug = true on a development server'),
    Kind('python-home', ERROR, 'the daemon\'s Python cannot start',
         (r"^Python home .* is not (?:accessible|a directory)",
          r"^Unable to stat Python home",
          r"^Fatal Python error: .*",
          r"^Compiled for Python/\S+ but runtime using Python/"),
         'python-home names a virtualenv the daemon user cannot read, or one made from '
         'another Python than the one mod_wsgi was built for',
         'tgdeploy --doctor checks --python-home against the loaded mod_wsgi; make the '
         'virtualenv from that Python, readable by the daemon user'),
    Kind('proxy-timeout', WARNING, 'a response stalled past socket-timeout',
         (r"^Failed to proxy response from daemon\.",
          r"^Unable to proxy response to client \((?:read|write) timeout\)"),
         'the application paused mid-response (or the client stopped reading) for longer '
         'than --socket-timeout; the response was cut off',
         'raise --socket-timeout for pages that stream slowly; otherwise a slow client'),
    Kind('client-gone', WARNING, 'the client went away before the answer was sent',
         (r"^Failed to proxy response to client\.",
          r"^Unable to proxy response from daemon to client",
          r"Apache/mod_wsgi failed to write response data",
          r"Apache/mod_wsgi client connection closed",
          r"Apache/mod_wsgi request data read error",
          r"^Client closed connection\."),
         'browsers, proxies or load balancers closed the connection (a user pressing stop, a '
         'proxy timeout shorter than the page\'s time)',
         'harmless one at a time; many of them point at slow pages (see the access log\'s '
         'last field) or a front proxy\'s timeout'),
    Kind('maximum-requests', INFO, 'a daemon process restarted after maximum-requests',
         (r"^Maximum requests reached",),
         'the planned restart --maximum-requests asks for (a bound on memory leaks)',
         'nothing to do; raise --maximum-requests if restarts are frequent'),
    Kind('daemon-start', INFO, 'a daemon process started',
         (r"^Starting (?:daemon )?process " + GROUP + r" with",),
         'Apache started (or restarted) a daemon process: after apachectl graceful, '
         'tgdeploy --reload, a crash or a timeout',
         'more starts than Apache restarts mean restarts: see the lines above'),
)

COMPILED = [(kind, [re.compile(p) for p in kind.patterns]) for kind in KINDS]
BY_ID = dict((kind.id, kind) for kind in KINDS)
# Every pattern at once, without its named groups: most lines of a log match none, and one
# search tells (a 32 MiB log is some 300,000 lines).
ANY = re.compile('|'.join('(?:%s)' % re.sub(r'\(\?P<\w+>', '(?:', p)
                          for kind in KINDS for p in kind.patterns))


def plain(message):
    """``message`` without the prefixes (PREFIXES) in front of it."""
    while True:
        match = PREFIXES.match(message)
        if not match:
            return message
        message = message[match.end():]


def classify(message):
    """(Kind, match) of the plain ``message``, or (None, None)."""
    if not ANY.search(message):
        return None, None
    for kind, patterns in COMPILED:
        for pattern in patterns:
            match = pattern.search(message)
            if match:
                return kind, match
    return None, None
