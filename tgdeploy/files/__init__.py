"""Reading and writing the project's files safely, shared by every step: any encoding, and never
through a symlink another user planted when tgdeploy runs as root."""
