"""Step 3: render the tg_modwsgi paste template into a staging folder.

PasteScript's copy_dir does the work (``+var+`` file names, ``_tmpl`` files through its
Tempita renderer), always into a fresh, empty folder: copy_dir does not honour
overwrite=False in subfolders, so deciding what may replace what is install.py's job.
"""
import os

from paste.script import copydir
from paste.util.template import paste_script_template_renderer

import tgdeploy.paste_templates

TEMPLATE_NAME = 'tg_modwsgi'
TEMPLATE_OUTPUT = 'apache'  # the one folder the template tree holds


def template_dir(name=TEMPLATE_NAME):
    # Resolved through the package, so the PEP 660 editable mapping is honoured too.
    return os.path.join(os.path.dirname(tgdeploy.paste_templates.__file__), name)


def render(values, staging_dir):
    """Render the template with ``values`` into ``staging_dir``; return the new apache/ path."""
    copydir.copy_dir(template_dir(), staging_dir, dict(values), verbosity=0, simulate=False,
                     interactive=False, overwrite=True, svn_add=False,
                     template_renderer=paste_script_template_renderer)
    output = os.path.join(staging_dir, TEMPLATE_OUTPUT)
    for suffix, wanted in (('.ini', values['write_ini']), ('.cfg', values['tg_cfg'])):
        if not wanted:
            os.remove(os.path.join(output, values['slug'] + suffix))
    return output

