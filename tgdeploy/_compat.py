"""Every difference between Python 2.7 and 3.x that tgdeploy cares about, in one place."""
import sys

PY2 = sys.version_info[0] == 2

if PY2:  # pragma: no cover - exercised by the Python 2.7 lab
    from ConfigParser import RawConfigParser, Error as ConfigParserError  # noqa: F401
    from pipes import quote as shell_quote  # noqa: F401
    text_type = unicode  # noqa: F821
    input_line = raw_input  # noqa: F821
else:
    from configparser import RawConfigParser, Error as ConfigParserError  # noqa: F401
    from shlex import quote as shell_quote  # noqa: F401
    text_type = str
    input_line = input
