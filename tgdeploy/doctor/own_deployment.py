"""The doctor's reading of the project's own deployment files: its .wsgi scripts, Apache
configs, start scripts (commands.py, start-*.py), Dockerfiles, compose files, systemd units
and supervisor configs. Whatever they do that the generated deployment does not (a locale,
environment variables, extra sys.path entries, WSGIPassAuthorization, one thread, extra
aliases, start-up calls) becomes one warning naming the file, the line and the option that
covers it.

The steps, one module each: own_files finds and safely reads the files, own_facts and
own_python read the facts each states, own_findings judges them against the deployment.
"""
import os

from tgdeploy.doctor import own_facts, own_programs

from tgdeploy.settle import replay_settle
from tgdeploy.doctor.own_files import KIND_NAMES, deployment_files
from tgdeploy.doctor.own_findings import judged_kinds
from tgdeploy.doctor.own_python import python_facts

WARNING = 'warning'

READERS = {'apache': own_facts.apache_facts, 'docker': own_facts.docker_facts,
           'compose': own_facts.compose_facts, 'systemd': own_facts.systemd_facts,
           'supervisor': own_facts.supervisor_facts, 'shell': own_facts.shell_facts}


# What a replayed start-up (--startup-script) carries itself: its calls, settings, config
# loads, root and environment, as it does them.
REPLAYED_FACTS = ('call', 'statement', 'config', 'root', 'env', 'locale', 'path')


# The doctor's id of each kind of fact the files state (doctor/ids.py).
FACT_IDS = {'locale': 'TGD-W021', 'env': 'TGD-W022', 'path': 'TGD-W023',
            'pass_authorization': 'TGD-W024', 'maximum_requests': 'TGD-W025',
            'threads': 'TGD-W026', 'processes': 'TGD-W027', 'user': 'TGD-W028',
            'group': 'TGD-W029', 'alias': 'TGD-W030', 'script_alias': 'TGD-W031',
            'mount': 'TGD-W032', 'limit_request_body': 'TGD-W033', 'call': 'TGD-W034',
            'statement': 'TGD-W035', 'requires': 'TGD-W036', 'config': 'TGD-W037',
            'root': 'TGD-W038'}


def findings(values):
    """[(level, text)]: one warning for each thing the project's own deployment files do
    that the deployment described by ``values`` (options.settle) does not; the replayed
    start-up's own findings (replay_settle.py); the programs the project runs that this
    machine lacks (own_programs.py)."""
    return [(level, text) for _, level, text in identified(values)]


def identified(values):
    """findings() as [(id, level, text)]: the replayed start-up's without an id (the doctor's
    registry gives them theirs), the files' by the kind of fact."""
    found = [(None, level, text) for level, text in replay_settle.findings(values)]
    found += [('TGD-W039', level, text) for level, text in own_programs.findings(
        values.paths.project_dir, values.python.home)]
    said = set()
    replayed = replayed_files(values)
    for path, kind, text in deployment_files(values):
        where = os.path.relpath(path, values.paths.project_dir)
        facts = facts_of(path, kind, text, values)
        if os.path.realpath(path) in replayed:
            facts = [f for f in facts if f[1] not in REPLAYED_FACTS]
        for line, kind, what, fix in judged_kinds(facts, values):
            # The same thing read in two files (a Dockerfile and its compose file) is one line.
            if (what, fix) not in said:
                said.add((what, fix))
                found.append((FACT_IDS[kind], WARNING,
                              '%s:%d: %s: %s' % (where, line, what, fix)))
    return found


def replayed_files(values):
    """The start-up each daemon process replays: its file and the project modules it
    imports (a start script's command.start())."""
    found = values.startup.replay
    if not found:
        return set()
    return set(os.path.realpath(p) for p in [found.path] + found.imported)


def facts_of(path, kind, text, values):
    if kind in ('python', 'start'):
        return python_facts(text, path, values.paths.project_dir, start_script=kind == 'start')
    return READERS[kind](text)


def seen(values):
    """Plain notes for the report: which of the project's own deployment files were read."""
    names = ['%s (%s)' % (os.path.relpath(path, values.paths.project_dir), KIND_NAMES[kind])
             for path, kind, _ in deployment_files(values)]
    return ['own deployment files: ' + ', '.join(names)] if names else []
