"""A self-signed certificate for the dashboard, made on the Pi itself (nothing is fetched).

Browsers warn about a certificate no authority signed; the warning page shows its
SHA-256 fingerprint, and HomeGuard logs the same fingerprint, so the household can check
it once and trust it. The certificate names the address the dashboard listens on and
the machine's host name, and is made again when either changes or it nears its end.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import socket
from pathlib import Path

from homeguard.clock import Clock
from homeguard.errors import ConfigError
from homeguard.web.server import TlsFiles

CERTIFICATE_FILE = "web-certificate.pem"
KEY_FILE = "web-key.pem"
VALID_DAYS = 825  # the longest any browser accepts for a certificate it trusts
RENEW_DAYS = 30


def self_signed(directory: Path, host: str, clock: Clock) -> TlsFiles:
    """The certificate and key in `directory`, made (again) when missing, for another
    address, or within RENEW_DAYS of expiring."""
    files = TlsFiles(directory / CERTIFICATE_FILE, directory / KEY_FILE)
    if not _still_good(files, host, clock):
        _make(files, host, clock)
    return files


def fingerprint(certificate: Path) -> str:
    """The SHA-256 fingerprint as browsers show it: AB:CD:..."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def check_files(certificate: str | None, key: str | None) -> TlsFiles | None:
    """The household's own certificate and key (settings web_tls_certificate and
    web_tls_key): both or neither, and both readable."""
    if not certificate and not key:
        return None
    if not certificate or not key:
        raise ConfigError("web_tls_certificate and web_tls_key go together: set both, or neither")
    for path in (certificate, key):
        if not os.access(path, os.R_OK):
            raise ConfigError(f"{path}: cannot read it (does it exist, and may HomeGuard's user read it?)")
    return TlsFiles(Path(certificate), Path(key))


def _names(host: str) -> tuple[list[ipaddress.IPv4Address | ipaddress.IPv6Address], list[str]]:
    addresses = []
    with contextlib.suppress(ValueError):  # a host name, not an address
        addresses.append(ipaddress.ip_address(host))
    names = sorted({socket.gethostname(), "localhost"} | ({host} if not addresses else set()))
    return addresses, names


def _still_good(files: TlsFiles, host: str, clock: Clock) -> bool:
    if not files.certificate.exists() or not files.key.exists():
        return False
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(files.certificate.read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    addresses, dns_names = _names(host)
    now = datetime.datetime.fromtimestamp(clock.time(), datetime.UTC)
    return (
        set(addresses) <= set(names.get_values_for_type(x509.IPAddress))
        and set(dns_names) <= set(names.get_values_for_type(x509.DNSName))
        and cert.not_valid_after_utc - now > datetime.timedelta(days=RENEW_DAYS)
    )


def _make(files: TlsFiles, host: str, clock: Clock) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    addresses, dns_names = _names(host)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "HomeGuard dashboard")])
    now = datetime.datetime.fromtimestamp(clock.time(), datetime.UTC)
    alternatives: list[x509.GeneralName] = [x509.IPAddress(a) for a in addresses]
    alternatives += [x509.DNSName(n) for n in dns_names]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))  # a clock a little behind still accepts it
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    files.key.parent.mkdir(parents=True, exist_ok=True)
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others
    with os.fdopen(descriptor, "wb") as out:
        out.write(key_bytes)
    files.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
