"""The tgdeploy demo: what an operator does, in order, on 127.0.0.1.

1. a virtualenv from /usr/bin/python3 (the Python Debian's mod_wsgi is built for)
2. `gearbox quickstart demoapp`, installed into it
3. `paster tgdeploy --mount /demoapp` inside the project
4. the steps apache/README.txt gives (data folder, setup-app, ownership)
5. a private Apache with the generated config, and a first request

It leaves Apache running so you can browse; run it again to start afresh, or pass --stop.
"""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests'))

from support.httpd import Apache  # noqa: E402
from support.sites import make_venv, quickstart_tg2, setup_tg2_data  # noqa: E402
from support.venv import run  # noqa: E402

REPO = os.path.dirname(HERE)
DEMO = '/tmp/tgdeploy-demo'  # www-data must be able to traverse it


def step(text):
    print('==> %s' % text, flush=True)


def stop_previous():
    conf = os.path.join(DEMO, 'httpd', 'httpd.conf')
    if os.path.exists(conf):
        subprocess.run(['/usr/sbin/apache2', '-f', conf, '-k', 'stop'],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid_file = os.path.join(DEMO, 'httpd', 'httpd.pid')
        for _ in range(200):
            if not os.path.exists(pid_file):
                break
            time.sleep(0.05)


def main(argv):
    stop_previous()
    shutil.rmtree(DEMO, ignore_errors=True)
    os.makedirs(DEMO)
    os.chmod(DEMO, 0o755)

    step('virtualenv %s/venv from /usr/bin/python3, with tgdeploy and TurboGears 2' % DEMO)
    venv = make_venv(os.path.join(DEMO, 'venv'), REPO)

    step('gearbox quickstart demoapp')
    project = quickstart_tg2(venv, DEMO, 'demoapp')

    os.makedirs(os.path.join(DEMO, 'httpd'))
    apache = Apache(os.path.join(DEMO, 'httpd'), [os.path.join(project, 'apache', 'demoapp.conf')],
                    log_level='warn')
    step('paster tgdeploy --mount /demoapp --server-name 127.0.0.1 --port %d' % apache.port)
    result = run([venv.bin('paster'), 'tgdeploy', '--mount', '/demoapp',
                  '--server-name', '127.0.0.1', '--port', str(apache.port)], cwd=project)
    print(result.stdout)

    step('the README steps: data folder, gearbox setup-app, ownership')
    setup_tg2_data(venv, project, os.path.join(project, 'apache', 'demoapp.ini'))

    step('private Apache on 127.0.0.1:%d (config %s)' % (apache.port, apache.config))
    status, headers, body = apache.start('/demoapp/')
    url = apache.url + '/demoapp/'
    print('\nURL: %s' % url)
    print('First response: %d %s' % (status, headers.get('Location') or ''))
    status, headers, body = apache.get('/demoapp/demo')
    print('GET %sdemo -> %d, %d bytes, title: %s' % (
        url, status, len(body), body.split('<title>')[-1].split('</title>')[0].strip()))
    if '--stop' in argv:
        print('Stopped Apache after %.2f s.' % apache.stop())
    else:
        print('\nApache keeps running. Stop it with:\n  /usr/sbin/apache2 -f %s -k stop'
              % apache.config)
    return 0 if status == 200 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
