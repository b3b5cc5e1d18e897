"""Links a framework writes to its own resources, under the mount.

An application's own links carry the mount (TurboGears 2's tg.url/lurl and TurboGears 1's
turbogears.url() take it from SCRIPT_NAME), but some frameworks link the resources they
serve from a prefix of their own, the server's root unless told otherwise. Where the
framework has a setting for that prefix that the generated config can reach, it is set there,
so the links are right: webassets (tgext.webassets) gets ``webassets.base_url``
(write_locations.webassets_settings). Where it has none:
- ToscaWidgets 2 (tgext.tw2 on TurboGears 2.5, tg's own component before) links
  /tw2/resources/...: its middleware's ``script_name`` is taken only from
  ``custom_tw2_config`` in app_cfg.py, a dictionary an ini cannot hold;
- TurboGears 1.x widgets (tg.include_widgets, MochiKit) link /tg_widgets/..., and its
  templates' tg.tg_js, tg.tg_static, tg.tg_toolbox: all from ``server.webpath``, which
  TurboGears also uses to route, and then every page is a 404 under Apache (FIELD-NOTES);
the application still serves those URLs under the mount (each request's SCRIPT_NAME is
stripped), so Apache rewrites the links in the HTML pages under the mount (mod_substitute,
the .conf's link_prefixes block): a quoted "/tw2/resources/ becomes "/sub/tw2/resources/.
"""
import os
import re

from tgdeploy.settle.config_settings import app_cfg_path
from tgdeploy.settle.write_locations import settings
from tgdeploy.detect.projectfiles import scan_text

TW2_IN_APP_CFG = re.compile(r'tgext\.tw2|tw2\.enabled|use_toscawidgets2|prefer_toscawidgets2')
TW2_KEYS = ('tw2.enabled', 'use_toscawidgets2', 'prefer_toscawidgets2')
TW2_PREFIXES = ('tw2/resources', 'tw2/controllers')
TG1_PREFIXES = ('tg_widgets', 'tg_js', 'tg_static', 'tg_toolbox')
# What in a TurboGears 1.x project links those: widgets of its own or named in the config
# (tg.include_widgets, tg.mochikit_all), or its templates' tg.tg_js/tg_static/tg_toolbox and
# tg.widgets variables. Comments do not count: every quickstart's app.cfg names widgets in one.
TG1_CONFIG_USES = re.compile(r'^\s*(tg\.include_widgets\s*=\s*\[\s*["\']|tg\.mochikit_all\s*=\s*'
                             r'True)', re.M)
TG1_CODE_USES = re.compile(r'\bwidgets\b|mochikit', re.I)
TG1_TEMPLATE_USES = re.compile(r'\btg\.(tg_js|tg_static|tg_toolbox|widgets)\b|\btg_widgets/')
TG1_TEMPLATES = ('.kid', '.html', '.tmpl', '.genshi', '.xhtml', '.mak')
MAX_FILES = 400


def link_prefixes(project, mount):
    """URL path prefixes (no slashes around) whose links the application writes without
    ``mount``; [] at / or where none is used."""
    if mount == '/':
        return []
    if project.flavor == 'tg2':
        return list(TW2_PREFIXES) if uses_tw2(project.config_file, project.package_dir) else []
    if project.flavor == 'tg1':
        return list(TG1_PREFIXES) if uses_tg1_resources(project) else []
    return []


def uses_tw2(config_file, package_dir):
    given = settings(config_file) if config_file else {}
    if any(given.get(key, '').strip().lower() in ('true', 'yes', 'on', '1') for key in TW2_KEYS):
        return True
    return bool(TW2_IN_APP_CFG.search(scan_text(app_cfg_path(package_dir) or '')))


def uses_tg1_resources(project):
    for path in tg1_files(project):
        text = scan_text(path)
        if path.endswith('.cfg'):
            found = TG1_CONFIG_USES.search(text)
        elif path.endswith('.py'):
            found = TG1_CODE_USES.search(without_comments(text))
        else:
            found = TG1_TEMPLATE_USES.search(text)
        if found:
            return True
    return False


def tg1_files(project):
    """The project's config, its package's Python files and templates (a bounded walk)."""
    paths = [project.config_file] if project.config_file else []
    for folder, dirs, files in os.walk(project.package_dir or project.directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.') and d not in (
            'static', 'tests', '__pycache__'))
        paths += [os.path.join(folder, name) for name in sorted(files)
                  if name.endswith(('.py', '.cfg') + TG1_TEMPLATES)]
        if len(paths) > MAX_FILES:
            break
    return paths[:MAX_FILES]


def without_comments(text):
    return '\n'.join(line.split('#', 1)[0] for line in text.splitlines())
