"""The one error every tgdeploy step raises.

Its message is a single line that names the problem and the fix; the front ends
(command.py, gearbox_command.py, template.py) turn it into their own way of failing.
An operating-system error becomes one of its lines in files/os_errors.py.
"""
from tgdeploy._compat import PY2


class TgDeployError(Exception):
    """Bad input or an unusable project: nothing has been written."""

    def __str__(self):
        message = self.args[0] if len(self.args) == 1 else Exception.__str__(self)
        if PY2 and isinstance(message, unicode):  # noqa: F821 - Python 2.7 only
            # str() must give bytes there: UTF-8, whatever the user typed (not a traceback).
            message = message.encode('utf-8', 'backslashreplace')
        # One line, whatever the user typed: a value holding a newline is shown escaped.
        return str(message).replace('\r', '\\r').replace('\n', '\\n')
