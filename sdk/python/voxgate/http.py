"""Blocking HTTP to the tenant's systems over ``wasi:http/outgoing-handler``.

voxgate lets a plugin reach only the hosts its tenant allows, with the tenant's timeouts
and response size limit. Every failure raises :class:`HttpError`, which is also the WIT
error voxgate acts on, so a plugin that does not catch it still fails with the right case
(refused host: `denied`, unreachable: `unavailable`, HTTP 404: `not-found` …)::

    from voxgate import http

    def stock(base, sku, token):
        response = http.get(f"{base}/products/{http.encode(sku)}", bearer=token)
        return response.raise_for_status().json()["in_stock"]
"""

import json as _json
from typing import Any, List, Optional, Tuple

from componentize_py_types import Err
from wit_world.imports import outgoing_handler
from wit_world.imports import wasi_http_types as wasi
from wit_world.imports.streams import StreamError_Closed
from wit_world.imports.voxgate_plugin_types import (
    Error_Conflict,
    Error_Denied,
    Error_Internal,
    Error_Invalid,
    Error_NotFound,
    Error_Unavailable,
)

__all__ = ["HttpError", "Response", "request", "get", "post", "encode"]

# Reads in chunks of this size; voxgate's response size limit applies to the total.
_READ_CHUNK = 64 * 1024


class HttpError(Err):
    """A request that did not produce a usable response.

    ``kind`` is one of ``bad-url``, ``denied``, ``timeout``, ``connect``, ``too-large``,
    ``status``, ``decode``, ``other``; ``status`` and ``body`` are set for ``status``.
    ``value`` holds the WIT error case (the same mapping as the Rust SDK), so raising it
    out of an exported function fails the call with that case.
    """

    def __init__(self, kind: str, url: str, message: str, status: Optional[int] = None,
                 body: str = ""):
        # `Err` is a frozen dataclass; plain assignment is refused.
        for name, value in (("kind", kind), ("url", url), ("message", message),
                            ("status", status), ("body", body),
                            ("value", _wit_error(kind, status, message))):
            object.__setattr__(self, name, value)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"HttpError({self.kind!r}, {self.message!r})"


def _wit_error(kind: str, status: Optional[int], message: str):
    if kind == "denied":
        return Error_Denied(message)
    if kind in ("timeout", "connect"):
        return Error_Unavailable(message)
    if kind == "status":
        if status == 404:
            return Error_NotFound(message)
        if status == 409:
            return Error_Conflict(message)
        if status in (400, 422):
            return Error_Invalid(message)
        if status in (401, 403):
            return Error_Denied(message)
        if status in (429, 502, 503, 504):
            return Error_Unavailable(message)
    return Error_Internal(message)


def _denied(url):
    return HttpError("denied", url, f"request to {url} was denied by voxgate: the host is "
                     "not allowed for this tenant (add it to the tenant's allowed hosts)")


def _other(url, detail):
    return HttpError("other", url, f"request to {url} failed: {detail}")


class Response:
    """A whole HTTP response: ``status``, ``headers`` (list of name, bytes) and ``body``."""

    def __init__(self, url: str, status: int, headers: List[Tuple[str, bytes]], body: bytes):
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> Optional[str]:
        """The first value of a header, or None when absent or not UTF-8."""
        for n, v in self.headers:
            if n.lower() == name.lower():
                try:
                    return v.decode("utf-8")
                except UnicodeDecodeError:
                    return None
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def ok(self) -> bool:
        return 200 <= self.status < 300

    def raise_for_status(self) -> "Response":
        """Returns self for a 2xx status; otherwise raises HttpError(kind="status")."""
        if self.ok():
            return self
        body = self.text[:300]
        message = f"{self.url} answered HTTP {self.status}" + (f": {body}" if body else "")
        raise HttpError("status", self.url, message, status=self.status, body=body)

    def json(self) -> Any:
        """The body parsed as JSON; a malformed body raises HttpError(kind="decode")."""
        try:
            return _json.loads(self.body)
        except ValueError as e:
            raise HttpError("decode", self.url,
                            f"unexpected response from {self.url}: {e}") from None


def get(url: str, **kwargs) -> Response:
    """A GET request; see :func:`request` for the keyword arguments."""
    return request("GET", url, **kwargs)


def post(url: str, **kwargs) -> Response:
    """A POST request; see :func:`request` for the keyword arguments."""
    return request("POST", url, **kwargs)


