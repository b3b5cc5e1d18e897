"""What tgdeploy knows about a project: facts read from its files, nothing chosen."""

FLAVORS = ('tg2', 'tg1', 'cherrypy')
FLAVOR_NAMES = {'tg2': 'TurboGears 2', 'tg1': 'TurboGears 1.x', 'cherrypy': 'CherryPy'}


class Project(object):

    def __init__(self, directory, flavor, name, package, config_file=None,
                 static_urls=(), root=None, tg_requirement=None,
                 uses_sqlobject=False, package_dir=None, evidence=(), memory_sessions=None,
                 static_root=None):
        self.directory = directory
        self.flavor = flavor
        self.name = name
        self.package = package  # dotted: namespace packages such as bkr.server
        self.package_dir = package_dir  # its folder (None: installed, not in the project)
        self.config_file = config_file
        # (URL below the mount, absolute path) pairs that Apache can serve itself.
        self.static_urls = list(static_urls)
        # The folder the application serves at its own root, whole (TurboGears 2's public/):
        # what is added to it after the deployment was written is Apache's to serve too.
        self.static_root = static_root
        self.root = root
        # TurboGears 1.x only: the version setup.py asks for, and whether the model
        # uses SQLObject (whose per-process caches want a single process).
        self.tg_requirement = tg_requirement
        self.uses_sqlobject = uses_sqlobject
        # What the project keeps in one process's memory (sessions): the config key that
        # says so, or None. Several daemon processes would each have their own.
        self.memory_sessions = memory_sessions
        # What detection saw, for the report: 'TurboGears 1.x: fas/config/app.cfg.in'...
        self.evidence = list(evidence)
        # TurboGears 2.0-2.2 (Pylons): its commands are paster's, not gearbox's.
        self.paster_era = False

    def __repr__(self):
        return '<Project %s (%s) in %s>' % (self.name, self.flavor, self.directory)
