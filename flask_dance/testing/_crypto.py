"""Keys of the local provider: id_token signing, JWKS and a throwaway TLS CA."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import ssl
import typing as t

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def token_hash(value: str) -> str:
    """The ``at_hash`` / ``c_hash`` of a value for an RS256 id_token."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return b64url(digest[: len(digest) // 2])


class SigningKey:
    """An RSA key pair that signs id_tokens, published in the JWKS.

    :param private_key: The key to use; a new 2048-bit key when omitted.
    """

    def __init__(self, private_key: rsa.RSAPrivateKey | None = None) -> None:
        if private_key is None:
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        #: The private key.
        self.private_key: rsa.RSAPrivateKey = private_key
        numbers = private_key.public_key().public_numbers()
        self._n = _int_b64(numbers.n)
        self._e = _int_b64(numbers.e)
        #: The key id: the RFC 7638 thumbprint of the public key.
        self.kid: str = b64url(
            hashlib.sha256(
                json.dumps(
                    {"e": self._e, "kty": "RSA", "n": self._n},
                    separators=(",", ":"),
                    sort_keys=True,
                ).encode("ascii")
            ).digest()
        )

    @property
    def public_pem(self) -> bytes:
        """The public key in PEM (SubjectPublicKeyInfo) form."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK, as listed at the ``jwks_uri``."""
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": self._n,
            "e": self._e,
        }


_throwaway_key: SigningKey | None = None


def _throwaway() -> SigningKey:
    global _throwaway_key
    if _throwaway_key is None:
        _throwaway_key = SigningKey()
    return _throwaway_key


def encode_jws(
    payload: dict[str, t.Any],
    key: SigningKey,
    *,
    alg: str = "RS256",
    kid: str | None = None,
    bad_signature: bool = False,
) -> str:
    """Sign ``payload`` as a compact JWS.

    :param payload: The claims.
    :param key: The provider's current signing key.
    :param alg: ``RS256``, ``none`` (no signature) or ``HS256`` (an HMAC keyed
        with the public key's PEM, the classic algorithm confusion attack).
    :param kid: The ``kid`` header; defaults to the key's id (none for ``none``).
    :param bad_signature: Sign RS256 with a throwaway key instead.
    """
    header: dict[str, str] = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    elif alg != "none":
        header["kid"] = key.kid
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(payload, separators=(",", ":")).encode())
    ).encode("ascii")
    if alg == "none":
        signature = b""
    elif alg == "HS256":
        signature = hmac.new(key.public_pem, signing_input, hashlib.sha256).digest()
    elif alg == "RS256":
        signer = _throwaway() if bad_signature else key
        signature = signer.private_key.sign(
            signing_input, padding.PKCS1v15(), hashes.SHA256()
        )
    else:
        raise ValueError(f"Unsupported id_token algorithm {alg!r}; use 'RS256'.")
    return signing_input.decode("ascii") + "." + b64url(signature)


def decode_jwt(
    token: str,
    jwks: t.Sequence[dict[str, t.Any]],
    *,
    audience: str | t.Sequence[str] | None = None,
    verify_exp: bool = True,
    required: t.Sequence[str] = (),
) -> dict[str, t.Any]:
    """Verify a JWT against a list of public JWKs and return its claims.

    :raises jwt.InvalidTokenError: When the token is malformed, signed by an
        unknown key or with another algorithm, or fails a claim check.
    """
    header = jwt.get_unverified_header(token)
    candidates = [
        k for k in jwks if header.get("kid") is None or k.get("kid") == header["kid"]
    ]
    if not candidates:
        raise jwt.InvalidTokenError("No key matches the token's 'kid'.")
    last_error: jwt.InvalidTokenError | None = None
    for jwk in candidates:
        try:
            public = jwt.PyJWK(dict(jwk))
            algorithms = [
                jwk.get("alg") or ("RS256" if jwk["kty"] == "RSA" else "ES256")
            ]
            claims: dict[str, t.Any] = jwt.decode(
                token,
                key=public.key,
                algorithms=algorithms,
                audience=audience,
                options={
                    "verify_exp": verify_exp,
                    "verify_aud": audience is not None,
                    "require": list(required),
                },
            )
        except jwt.InvalidTokenError as exc:
            last_error = exc
            continue
        except (jwt.PyJWKError, KeyError, ValueError) as exc:
            last_error = jwt.InvalidTokenError(str(exc))
            continue
        return claims
    assert last_error is not None
    raise last_error


class TLSFiles(t.NamedTuple):
    """Paths of a throwaway CA and a server certificate signed by it."""

    #: PEM of the CA certificate: pass it as ``verify=`` to requests.
    ca_file: str
    #: PEM of the server certificate chain.
    cert_file: str
    #: PEM of the server's private key.
    key_file: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tls_files(
    directory: str, hostnames: t.Sequence[str] = ("127.0.0.1", "localhost")
) -> TLSFiles:
    """Create a throwaway CA and a server certificate for ``hostnames``.

    :param directory: Where to write the three PEM files.
    :param hostnames: DNS names or IP addresses put in the certificate's SAN.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before = now - datetime.timedelta(days=1)
    not_after = now + datetime.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Flask-Dance local provider test CA"))
        .issuer_name(_name("Flask-Dance local provider test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    sans: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hostnames[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    files = TLSFiles(
        ca_file=os.path.join(directory, "ca.pem"),
        cert_file=os.path.join(directory, "server.pem"),
        key_file=os.path.join(directory, "server-key.pem"),
    )
    with open(files.ca_file, "wb") as f:
        f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(files.cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(files.key_file, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return files


def server_ssl_context(files: TLSFiles) -> ssl.SSLContext:
    """A server-side TLS context that presents the certificate in ``files``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert_file, files.key_file)
    return context
