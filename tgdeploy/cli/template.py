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
from tgdeploy.settle.table import GIVEN, help_text


class TgModWsgiTemplate(Template):

    summary = 'Apache/mod_wsgi deployment (apache/) for an existing TurboGears or CherryPy project'
    # The option table's options (paster create: flags are name=yes, repeated ones
    # space-separated); --list-variables shows their help.
    vars = [var(row.name, help_text(row), default=row.default or '') for row in GIVEN]

    def template_dir(self):
        return render.template_dir()

    def run(self, command, output_dir, vars):
        given = dict((row.name, vars.get(row.name)) for row in GIVEN)
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
    known = set(row.name for row in GIVEN) | set(PASTER_VARS)
    unknown = sorted(set(vars) - known)
    if unknown:
        raise TgDeployError('unknown variable(s) %s: paster create -t tg_modwsgi '
                            '--list-variables shows the ones it takes' % ', '.join(unknown))
