"""The demo ERP's REST API as this plugin sees it: one small client and its error rules."""

from voxgate import config, errors, http
from voxgate.http import encode

__all__ = ["Erp", "encode", "wav_duration_ms"]


class Erp:
    """A client for one plugin call. Settings are read per call: every call runs in a
    fresh instance, so there is nothing to keep between calls anyway."""

    def __init__(self):
        self.base = config.require("erp-base-url").rstrip("/")
        self.key = config.secret("erp-api-key")

    def get(self, path):
        return self.get_raw(path).json()

    def get_raw(self, path):
        return _check(http.get(self.base + path, bearer=self.key))

    def post(self, path, body):
        return _check(http.post(self.base + path, json=body, bearer=self.key)).json()


def _check(response):
    """The ERP answers errors as {"error": code, "message": text}: its code picks the WIT
    error case and its message becomes the error text."""
    if response.ok():
        return response
    try:
        e = response.json()
    except http.HttpError:
        e = None
    if not (isinstance(e, dict) and isinstance(e.get("error"), str)
            and isinstance(e.get("message"), str)):
        response.raise_for_status()
    code, message = e["error"], e["message"]
    if code == "not_found":
        raise errors.not_found(message)
    if code == "invalid":
        raise errors.invalid(message)
    if code == "conflict":
        raise errors.conflict(message)
    if code == "unauthorized":
        raise errors.denied(f"ERP refused the API key: {message}")
    raise errors.unavailable(f"ERP error {response.status}: {message}")


def wav_duration_ms(data: bytes):
    """Length of a PCM WAV file from its header, when it is the plain 44-byte one."""
    if len(data) < 44 or data[0:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    byte_rate = int.from_bytes(data[28:32], "little")
    if byte_rate == 0:
        return None
    ms = (len(data) - 44) * 1000 // byte_rate
    return ms if ms <= 0xFFFFFFFF else None
