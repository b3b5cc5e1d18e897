"""``python apache/NAME.wsgi sql create`` (README.txt step 2): TurboGears 1's own
``tg-admin sql`` commands, run with the config the replayed start-up builds.

A start-up that sets its database URI in code (from DB_* environment variables, say) leaves
``tg-admin -c NAME.cfg sql create`` looking at another database, or none. Run as a script,
the generated .wsgi sets the environment the deployment gives, loads the application as a
daemon process does (the start-up replayed), and then hands the command to TurboGears:
SQLAlchemy's create/status/list/execute, or sqlobject-admin for SQLObject.
"""
import glob
import os
import sys

USAGE = 'usage: python %s sql COMMAND (create, status, list, ...: tg-admin sql help)\n'


def main(args, config_file, project_dir):
    if len(args) < 2 or args[0] != 'sql':
        sys.stderr.write(USAGE % sys.argv[0])
        return 2
    from paste.deploy import loadapp
    from tgdeploy.apps import replay
    # A start-up that reads the database it is about to get (gibe's Blog.get(1)) stops
    # there: the settings it made by then are the ones the command needs.
    replay.SETUP.append(True)
    loadapp('config:' + config_file)
    from turbogears import config
    command = args[1]
    if config.get('sqlalchemy.dburi'):
        from turbogears.command.sacommand import sacommand
        sacommand(command, ['tg-admin'] + args[1:])
        return 0
    dburi = config.get('sqlobject.dburi')
    if not dburi:
        sys.stderr.write('tgdeploy: the start-up set no sqlalchemy.dburi or sqlobject.dburi: '
                         'nothing to run tg-admin sql %s on\n' % command)
        return 2
    from sqlobject.manager import command as socommand
    eggs = glob.glob(os.path.join(project_dir, '*.egg-info'))
    egg = ['--egg', os.path.basename(eggs[0])[:-len('.egg-info')]] if eggs else []
    os.chdir(project_dir)
    socommand.the_runner.run(['sqlobject-admin', command, '-c', dburi] + egg + args[2:])
    return 0
