"""Proxies in front (--trust-proxy): which networks may be trusted, which forwarding headers
mod_wsgi believes from them, and which ones Apache removes before the application sees them.

What mod_wsgi 4.9.4 does, measured (tests/test_proxies.py): from an address outside
WSGITrustedProxies it drops each header named in WSGITrustedProxyHeaders *and the others of
its set* (X-Forwarded-For takes X-Client-IP and X-Real-IP along; X-Forwarded-Proto takes
X-Forwarded-Scheme, -SSL, -HTTPS, X-HTTPS and X-Scheme); every other forwarding header
(Forwarded, X-Forwarded-Host, -Server, -Port, -Prefix, X-Url-Scheme, Front-End-Https,
X-Script-Name...) reaches the application as the client wrote it. WSGITrustedProxyHeaders
without WSGITrustedProxies trusts every client. So the config believes only the client's
address and scheme from the proxies (the fronts pass Host on as the client sent it), and
unsets the rest with mod_headers for everyone.
"""
import re
import socket

from tgdeploy.errors import TgDeployError

# What a trusted proxy may tell the application, as mod_wsgi names it: the client's address
# and the scheme it used. Never X-Forwarded-Host: the fronts tgdeploy writes carry the Host
# header itself, and a proxy that passes a client's X-Forwarded-Host on would let any client
# choose the host of every link and redirect (reset links poisoned).
TRUSTED_HEADERS = ('X-Forwarded-For', 'X-Forwarded-Proto')

# Every request header a framework, a middleware or mod_wsgi may read as what a proxy saw.
# The ones not trusted are unset before the application runs (RequestHeader unset).
FORWARDING_HEADERS = (
    'X-Forwarded-For', 'X-Forwarded-Proto', 'Forwarded', 'X-Forwarded-Host', 'X-Host',
    'X-Forwarded-Server', 'X-Forwarded-Port', 'X-Forwarded-Prefix', 'X-Forwarded-Script-Name',
    'X-Script-Name', 'X-Url-Scheme', 'Front-End-Https', 'X-Real-IP', 'X-Client-IP',
    'X-Forwarded-Scheme', 'X-Forwarded-Ssl', 'X-Forwarded-Https', 'X-Https', 'X-Scheme',
)
# The others of a trusted header's kind, which mod_wsgi itself drops from every client once
# that header is trusted (measured).
KINDS = {
    'X-Forwarded-For': ('X-Real-IP', 'X-Client-IP'),
    'X-Forwarded-Proto': ('X-Forwarded-Scheme', 'X-Forwarded-Ssl', 'X-Forwarded-Https',
                          'X-Https', 'X-Scheme'),
}

# The widest network that may be trusted without --trust-wide-networks yes. IPv4: /8, the
# largest private block (10.0.0.0/8). IPv6: /16. A site is given a /48, a unique-local
# network is a /48 inside fd00::/8, and the largest provider allocations are /19-/20: a /16
# still names any single organisation's range, while the shorter blocks (fd00::/8, every
# organisation's unique-local networks; 2000::/8, a large part of the Internet; ::/1) span
# organisations whose machines would all be believed.
WIDEST = {socket.AF_INET: 8, socket.AF_INET6: 16}
BITS = {socket.AF_INET: 32, socket.AF_INET6: 128}
# ::ffff:0:0/96, IPv4 addresses as IPv6 ones: checked as the IPv4 network they name.
MAPPED = (0xffff << 32, 96)


def untrusted_headers(trusted):
    """The forwarding headers Apache unsets: all of them but ``trusted`` and the ones
    mod_wsgi drops along with those."""
    handled = set(trusted)
    for name in trusted:
        handled.update(KINDS.get(name, ()))
    return [name for name in FORWARDING_HEADERS if name not in handled]


