"""Preflight: the doctor's checks of a deployment against the machine, before Apache loads it.

The checks live in modules by family (python_checks, access_checks, tree_checks,
exposure_checks, and the readings of other steps), the registry runs them in order and gives
every finding its stable id (ids.py). This module keeps the names the other steps and their
tests call the doctor by.
"""
from tgdeploy.doctor.apache_config import default_apache_root, included_files, loaded_mod_wsgi
from tgdeploy.doctor.finding import (ERROR, FINE, WARNING, WARNINGS, WILL_NOT_WORK, Finding,
                                     exit_code)
from tgdeploy.doctor.registry import examine
from tgdeploy.doctor.tree_checks import module_findings

__all__ = ['ERROR', 'FINE', 'WARNING', 'WARNINGS', 'WILL_NOT_WORK', 'Finding', 'exit_code',
           'examine', 'default_apache_root', 'included_files', 'loaded_mod_wsgi',
           'module_findings']
