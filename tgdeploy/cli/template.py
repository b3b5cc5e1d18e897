"""``paster create -t tg_modwsgi PROJECT``: the same deployment as ``paster tgdeploy``.

Run next to an existing project folder, it adds apache/ to it. Variables are given as
``name=value`` (prompted for when interactive); empty ones are detected.
"""
from __future__ import print_function

import sys

from paste.script.templates import Template, var

from tgdeploy.write import render
from tgdeploy._compat import print_line
from tgdeploy.cli.deploy import deploy
from tgdeploy.errors import TgDeployError
from tgdeploy.settle.options import FLAGS, OPTION_DEFAULTS, OPTION_HELP


class TgModWsgiTemplate(Template):

    summary = 'Apache/mod_wsgi deployment (apache/) for an existing TurboGears or CherryPy project'
    vars = [var(name, help_text, default=OPTION_DEFAULTS.get(name) or '')
            for name, help_text in OPTION_HELP + FLAGS]

    def template_dir(self):
        return render.template_dir()

    def run(self, command, output_dir, vars):
        given = dict((name, vars.get(name)) for name, _ in OPTION_HELP + FLAGS)
        try:
            refuse_unknown(vars)
            deploy(output_dir, given, simulate=command.simulate,
                   overwrite=command.options.overwrite, out=print_line)
        except TgDeployError as e:
            # paster create prints a BadCommand on stdout; errors belong on stderr.
            sys.stderr.write('tgdeploy: error: %s\n' % e)
            raise SystemExit(2)


# What paster create itself puts among the variables.
PASTER_VARS = ('project', 'package', 'egg', 'egg_plugins')


def refuse_unknown(vars):
    known = set(name for name, _ in OPTION_HELP + FLAGS) | set(PASTER_VARS)
    unknown = sorted(set(vars) - known)
    if unknown:
        raise TgDeployError('unknown variable(s) %s: paster create -t tg_modwsgi '
                            '--list-variables shows the ones it takes' % ', '.join(unknown))