def check_proxies(given, wide=False):
    """[CIDR] from --trust-proxy CIDR[,CIDR...]: addresses or networks, IPv4 or IPv6. One
    that trusts everyone is refused; one wider than WIDEST unless ``wide`` (the operator's
    --trust-wide-networks yes)."""
    if not given:
        return []
    proxies = [item.strip() for item in given.split(',')]
    networks = []
    for item in proxies:
        family, start, bits = parse(item)
        if family == socket.AF_INET6 and bits >= MAPPED[1] and \
                start >> (128 - MAPPED[1]) == MAPPED[0] >> (128 - MAPPED[1]):
            family, start, bits = socket.AF_INET, start & 0xffffffff, bits - MAPPED[1]
        if bits == 0:
            raise TgDeployError('--trust-proxy %s trusts every address, so any client could '
                                'claim any address and scheme: name the proxies\' own addresses'
                                % item)
        if bits < WIDEST[family] and not wide:
            raise TgDeployError(
                '--trust-proxy %s trusts a network wider than /%d (%s), whose every machine '
                'could claim any client address and scheme: name the proxies\' own addresses '
                'or subnet, or pass --trust-wide-networks yes if all of it is yours'
                % (item, WIDEST[family], 'IPv4' if family == socket.AF_INET else 'IPv6'))
        networks.append((family, start, bits))
    for family in (socket.AF_INET, socket.AF_INET6):
        if covers_all([(s, b) for f, s, b in networks if f == family], BITS[family]):
            raise TgDeployError('--trust-proxy %s together trust every %s address, so any '
                                'client could claim any address and scheme: name the proxies\' '
                                'own addresses' % (given, 'IPv4' if family == socket.AF_INET
                                                   else 'IPv6'))
    return proxies


def parse(item):
    """(family, first address as an integer, prefix length) of ADDRESS[/BITS]."""
    address, _, bits = item.partition('/')
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    widest = BITS[family]
    if not (re.match(r'^[0-9A-Fa-f.:]+\Z', address) and (not bits or (
            re.match(r'^[0-9]{1,3}\Z', bits) and int(bits) <= widest))):
        raise bad(item)
    try:
        packed = socket.inet_pton(family, address)
    except (socket.error, ValueError):
        raise bad(item)
    number = int(''.join('%02x' % c for c in bytearray(packed)), 16)
    length = int(bits) if bits else widest
    return family, number & ~((1 << (widest - length)) - 1), length


def bad(item):
    return TgDeployError('--trust-proxy %r is not an address or network such as 10.0.0.5 or '
                         '10.0.0.0/8 (several: comma-separated)' % item)


def covers_all(networks, width):
    """Whether the networks [(start, bits)] together hold every address of ``width`` bits."""
    end = 0
    for start, bits in sorted(networks):
        if start > end:
            return False
        end = max(end, start + (1 << (width - bits)))
    return end >= 1 << width


# -- the doctor ---------------------------------------------------------------------------

def findings(configs):
    """[(level, text)] for the WSGITrusted* lines of the configs Apache reads, those written
    by hand included: ``configs`` is [(path, [WSGITrustedProxyHeaders arguments],
    [WSGITrustedProxies arguments])]."""
    found = []
    for path, headers, trusted in configs:
        names = set(name.lower() for args in headers for name in args.split())
        if names and not trusted:
            found.append(('warning', 'WSGITrustedProxyHeaders in %s, and no WSGITrustedProxies '
                                     'there: where none applies, mod_wsgi believes these '
                                     'headers from every client (any client sets its address '
                                     'and scheme); add WSGITrustedProxies with the proxies\' '
                                     'addresses beside it' % path))
        host = sorted(names & set(['x-forwarded-host', 'x-host', 'x-forwarded-server',
                                   'x-script-name', 'x-forwarded-script-name']))
        if host:
            found.append(('warning', 'WSGITrustedProxyHeaders in %s trusts %s: a proxy that '
                                     'passes on what the client sent lets any client choose the '
                                     'host or path of every link and redirect; have the proxy '
                                     'pass the Host header on (ProxyPreserveHost On) and drop '
                                     '%s' % (path, ', '.join(host), ', '.join(host))))
    return found