def request(method: str, url: str, *, headers: Optional[dict] = None,
            body: Optional[bytes] = None, json: Any = None, bearer: Optional[str] = None,
            timeout: Optional[float] = None) -> Response:
    """Sends one request and reads the whole response, whatever its status.

    ``json`` sets a JSON body and its content type, ``body`` a raw one; ``bearer`` adds
    ``Authorization: Bearer …``; ``timeout`` (seconds) can only shorten the tenant's.
    Only transport failures raise; check the status with ``raise_for_status()``.
    """
    scheme, authority, path = _parse_url(url)
    fields = [(k.lower(), v.encode() if isinstance(v, str) else v)
              for k, v in (headers or {}).items()]
    if bearer is not None:
        fields.append(("authorization", f"Bearer {bearer}".encode()))
    if json is not None:
        # Compact UTF-8, byte for byte what serde_json sends for the same fields.
        body = _json.dumps(json, separators=(",", ":"), ensure_ascii=False).encode()
        fields.append(("content-type", b"application/json"))
    if body is not None:
        fields.append(("content-length", str(len(body)).encode()))
    body = body or b""

    try:
        outgoing = wasi.OutgoingRequest(wasi.Fields.from_list(fields))
    except Err as e:
        raise _other(url, f"bad header: {type(e.value).__name__}") from None
    _set(outgoing.set_method, _method(method), url, "bad method")
    _set(outgoing.set_scheme, scheme, url, "bad scheme")
    _set(outgoing.set_authority, authority, url, "bad authority")
    _set(outgoing.set_path_with_query, path, url, "bad path")
    options = None
    if timeout is not None:
        nanos = int(timeout * 1e9)
        options = wasi.RequestOptions()
        # The host caps these at the tenant's limits; a refused one keeps the default.
        for setter in (options.set_connect_timeout, options.set_first_byte_timeout,
                       options.set_between_bytes_timeout):
            try:
                setter(nanos)
            except Err:
                pass

    outgoing_body = _take(outgoing.body, url, "request body unavailable")
    stream = _take(outgoing_body.write, url, "request body stream unavailable")
    try:
        fits = stream.check_write() >= len(body)
    except Err:
        fits = False
    try:
        if fits:
            # Headers and body leave together: a server that answers before reading the
            # body would otherwise break the stream and lose its answer with it.
            with stream:
                if body:
                    stream.write(body)
            wasi.OutgoingBody.finish(outgoing_body, None)
            future = outgoing_handler.handle(outgoing, options)
        else:
            # A large body streams: the host drains it while we write.
            future = outgoing_handler.handle(outgoing, options)
            with stream:
                for i in range(0, len(body), 4096):
                    stream.blocking_write_and_flush(body[i:i + 4096])
            wasi.OutgoingBody.finish(outgoing_body, None)
    except Err as e:
        if type(e.value).__name__.startswith("StreamError_"):
            raise _other(url, f"writing the request body: {e.value!r}") from None
        raise _from_wasi(url, e.value) from None

    with future:
        with future.subscribe() as ready:
            ready.block()
        answer = future.get()
    if answer is None or isinstance(answer, Err):
        raise _other(url, "response already taken")
    if isinstance(answer.value, Err):
        raise _from_wasi(url, answer.value.value)
    with answer.value.value as incoming:
        status = incoming.status()
        with incoming.headers() as h:
            response_headers = h.entries()
        with _take(incoming.consume, url, "response body unavailable") as incoming_body:
            with _take(incoming_body.stream, url, "response body stream unavailable") as s:
                data = _read_all(s, url)
    return Response(url, status, response_headers, data)


def _read_all(stream, url) -> bytes:
    chunks = []
    while True:
        try:
            chunks.append(stream.blocking_read(_READ_CHUNK))
        except Err as e:
            if isinstance(e.value, StreamError_Closed):
                return b"".join(chunks)
            detail = e.value.value.to_debug_string()
            if "body-size" in detail or "BodySize" in detail:
                raise HttpError("too-large", url,
                                f"response from {url} is larger than the tenant allows") from None
            raise HttpError("connect", url, f"cannot reach {url}: {detail}") from None


def _set(setter, value, url, what):
    try:
        setter(value)
    except Err:
        raise _other(url, what) from None


def _take(getter, url, what):
    try:
        return getter()
    except Err:
        raise _other(url, what) from None


def _method(name: str):
    known = {
        "GET": wasi.Method_Get, "HEAD": wasi.Method_Head, "POST": wasi.Method_Post,
        "PUT": wasi.Method_Put, "DELETE": wasi.Method_Delete,
        "CONNECT": wasi.Method_Connect, "OPTIONS": wasi.Method_Options,
        "TRACE": wasi.Method_Trace, "PATCH": wasi.Method_Patch,
    }
    case = known.get(name.upper())
    return case() if case else wasi.Method_Other(name)


_TIMEOUTS = ("ConnectionTimeout", "ConnectionReadTimeout", "ConnectionWriteTimeout",
             "HttpResponseTimeout", "DnsTimeout")
_CONNECT = ("ConnectionRefused", "ConnectionTerminated", "ConnectionLimitReached",
            "DestinationNotFound", "DestinationUnavailable", "DestinationIpUnroutable",
            "DnsError", "TlsProtocolError", "TlsCertificateError", "TlsAlertReceived")


def _from_wasi(url: str, code) -> HttpError:
    """Maps a wasi:http error code the way the Rust SDK does, with the same texts."""
    case = type(code).__name__.removeprefix("ErrorCode_")
    # The Rust SDK prints the code with Debug (`ErrorCode::ConnectionRefused`).
    detail = f"ErrorCode::{case}"
    payload = getattr(code, "value", None)
    if payload is not None:
        detail += f"({payload!r})"
    if case == "HttpRequestDenied":
        return _denied(url)
    if case in _TIMEOUTS:
        return HttpError("timeout", url, f"request to {url} timed out")
    if case == "HttpResponseBodySize":
        return HttpError("too-large", url, f"response from {url} is larger than the tenant allows")
    if case in _CONNECT:
        return HttpError("connect", url, f"cannot reach {url}: {detail}")
    return _other(url, detail)


def _parse_url(url: str):
    def bad():
        return HttpError("bad-url", url, f"bad URL `{url}`")

    scheme, sep, rest = url.partition("://")
    if not sep:
        raise bad()
    scheme = scheme.lower()
    if scheme == "http":
        scheme = wasi.Scheme_Http()
    elif scheme == "https":
        scheme = wasi.Scheme_Https()
    else:
        raise bad()
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, path = rest[:cut], rest[cut:] or "/"
    if not authority or "@" in authority:
        raise bad()
    if path.startswith("?"):
        path = "/" + path
    return scheme, authority, path


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def encode(value: str) -> str:
    """Percent-encodes a value for a URL path segment or query value."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in value.encode())
