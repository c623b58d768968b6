"""go-plugin's AutoMTLS on the plugin's side.

When the host sets ``PLUGIN_CLIENT_CERT`` (its one-time certificate, PEM),
the plugin makes its own one-time certificate, serves TLS with it, requires
and verifies the host's certificate against the one it was given, and puts
its own certificate, DER in unpadded standard base64, in the sixth field of
the handshake line. The certificate is made as go-plugin makes its own: a
self-signed CA for "localhost" that may serve and authenticate clients.

go-plugin's host certificate has a P-521 key, which the TLS library inside
grpcio (BoringSSL) no longer accepts by default, and grpcio offers no way
to change that. So :class:`TLSFront` terminates TLS with Python's ``ssl``
module (OpenSSL) on the socket that the handshake names, negotiates "h2"
as gRPC requires, and relays the bytes to the gRPC server on a second
socket in the same private directory.

``cryptography`` is imported only here, when a host asks for AutoMTLS.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import os
import ssl

__all__ = [
    "CLIENT_CERT_ENV",
    "MAX_CLIENT_CERT",
    "AutoMTLSError",
    "TLSFront",
    "server_context",
]

#: The variable in which the host passes its certificate.
CLIENT_CERT_ENV = "PLUGIN_CLIENT_CERT"
#: The largest host certificate accepted, in bytes of PEM.
MAX_CLIENT_CERT = 64 * 1024
#: How long the certificate is valid, as go-plugin's (262,980 hours).
VALIDITY = datetime.timedelta(hours=262980)
#: Bytes relayed per read.
CHUNK = 256 * 1024
#: How long a connection may take to finish its TLS handshake.
HANDSHAKE_TIMEOUT = 10.0


class AutoMTLSError(Exception):
    """The host's certificate is unusable, or no certificate could be made."""


def server_context(client_cert_pem: str, directory: str) -> tuple[ssl.SSLContext, str]:
    """A TLS server context that requires the host's certificate.

    The plugin's key and certificate are written, mode 0600, into
    ``directory``, which must be private to the process.

    Returns:
        The context, and the plugin's certificate for the handshake line.

    Raises:
        AutoMTLSError: The host's certificate does not parse.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    pem = client_cert_pem.encode("utf-8", "replace")
    if len(pem) > MAX_CLIENT_CERT:
        raise AutoMTLSError(f"{CLIENT_CERT_ENV} is larger than {MAX_CLIENT_CERT} bytes")
    try:
        x509.load_pem_x509_certificate(pem)
    except ValueError as error:
        raise AutoMTLSError(f"{CLIENT_CERT_ENV} is not a PEM certificate: {error}") from None
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_path = os.path.join(directory, "plugin.key")
    cert_path = os.path.join(directory, "plugin.crt")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for path, data in (
        (key_path, key_pem),
        (cert_path, certificate.public_bytes(serialization.Encoding.PEM)),
    ):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    context.verify_mode = ssl.CERT_REQUIRED
    try:
        context.load_verify_locations(cadata=pem.decode("ascii", "replace"))
    except ssl.SSLError as error:
        raise AutoMTLSError(f"{CLIENT_CERT_ENV} cannot verify clients: {error}") from None
    context.set_alpn_protocols(["h2"])
    der = certificate.public_bytes(serialization.Encoding.DER)
    return context, base64.b64encode(der).decode("ascii").rstrip("=")


class TLSFront:
    """Terminates TLS on ``public_path`` and relays to the gRPC server on ``backend_path``."""

    def __init__(self, context: ssl.SSLContext, public_path: str, backend_path: str) -> None:
        self._context = context
        self._public = public_path
        self._backend = backend_path
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen on the public socket."""
        self._server = await asyncio.start_unix_server(
            self._accept,
            path=self._public,
            ssl=self._context,
            ssl_handshake_timeout=HANDSHAKE_TIMEOUT,
        )

    async def close(self) -> None:
        """Stop listening and end the relayed connections."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            try:
                backend_reader, backend_writer = await asyncio.open_unix_connection(self._backend)
            except OSError:
                return
            try:
                await asyncio.gather(_relay(reader, backend_writer), _relay(backend_reader, writer))
            finally:
                backend_writer.close()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            if task is not None:
                self._tasks.discard(task)


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then half-close, as far as the transport allows."""
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, ssl.SSLError, OSError):
        writer.close()
