"""The one error every tgdeploy step raises.

Its message is a single line that names the problem and the fix; the front ends
(command.py, gearbox_command.py, template.py) turn it into their own way of failing.
"""


class TgDeployError(Exception):
    """Bad input or an unusable project: nothing has been written."""

    def __str__(self):
        # One line, whatever the user typed: a value holding a newline is shown escaped.
        return Exception.__str__(self).replace('\r', '\\r').replace('\n', '\\n')
