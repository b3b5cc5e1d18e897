"""The edit stamp of the files tgdeploy writes beside apache/ (the Containerfile and
.containerignore of --container): their first line carries the sha256 of the rest, so an
edit by hand is seen without a manifest."""
import hashlib
import re

STAMP = re.compile(r'^# tgdeploy (\S+), sha256 of the lines below: ([0-9a-f]{64})\n')


def stamped(text, version):
    body = text.encode('utf-8')
    return u'# tgdeploy %s, sha256 of the lines below: %s\n%s' % (
        version, hashlib.sha256(body).hexdigest(), text)


def edited(data):
    """True when ``data`` (a stamped file's bytes) is not as tgdeploy wrote it."""
    text = data.decode('utf-8', 'replace')
    stamp = STAMP.match(text)
    if not stamp:
        return True
    rest = data[len(stamp.group(0).encode('utf-8')):]
    return hashlib.sha256(rest).hexdigest() != stamp.group(2)
