"""The option table (settle/table.py) as command-line arguments, for every front end.

paster's parser (optparse) and gearbox's (argparse) take the same words: a flag and its
keywords, in groups named as --help shows them. ``given()``, ``doctor()`` and ``action()``
read the parsed options back into what the run takes.
"""
from tgdeploy.errors import TgDeployError
from tgdeploy.settle.table import GIVEN, TABLE, grouped, help_text


def keywords(row):
    """(flag, keyword arguments) for add_option / add_argument."""
    if row.kind == 'action':
        # Every action given is kept, so that two of them are refused, not one dropped.
        return '--' + row.name, dict(dest='actions', action='append_const', const=row.name,
                                     help=help_text(row))
    if row.kind == 'flag':
        return row.flag, dict(dest=row.name, action='store_const', const='yes',
                              help=help_text(row))
    return row.flag, dict(dest=row.name, metavar=row.name.upper(), help=help_text(row),
                          action='append' if row.kind == 'repeated' else 'store')


def add_optparse(parser):
    """Add every option to an optparse parser (paster, the console script), in groups."""
    from optparse import OptionGroup
    for _, title, rows in grouped():
        group = OptionGroup(parser, title)
        for row in rows:
            flag, kw = keywords(row)
            group.add_option(flag, **kw)
        parser.add_option_group(group)
    return parser


def add_argparse(parser):
    """Add every option to an argparse parser (gearbox), in groups."""
    for _, title, rows in grouped():
        group = parser.add_argument_group(title)
        for row in rows:
            flag, kw = keywords(row)
            kw['help'] = kw['help'].replace('%', '%%')  # argparse formats help with %
            group.add_argument(flag, **kw)
    return parser


def given(parsed):
    """The options the run takes (detection's and settle's), by name, from parsed options."""
    return dict((row.name, getattr(parsed, row.name)) for row in GIVEN)


def doctor(parsed):
    """The doctor's options (run()'s keyword arguments), by name, from parsed options."""
    return dict((row.name, getattr(parsed, row.name)) for row in TABLE if row.group == 'doctor')


def action(parsed):
    """The one action asked for (None: write apache/); two different ones are bad input."""
    asked = []
    for name in getattr(parsed, 'actions', None) or []:
        if name not in asked:
            asked.append(name)
    if len(asked) > 1:
        raise TgDeployError('--%s and --%s are two actions: give one of them (run tgdeploy '
                            'once for each)' % (asked[0], asked[1]))
    return asked[0] if asked else None
