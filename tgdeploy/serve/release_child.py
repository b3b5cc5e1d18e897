"""The throwaway process of --reload's release check (release_check.py runs this file's text
with ``python -c``, in the deployment's own Python, as the daemon user).

It does what a daemon process does with the new code: from the daemon's working folder it
executes the .wsgi (which puts the project on sys.path, sets --setenv and --env-file values,
reads the deployment's config and builds the application), then makes one GET of the
mount's landing page to the WSGI callable in-process (no network). It imports nothing of
tgdeploy, since the deployment's Python (TurboGears 1 on 2.7, say) need not have it, and
runs on Python 2.7 and 3.

    python -c SOURCE WSGI_FILE HOME MOUNT HOST PORT SCHEME

Exit codes (release_check.VERDICTS): 0 accepted, 3 the .wsgi raised, 4 the request raised,
5 the answer was a 5xx, 6 the working folder cannot be entered, 7 no ``application``.
The last line on stderr says what happened; tracebacks come before it.
"""
import io
import os
import sys
import traceback
import types

MARK = 'tgdeploy-release-check:'


def say(line):
    sys.stderr.write('%s %s\n' % (MARK, line))


def finish(code):
    """Leave at once: threads the start-up began (an engine, a scheduler) must not hold the
    check, and no shutdown hook runs for a copy that never served."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


def load(wsgi_file):
    """Execute the .wsgi as mod_wsgi does: as a module of its own, __file__ set."""
    module = types.ModuleType('_mod_wsgi_release_check')
    module.__file__ = wsgi_file
    sys.modules[module.__name__] = module
    with io.open(wsgi_file, 'rb') as f:
        source = f.read()
    code = compile(source, wsgi_file, 'exec')
    exec(code, module.__dict__)
    return module.__dict__.get('application')


def environ_for(mount, host, port, scheme):
    script_name = '' if mount == '/' else mount.rstrip('/')
    default_port = '443' if scheme == 'https' else '80'
    return {
        'REQUEST_METHOD': 'GET', 'SCRIPT_NAME': script_name, 'PATH_INFO': '/',
        'QUERY_STRING': '', 'REQUEST_URI': script_name + '/', 'SERVER_NAME': host,
        'SERVER_PORT': port, 'SERVER_PROTOCOL': 'HTTP/1.1',
        'HTTP_HOST': host if port == default_port else '%s:%s' % (host, port),
        'HTTP_ACCEPT': 'text/html,*/*', 'HTTP_USER_AGENT': 'tgdeploy-release-check',
        'REMOTE_ADDR': '127.0.0.1', 'REMOTE_PORT': '0', 'SERVER_ADDR': '127.0.0.1',
        'wsgi.version': (1, 0), 'wsgi.url_scheme': scheme, 'wsgi.input': io.BytesIO(b''),
        'wsgi.errors': sys.stderr, 'wsgi.multithread': True, 'wsgi.multiprocess': True,
        'wsgi.run_once': False,
    }


def call(application, environ):
    """The status code of one request, the body read to its end and closed."""
    answer = []

    def start_response(status, headers, exc_info=None):
        if exc_info and answer:
            raise exc_info[1]
        answer[:] = [status]
        return lambda data: None

    body = application(environ, start_response)
    try:
        for _ in body:
            pass
    finally:
        if hasattr(body, 'close'):
            body.close()
    if not answer:
        raise RuntimeError('the application returned without calling start_response')
    return answer[0]


def main(argv):
    wsgi_file, home, mount, host, port, scheme = argv
    sys.argv = ['mod_wsgi']
    while '' in sys.path:  # python -c adds the working folder; a daemon does not
        sys.path.remove('')
    try:
        os.chdir(home)
    except OSError as e:
        say('cannot enter the daemon\'s working folder %s: %s' % (home, e.strerror))
        finish(6)
    try:
        application = load(wsgi_file)
    except BaseException:
        traceback.print_exc()
        say('executing %s failed' % wsgi_file)
        finish(3)
    if application is None:
        say('%s defines no "application"' % wsgi_file)
        finish(7)
    path = '/' if mount == '/' else mount.rstrip('/') + '/'
    try:
        status = call(application, environ_for(mount, host, port, scheme))
    except BaseException:
        traceback.print_exc()
        say('GET %s raised' % path)
        finish(4)
    say('GET %s answered %s' % (path, status))
    finish(5 if str(status)[:1] == '5' else 0)


if __name__ == '__main__':
    main(sys.argv[1:])
