"""The tests' Apache: tgdeploy's own PrivateApache (the one --check and --serve run), with
Debian's Python 3 mod_wsgi by default and test-friendly return values."""
from types import SimpleNamespace

from tgdeploy.serve.private_apache import PrivateApache, free_port  # noqa: F401

APACHE = '/usr/sbin/apache2'
DEBIAN_WSGI = '/usr/lib/apache2/modules/mod_wsgi.so'


class Apache(PrivateApache):

    def __init__(self, root, includes, wsgi_module=DEBIAN_WSGI, **kwargs):
        super().__init__(root, includes, wsgi_module, **kwargs)

    def configtest(self):
        code, out = super().configtest()
        return SimpleNamespace(returncode=code, stdout=out)

    def start(self, wait_for='/', timeout=30):
        """Start, and return the first answer to ``wait_for`` (any status)."""
        super().start(timeout)
        if wait_for is not None:
            return self.wait_for_answer(wait_for, timeout)
