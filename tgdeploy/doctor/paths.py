"""Path questions several of the doctor's checks ask."""
import os


def under(path, folder):
    """Whether ``path`` is ``folder`` or inside it, symlinks resolved."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
