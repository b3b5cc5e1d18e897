"""tgdeploy: TurboGears and CherryPy applications onto Apache/mod_wsgi and any WSGI host.

The pipeline, one module per step: detect (what the project is) -> options (settle every
value the templates need) -> render (the paste template into a staging folder) ->
install (compare with what is there, then swap in atomically). deploy.py runs it; the
front ends are command.py (``paster tgdeploy``) and template.py (``paster create``).
"""

__version__ = '0.1.0'
