"""Step 3: render the tg_modwsgi paste template into a staging folder.

PasteScript's copy_dir does the work (``+var+`` file names, ``_tmpl`` files through its
Tempita renderer), always into a fresh, empty folder: copy_dir does not honour
overwrite=False in subfolders, so deciding what may replace what is install.py's job.
"""
import os

from paste.script import copydir
from paste.util.template import paste_script_template_renderer

import tgdeploy.paste_templates
from tgdeploy.files import textfiles
from tgdeploy.settle.settled import Settled

TEMPLATE_NAME = 'tg_modwsgi'
TEMPLATE_OUTPUT = 'apache'  # the one folder the template tree holds


def template_dir(name=TEMPLATE_NAME):
    # Resolved through the package, so the PEP 660 editable mapping is honoured too.
    return os.path.join(os.path.dirname(tgdeploy.paste_templates.__file__), name)


def render(values, dest):
    """Render the template's apache/ folder with ``values`` (settle/settled.py) into
    ``dest``; return ``dest``."""
    values = Settled.of(values)
    source = os.path.join(template_dir(), TEMPLATE_OUTPUT)
    copydir.copy_dir(source, dest, textfiles.template_values(values), verbosity=0, simulate=False,
                     interactive=False, overwrite=True, svn_add=False,
                     template_renderer=paste_script_template_renderer)
    for suffix, wanted in (('.ini', values.config.write_ini), ('.cfg', values.tg1.cfg)):
        if not wanted:
            os.remove(os.path.join(dest, values.project.slug + suffix))
    textfiles.recode_rendered(values, dest)
    return dest
