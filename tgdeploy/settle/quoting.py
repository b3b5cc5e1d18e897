"""Apache's own quoting rules, and those of the programs its config hands paths to: one
config argument (apache_quote), a <Directory> pattern (directory_pattern), a -strmatch
pattern in an ap_expr string (expr_string), a word of a piped logger's command
(piped_argument), a tmpfiles.d path (tmpfiles_path).

The templates call these (settle hands them over as q, qdir, qexpr, shq, tmpfiles_path), so
a path with spaces, quotes or non-ASCII letters reaches Apache as it is; what no quoting
carries is refused earlier (checks.UNCARRIED).
"""
import re


def apache_quote(text):
    """One Apache config argument: in double quotes, where Apache reads \\ and \" as
    escapes (ap_getword_conf)."""
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def piped_argument(path):
    """``path`` as one word of a piped logger's command inside a double-quoted Apache
    argument: in single quotes, which Apache 2.4 (apr_tokenize_to_argv) and the shell of 2.2
    both read as one word (settle_day_two refuses a log folder with quotes or backslashes)."""
    return "'%s'" % path


def tmpfiles_path(path):
    """A path in a tmpfiles.d line: in double quotes (systemd 252 reads "\\x20" unquoted as
    "x20"), % doubled (its specifiers); settle_day_two refuses quotes and backslashes."""
    return '"%s"' % path.replace('%', '%%')


def glob_escape(path):
    # <Directory> and -strmatch read * ? [ as wildcards (apr_fnmatch); in brackets they are
    # themselves (a backslash escape is not enough for "[": measured, 403).
    return re.sub(r'([*?[])', r'[\1]', path)


def directory_pattern(path):
    """A <Directory> argument that matches ``path`` only."""
    return apache_quote(glob_escape(path))


def expr_string(path):
    """``path`` as a -strmatch pattern inside a single-quoted ap_expr string, inside a
    double-quoted Apache argument: escaped for each of the three, innermost first. An
    ap_expr string has no escape for its own quote (measured: a syntax error), so a "'"
    is matched by "?", any one character, in its place."""
    inner = glob_escape(path).replace('\\', '\\\\').replace("'", '?')
    return apache_quote(inner)[1:-1]
