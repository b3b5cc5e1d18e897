"""``paster tgdeploy``: deploy the project in the current folder (or the one named).

Also the ``tgdeploy`` console script (main), for hosts without paster on the PATH.
"""
from __future__ import print_function

import os
import sys

from paste.script.command import Command

from tgdeploy._compat import print_line
from tgdeploy.cli import arguments
from tgdeploy.cli.deploy import run
from tgdeploy.errors import TgDeployError


def build_parser():
    """paster's standard options, then the option table's, in its groups."""
    parser = Command.standard_parser(simulate=True, overwrite=True, quiet=True)
    return arguments.add_optparse(parser)


class TgDeployCommand(Command):
    """Adds apache/ (a .wsgi script, an Apache config, a README) to a project."""

    summary = 'Deploy this TurboGears or CherryPy project on Apache/mod_wsgi (writes apache/)'
    usage = '[PROJECT_DIR]'
    description = """\
    Detects the project (TurboGears 2, TurboGears 1.x or CherryPy) in PROJECT_DIR or the
    current folder and writes apache/ inside it: a .wsgi script, an Apache config and a
    README with the next steps. Files you edited there are kept unless --overwrite;
    --simulate shows what would change and writes nothing. --doctor checks the deployment
    against this machine, --check also runs it in a private Apache, --serve serves it.
    --reload reloads the running application in its daemon processes without failing a
    request (after a code change; writes nothing), once the new code has passed its check
    (loaded as the daemon would; --reload --simulate: the check alone).
    Exit codes: 0 fine, 1 warnings, 2 bad input, 3 will not work.
    """
    group_name = 'tgdeploy'
    min_args = 0
    max_args = 1
    default_verbosity = 1
    parser = build_parser()

    def command(self):
        directory = self.args[0] if self.args else os.getcwd()
        given = arguments.given(self.options)
        return run(arguments.action(self.options), directory, given, self.out,
                   simulate=self.simulate,
                   overwrite=self.options.overwrite, **arguments.doctor(self.options))

    def out(self, line):
        if self.verbose > 0:
            print_line(line)

    def run(self, args):
        try:
            return Command.run(self, args)
        except TgDeployError as e:
            sys.stderr.write('tgdeploy: error: %s\n' % e)
            return 2


class ScriptCommand(TgDeployCommand):
    """The command as its own script: its usage line names the script once, not
    "tgdeploy tgdeploy" as paster's "paster tgdeploy" pattern would."""

    def _prog_name(self):
        return os.path.basename(sys.argv[0])


def main(argv=None):
    """The ``tgdeploy`` console script: the same command without paster."""
    args = sys.argv[1:] if argv is None else argv
    return ScriptCommand('tgdeploy').run(args)


if __name__ == '__main__':
    sys.exit(main() or 0)
