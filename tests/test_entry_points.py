"""`egg:tgdeploy#cherrypy` outside Apache: `paster serve` of the generated ini."""
import signal
import subprocess
import time
import urllib.request

from conftest import paster
from support.httpd import free_port


def serve(venv, ini, cwd):
    proc = subprocess.Popen([venv.bin('paster'), 'serve', str(ini)], cwd=str(cwd),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc


def wait_for(url, proc, timeout=30):
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode()
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise AssertionError('paster serve did not answer:\n' + proc.communicate()[0])
            time.sleep(0.1)


def test_paster_serve_runs_the_cherrypy_entry_point(cherry_project, deploy_venv, www_tmp):
    paster(deploy_venv, 'tgdeploy', '-q', '--output-dir', www_tmp / 'apache', cwd=cherry_project)
    port = free_port()
    ini = www_tmp / 'serve.ini'
    ini.write_text((www_tmp / 'apache' / 'cherryapp.ini').read_text().replace(
        'port = 8080', 'port = %d' % port))
    proc = serve(deploy_venv, ini, cwd=cherry_project)  # inside the project folder, on purpose
    try:
        status, body = wait_for('http://127.0.0.1:%d/status' % port, proc)
        assert status == 200
        assert '"script_name": ""' in body and '"greeting": "hello from app.conf"' in body
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0]
    # CherryPy's engine was started once and stopped at exit; its own server never ran.
    assert output.count('ENGINE Bus STARTED') == 1, output
    assert 'ENGINE Bus EXITED' in output, output
    assert 'ENGINE Serving on' not in output  # CherryPy's own HTTP server says this
