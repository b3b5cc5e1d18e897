"""The configuration files of bench/stacks.py's production stacks, as each server's own
documentation writes them (adapted only to listen on 127.0.0.1 and keep every file in the
stack's folder)."""
import os

# gunicorn's docs (Deploying Gunicorn, nginx configuration: a Unix socket, `upstream ...
# fail_timeout=0`, the proxy headers, `keepalive_timeout 5`, `accept_mutex off`), with
# `worker_processes auto` (one per core, nginx's recommendation) instead of its example's 1.
# (Its `try_files` for static files is left out: these pages are all dynamic.)
NGINX = '''user www-data;
worker_processes auto;
pid {work}/nginx.pid;
events {{
  worker_connections 1024;
  accept_mutex off;
}}
http {{
  default_type application/octet-stream;
  access_log {work}/nginx-access.log combined;
  sendfile on;
  client_body_temp_path {work}/nginx-tmp/body;
  proxy_temp_path {work}/nginx-tmp/proxy;
  uwsgi_temp_path {work}/nginx-tmp/uwsgi;
  fastcgi_temp_path {work}/nginx-tmp/fastcgi;
  scgi_temp_path {work}/nginx-tmp/scgi;
  {upstream}
  server {{
    listen 127.0.0.1:{port} deferred;
    client_max_body_size 4G;
    server_name 127.0.0.1;
    keepalive_timeout 5;
    {location}
  }}
}}
'''

GUNICORN_UPSTREAM = '''upstream app_server {{
    server unix:{sock} fail_timeout=0;
  }}'''

GUNICORN_LOCATION = '''location / {
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Host $http_host;
      proxy_redirect off;
      proxy_pass http://app_server;
    }'''

# uWSGI's "Setting up Django and your web server with uWSGI and nginx": `uwsgi_pass` and
# nginx's uwsgi_params file (written out here: the unpacked nginx package has no /etc/nginx),
# plus an empty SCRIPT_NAME: WSGI requires the key, uwsgi_params lacks it, and TurboGears 2
# answers every page with 500 (KeyError: 'SCRIPT_NAME') without it.
UWSGI_PARAMS = ('QUERY_STRING $query_string', 'REQUEST_METHOD $request_method',
                'CONTENT_TYPE $content_type', 'CONTENT_LENGTH $content_length',
                'REQUEST_URI $request_uri', 'PATH_INFO $document_uri',
                'DOCUMENT_ROOT $document_root', 'SERVER_PROTOCOL $server_protocol',
                'REQUEST_SCHEME $scheme', 'HTTPS $https if_not_empty',
                'REMOTE_ADDR $remote_addr', 'REMOTE_PORT $remote_port',
                'SERVER_PORT $server_port', 'SERVER_NAME $server_name', 'SCRIPT_NAME ""')

# uWSGI's quickstart (--processes 4 --threads 2) and its production advice ("Things to
# know", "Configuring uWSGI for Production Deployment"): strict, master, enable-threads,
# vacuum, single-interpreter, die-on-term, need-app, harakiri, max-requests; request logging
# left to nginx (errors still logged). paste-logger runs the ini's logging config, as the
# generated .wsgi does.
UWSGI = '''[uwsgi]
strict = true
master = true
processes = 4
threads = 2
enable-threads = true
vacuum = true
single-interpreter = true
die-on-term = true
need-app = true
disable-logging = true
log-4xx = true
log-5xx = true
harakiri = 60
max-requests = 1000
socket = {sock}
chmod-socket = 666
home = {home}
chdir = {chdir}
paste = config:{ini}
paste-logger = true
'''

# Apache mod_proxy to gunicorn's Unix socket (mod_proxy's documented unix: form).
PROXY_MODULES = ('LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so\n'
                 'LoadModule proxy_http_module /usr/lib/apache2/modules/mod_proxy_http.so')
APACHE_PROXY = '''ProxyPreserveHost On
ProxyPass / "unix:{sock}|http://app_server/"
ProxyPassReverse / "unix:{sock}|http://app_server/"
RequestHeader set X-Forwarded-Proto "http"
'''


def gunicorn_upstream(sock):
    return GUNICORN_UPSTREAM.format(sock=sock)


def uwsgi_location(sock):
    params = '\n'.join('      uwsgi_param %s;' % line for line in UWSGI_PARAMS)
    return 'location / {\n%s\n      uwsgi_pass unix:%s;\n    }' % (params, sock)


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return path


def write_nginx(work, port, upstream, location):
    for name in ('body', 'proxy', 'uwsgi', 'fastcgi', 'scgi'):
        os.makedirs(os.path.join(work, 'nginx-tmp', name), exist_ok=True)
    return write(os.path.join(work, 'nginx.conf'), NGINX.format(
        work=work, port=port, upstream=upstream, location=location))


def write_uwsgi(work, sock, home, ini, chdir):
    return write(os.path.join(work, 'uwsgi.ini'), UWSGI.format(
        sock=sock, home=home, ini=ini, chdir=chdir))


def write_apache_proxy(work, sock):
    return write(os.path.join(work, 'proxy.conf'), APACHE_PROXY.format(sock=sock))
