"""Internet identifiers: IP addresses and networks, URLs, domain names and e-mail addresses."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import idna

from fraudx.identifiers.kinds import IdentifierKind, reject

_IP, _URL, _DOMAIN, _EMAIL = (
    IdentifierKind.IP,
    IdentifierKind.URL,
    IdentifierKind.DOMAIN,
    IdentifierKind.EMAIL,
)
_MAX_DOMAIN = 253
# An ASCII name that needs no IDNA processing: the fast path for the common case.
_PLAIN_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_TLD = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_SCHEMES = {"http": 80, "https": 443, "ftp": 21}
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_LEADING_ZERO = re.compile(r"(?:^|:)0\d+(?=\.)|\.0\d+(?=[./]|$)")
_DOT_SEGMENTS = {".", "..", "%2e", "%2e%2e", ".%2e", "%2e."}


# -- ip ---------------------------------------------------------------------------------


def parse_ip(raw: str) -> str:
    """An address or a CIDR network; host bits are cleared and a /32 or /128 is an address."""
    text = raw.strip()
    if "%" in text:
        reject(_IP, raw, "zone ids are local to one host")
    if _LEADING_ZERO.search(text):
        # 010.1.1.1 is 8.1.1.1 to some tools and 10.1.1.1 to others: refuse to guess.
        reject(_IP, raw, "IPv4 octets with leading zeros are ambiguous")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as error:
        reject(_IP, raw, str(error) or "not an IP address or network")
    if isinstance(network, ipaddress.IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen >= 96:
            network = ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}", strict=False)
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


# -- domain -----------------------------------------------------------------------------


def canonical_domain(raw: str, text: str, kind: IdentifierKind = _DOMAIN) -> str:
    """Lower-case A-labels (punycode) of a name with at least two labels and a TLD."""
    name = text[:-1] if text.endswith(".") else text
    if not name:
        reject(kind, raw, "the domain name is empty")
    lowered = name.lower()
    if lowered.isascii() and all(_PLAIN_LABEL.fullmatch(x) for x in lowered.split(".")):
        ascii_name = lowered
    else:
        try:
            ascii_name = idna.encode(name, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError) as error:
            reject(kind, raw, f"not a valid internationalised domain name ({error})")
        ascii_name = ascii_name.lower()
    labels = ascii_name.split(".")
    if len(labels) < 2:
        reject(kind, raw, "a domain name needs at least two labels")
    if len(ascii_name) > _MAX_DOMAIN:
        reject(kind, raw, f"a domain name has at most {_MAX_DOMAIN} characters")
    if not all(_PLAIN_LABEL.fullmatch(label) for label in labels):
        reject(kind, raw, "labels have 1 to 63 letters, digits or hyphens")
    if not _TLD.fullmatch(labels[-1]):
        reject(kind, raw, f"{labels[-1]!r} is not a top-level domain")
    return ascii_name


def parse_domain(raw: str) -> str:
    return canonical_domain(raw, raw.strip())


# -- email ------------------------------------------------------------------------------


def parse_email(raw: str) -> str:
    """The local part as given (it may be case-sensitive), the domain canonical."""
    text = raw.strip()
    if text[:7].lower() == "mailto:":
        text = text[7:]
    local, at, domain = text.rpartition("@")
    if not at or not local:
        reject(_EMAIL, raw, "expected local-part@domain")
    if len(local) > 64:
        reject(_EMAIL, raw, "the local part has at most 64 characters")
    if _FORBIDDEN.search(local) or "@" in local:
        reject(_EMAIL, raw, "the local part may not contain spaces, controls, '\\' or '@'")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        reject(_EMAIL, raw, "dots may not start, end or repeat in the local part")
    return f"{local}@{canonical_domain(raw, domain, _EMAIL)}"


# -- url --------------------------------------------------------------------------------


def parse_url(raw: str) -> str:
    """Scheme and host canonical, default port and fragment dropped, dot-segments resolved."""
    text = raw.strip()
    # Browsers read a backslash in the authority or path as '/', other tools do not: such a
    # URL has no single meaning, so it is refused (a backslash in the query is just data).
    if _SPACE_OR_CONTROL.search(text) or "\\" in text.split("?", 1)[0]:
        reject(_URL, raw, "spaces, control characters and backslashes are not allowed")
    match = _SCHEME.match(text)
    if match is None:
        if ":" in text.split("/", 1)[0] and not _looks_like_host_port(text):
            reject(_URL, raw, "only http, https and ftp URLs are accepted")
        # A bare host and path, as people paste them, is an http URL.
        text = "http:" + text if text.startswith("//") else "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        reject(_URL, raw, f"not a URL ({error})")
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        reject(_URL, raw, "only http, https and ftp URLs are accepted")
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host = _url_host(raw, hostport, port)
    if port is not None and port != _SCHEMES[scheme]:
        host = f"{host}:{port}"
    authority = f"{userinfo}@{host}" if userinfo else host
    path = _remove_dot_segments(parts.path) or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{authority}{path}{query}"


def _looks_like_host_port(text: str) -> bool:
    head = text.split("/", 1)[0]
    return bool(re.fullmatch(r"[^:]+:\d{1,5}", head))


def _url_host(raw: str, hostport: str, port: int | None) -> str:
    if hostport.startswith("["):
        literal = hostport[1 : hostport.find("]")]
        try:
            return f"[{ipaddress.IPv6Address(literal)}]"
        except ValueError:
            reject(_URL, raw, "not a valid IPv6 literal")
    host = hostport.rsplit(":", 1)[0] if port is not None or hostport.endswith(":") else hostport
    if not host:
        reject(_URL, raw, "the host is missing")
    if port is not None and port == 0:
        reject(_URL, raw, "port 0 is not a port")
    if re.fullmatch(r"[0-9.]+", host):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            reject(_URL, raw, "not a valid IPv4 host")
    return canonical_domain(raw, host, _URL)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, on whole segments (equivalent to the spec's buffer algorithm)."""
    if not path:
        return path
    segments = path.split("/")
    if not any(s.lower() in _DOT_SEGMENTS for s in segments):
        return path
    output: list[str] = []
    for index, segment in enumerate(segments[1:], start=1):
        last = index == len(segments) - 1
        lowered = segment.lower()
        if lowered in (".", "%2e"):
            if last:
                output.append("")
        elif lowered in ("..", "%2e%2e", ".%2e", "%2e."):
            if output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)
