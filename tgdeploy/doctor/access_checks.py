"""The doctor's checks of access: what the daemon user must read (the project, the .wsgi, the
config, the virtualenv, the static folders) and write (the data folder, the places the
TurboGears 2 ini has the application write).
"""
import os

from tgdeploy.settle import inifile
from tgdeploy._compat import shell_quote
from tgdeploy.files.access import access_problem, user_ids
from tgdeploy.doctor.finding import finding
from tgdeploy.doctor.paths import under


def access_findings(values):
    user = values.daemon.user
    ids = user_ids(user)
    if ids is None:
        return [finding('TGD-E007', 'user %s does not exist on this machine: create it or pass '
                                    '--user' % user)]
    uid, groups = ids
    findings = []
    blocked = set()  # one finding per folder that stops the user, however many paths below
    readable = [values.paths.project_dir, values.paths.wsgi_file, values.config.file,
                values.python.home]
    readable.extend(values.static.dirs)
    for path in readable:
        problem = access_problem(path, uid, groups, os.R_OK)
        if problem and problem[0] not in blocked:
            blocked.add(problem[0])
            findings.append(finding('TGD-E008', '%s cannot read %s (%s): %s'
                                         % (user, path, problem[1], problem[2])))
    data = values.paths.data_dir
    needs_data = values.project.flavor in ('tg2', 'tg1')
    if not os.path.isdir(data):
        findings.append(finding('TGD-E009' if needs_data else 'TGD-W002',
                                'the data folder %s does not exist: install -d -o %s -g %s %s'
                                % (data, user, values.daemon.group, shell_quote(data))))
        return findings
    problem = access_problem(data, uid, groups, os.W_OK)
    if problem and problem[0] not in blocked:
        fix = problem[2] or 'chown -R %s:%s %s' % (user, values.daemon.group, shell_quote(data))
        findings.append(finding('TGD-E010', '%s cannot write %s (%s): %s'
                                     % (user, data, problem[1], fix)))
    return findings


def write_location_findings(values):
    """The places the TurboGears 2 ini has the application write (its SQLite database,
    caches, sessions, uploads...) outside the data folder that the daemon user cannot write:
    a PermissionError on the first request that writes there."""
    ids = user_ids(values.daemon.user)
    if values.project.flavor != 'tg2' or ids is None:
        return []
    findings, said = [], set()
    for key, path in inifile.write_locations(*inifile.deployed_ini(values)):
        database = key.startswith('sqlalchemy.') or key.endswith('.url')
        # SQLite writes a journal beside its database: the folder must be writable too.
        folder = os.path.dirname(path) if database else path
        if under(folder, values.paths.data_dir):
            continue  # the data folder's own finding covers it
        folder = nearest_existing(folder)
        if folder in said:
            continue
        problem = access_problem(folder, ids[0], ids[1], os.W_OK)
        if problem:
            said.add(folder)
            fix = problem[2] or 'chown -R %s:%s %s, or point it into the data folder %s' % (
                values.daemon.user, values.daemon.group, shell_quote(folder),
                values.paths.data_dir)
            what = ('%s keeps its SQLite database %s' if database else
                    '%s = %s has the application write') % (key, path)
            findings.append(finding('TGD-E011', '%s cannot write %s, where %s (%s): %s'
                                         % (values.daemon.user, folder, what, problem[1], fix)))
    return findings


def nearest_existing(path):
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path
