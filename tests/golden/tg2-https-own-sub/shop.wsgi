# shop (TurboGears 2) as a WSGI application for Apache/mod_wsgi.
# Written by tgdeploy 0.1.0; every path is absolute because Apache runs this
# file with "/" as its working directory. In daemon mode, touch this file to reload.
import os
import sys

PROJECT_DIR = '/tmp/tgdeploy-golden/shop'
CONFIG_FILE = '/tmp/tgdeploy-golden/shop/apache/shop.ini'

# mod_wsgi may execute this file again in the same process: keep sys.path from growing.
if PROJECT_DIR not in sys.path:
    sys.path.insert(0, PROJECT_DIR)

# The daemon user's home is seldom writable; eggs that must be unpacked go here.
os.environ.setdefault('PYTHON_EGG_CACHE', '/tmp/tgdeploy-golden/shop/data/egg-cache')

# The ini's logging sections, as `paster serve` would apply them; output goes to the
# Apache error log.
from logging.config import fileConfig
fileConfig(CONFIG_FILE, {'here': os.path.dirname(CONFIG_FILE), '__file__': CONFIG_FILE},
           disable_existing_loggers=False)

from paste.deploy import loadapp

application = loadapp('config:' + CONFIG_FILE)
