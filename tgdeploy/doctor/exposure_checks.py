"""The doctor's checks of the folders other configs serve: the project, output or data folder
under a DocumentRoot or Alias of another config (the served folders are also what
settle/exposure.py judges for secrets and logs).
"""
import os

from tgdeploy.doctor.apache_config import directives, same_file, words
from tgdeploy.doctor.finding import finding
from tgdeploy.doctor.paths import under


# Each folder that must not be served: what it is called, the fix, and how to name a place.
EXPOSED = (
    ('project_dir', 'the project folder', 'move the project out of %(root)s%(example)s so no '
                                          'other config can serve its ini and data',
     ' (for example to %s)'),
    ('apache_dir', 'the output folder', 'deploy with --output-dir outside %(root)s%(example)s '
                                        'so no other config can serve its ini',
     ' (for example --output-dir %s)'),
    ('data_dir', 'the data folder', 'deploy with --data-dir outside %(root)s%(example)s and '
                                    'move the data there, so no other config can serve it',
     ' (for example --data-dir %s)'),
)

# The directives that serve a folder, and which of their arguments names it.
SERVING = (('DocumentRoot', 0), ('Alias', 1), ('AliasMatch', 1))


# The directives that serve a folder, and which of their arguments names it.
SERVING = (('DocumentRoot', 0), ('Alias', 1), ('AliasMatch', 1))


def exposure_findings(values, apache_root, config_files):
    """The project, apache/ or data folder under a folder another config serves. Ours denies
    them, but any config that grants that folder again (or a copy of the tree) serves the
    ini's secrets and the data: a warning, one per folder, none for one inside another."""
    served = served_folders(values, apache_root, config_files)
    findings = []
    reported = []
    for key, name, fix, example in EXPOSED:
        folder = getattr(values.paths, key)  # each EXPOSED key is in the paths group
        found = [s for s in served if under(folder, s[0])]
        if not found or any(under(folder, done) for done in reported):
            continue
        reported.append(folder)
        root, how, path = found[0]
        place = safe_place(values, key, served)
        text = fix % {'root': root, 'example': example % place if place else ''}
        findings.append(finding('TGD-W003', '%s %s lies under %s (in %s): the generated config '
                                            'denies it, but %s' % (name, folder, how, path, text)))
    return findings


def served_folders(values, apache_root, config_files, own=False):
    """(folder, how, config file) of each DocumentRoot and Alias target in the other configs
    (``own``: ours too, as edited by hand), except aliases into the project's own static
    folders."""
    statics = [path for _, path in values.static.urls] + values.static.dirs
    found = []
    for path in config_files:
        if same_file(path, values.paths.conf_file) and not own:
            continue
        for name, index in SERVING:
            for args in directives(path, name):
                parts = words(args)
                folder = len(parts) > index and served_folder(apache_root, name, parts[index])
                if folder and not any(under(folder, s) for s in statics if s):
                    how = '%s %s' % (name, ' '.join(parts))
                    found.append((folder, how if name == 'DocumentRoot' else
                                  'the folder of ' + how, path))
    return found


def served_folder(apache_root, name, target):
    """The folder a DocumentRoot or Alias serves, relative ones from the ServerRoot; for an
    AliasMatch with $1 in its target, the folder above the $1."""
    if name == 'AliasMatch' and '$' in target:
        head = target[:target.index('$')]
        target = head if head.endswith('/') else os.path.dirname(head)
    return os.path.normpath(os.path.join(apache_root, target))


def safe_place(values, key, served):
    """A place for the folder ``key`` that no served folder contains, or None."""
    project, slug = values.paths.project_dir, values.project.slug
    name = os.path.basename(project)
    places = {'project_dir': ['/srv/' + name, '/opt/' + name],
              'apache_dir': [os.path.join(project, 'apache'), '/srv/%s/apache' % slug],
              'data_dir': [os.path.join(project, 'data'), '/var/lib/' + slug]}[key]
    for place in places:
        if not any(under(place, s[0]) for s in served):
            return place
    return None
