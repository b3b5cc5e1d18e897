"""``gearbox tgdeploy``: the same command for TurboGears 2 users, with the same options.

Gearbox turns an escaping exception into a logged traceback, so bad input is caught here
and reported as paster tgdeploy does: one line on stderr, exit code 2.
"""
from __future__ import print_function

import os
import sys

from gearbox.command import Command

from tgdeploy._compat import print_line
from tgdeploy.cli import arguments
from tgdeploy.cli.deploy import run
from tgdeploy.errors import TgDeployError


class TgDeployGearboxCommand(Command):
    """Deploy this TurboGears or CherryPy project on Apache/mod_wsgi (writes apache/)."""

    def get_parser(self, prog_name):
        parser = super(TgDeployGearboxCommand, self).get_parser(prog_name)
        parser.add_argument('project_dir', nargs='?', default=None,
                            help='the project (default: the current folder)')
        parser.add_argument('-n', '--simulate', action='store_true',
                            help='show what would change and write nothing')
        parser.add_argument('-f', '--overwrite', action='store_true',
                            help='replace files you edited in apache/ (saved as .bak)')
        parser.add_argument('-q', '--quiet', action='store_true', help='print nothing')
        return arguments.add_argparse(parser)

    def take_action(self, parsed_args):
        given = arguments.given(parsed_args)
        # gearbox reads -q itself wherever it stands (parse_known_args): ask it too.
        gearbox_quiet = getattr(getattr(self.app, 'options', None), 'verbose_level', 1) == 0
        out = (lambda line: None) if parsed_args.quiet or gearbox_quiet else print_line
        try:
            return run(arguments.action(parsed_args), parsed_args.project_dir or os.getcwd(),
                       given, out,
                       simulate=parsed_args.simulate, overwrite=parsed_args.overwrite,
                       **arguments.doctor(parsed_args))
        except TgDeployError as e:
            sys.stderr.write('tgdeploy: error: %s\n' % e)
            return 2
