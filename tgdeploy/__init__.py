"""tgdeploy: TurboGears and CherryPy applications onto Apache/mod_wsgi and any WSGI host.

The folders are the pipeline: cli/ (the front ends and the run they share) -> detect/ (what
the project is) -> settle/ (every value the deployment needs, checked) -> write/ (render the
template, put it in place without losing anything) -> doctor/ (the deployment against this
machine) -> serve/ (a private Apache for --check and --serve, the running one for --reload).
apps/ holds the WSGI entry points the deployment loads, balancer/ the front of several hosts,
files/ the root-safe file access every step shares.
"""

__version__ = '0.1.0'
