"""Unit tests of the kit's pure parts, run on the build machine's Python against the
generated bindings (their WIT functions only raise there, so nothing here calls them)."""

import types
import unittest
from unittest import mock

from componentize_py_types import Err
from wit_world.imports import voxgate_plugin_types as t
from wit_world.imports import wasi_http_types as wasi

from voxgate import _entry, errors, http


class Encode(unittest.TestCase):
    def test_keeps_unreserved_and_escapes_the_rest(self):
        self.assertEqual(http.encode("+44 20"), "%2B44%2020")
        self.assertEqual(http.encode("a-b_c.d~e"), "a-b_c.d~e")
        self.assertEqual(http.encode("a/b?c"), "a%2Fb%3Fc")
        self.assertEqual(http.encode("č"), "%C4%8D")


class ParseUrl(unittest.TestCase):
    def test_splits_authority_and_path(self):
        scheme, authority, path = http._parse_url("http://127.0.0.1:8700/contacts/x?y=1")
        self.assertIsInstance(scheme, wasi.Scheme_Http)
        self.assertEqual((authority, path), ("127.0.0.1:8700", "/contacts/x?y=1"))
        self.assertEqual(http._parse_url("https://erp.example.com")[2], "/")
        self.assertEqual(http._parse_url("HTTPS://h?q=1")[1:], ("h", "/?q=1"))

    def test_refuses_what_is_not_an_http_url(self):
        for url in ("ftp://x/", "http://user@x/", "nonsense", "http:///path"):
            with self.assertRaises(http.HttpError) as e:
                http._parse_url(url)
            self.assertIsInstance(e.exception.value, t.Error_Internal)
            self.assertEqual(str(e.exception), f"bad URL `{url}`")


class StatusMapping(unittest.TestCase):
    def test_statuses_map_like_the_rust_sdk(self):
        cases = {404: t.Error_NotFound, 409: t.Error_Conflict, 400: t.Error_Invalid,
                 422: t.Error_Invalid, 401: t.Error_Denied, 403: t.Error_Denied,
                 429: t.Error_Unavailable, 503: t.Error_Unavailable, 500: t.Error_Internal}
        for status, case in cases.items():
            response = http.Response("http://h/x", status, [], b"oops")
            with self.assertRaises(http.HttpError) as e:
                response.raise_for_status()
            self.assertIsInstance(e.exception.value, case, status)
            self.assertEqual(e.exception.message, f"http://h/x answered HTTP {status}: oops")

    def test_transport_codes(self):
        denied = http._from_wasi("u", wasi.ErrorCode_HttpRequestDenied())
        self.assertIsInstance(denied.value, t.Error_Denied)
        refused = http._from_wasi("u", wasi.ErrorCode_ConnectionRefused())
        self.assertIsInstance(refused.value, t.Error_Unavailable)
        self.assertEqual(refused.message, "cannot reach u: ErrorCode::ConnectionRefused")
        self.assertIsInstance(http._from_wasi("u", wasi.ErrorCode_HttpResponseTimeout()).value,
                              t.Error_Unavailable)

    def test_response_helpers(self):
        r = http.Response("u", 200, [("Content-Type", b"audio/wav")], b'{"a": 1}')
        self.assertEqual(r.header("content-type"), "audio/wav")
        self.assertIsNone(r.header("x-missing"))
        self.assertEqual(r.raise_for_status().json(), {"a": 1})
        with self.assertRaises(http.HttpError) as e:
            http.Response("u", 200, [], b"not json").json()
        self.assertEqual(e.exception.kind, "decode")


class Wrapping(unittest.TestCase):
    def wrapped(self, behaviour):
        class Module:
            class Knowledge(_Protocol):
                def answer(self, ctx, question):
                    return behaviour()

                def helper(self):
                    raise KeyError("helpers stay unwrapped")

        namespace = {}
        with mock.patch.object(_entry, "exports", _Exports):
            _entry.wrap_exports(Module, namespace)
        return namespace["Knowledge"]()

    def test_plain_err_passes(self):
        def fail():
            raise errors.conflict("c")
        with self.assertRaises(Err) as e:
            self.wrapped(fail).answer(None, "q")
        self.assertIs(type(e.exception), Err)
        self.assertEqual(e.exception.value, t.Error_Conflict("c"))

    def test_http_error_becomes_a_plain_err(self):
        def fail():
            raise http.HttpError("status", "u", "m", status=404)
        with self.assertRaises(Err) as e:
            self.wrapped(fail).answer(None, "q")
        self.assertIs(type(e.exception), Err)
        self.assertEqual(e.exception.value, t.Error_NotFound("m"))

    def test_other_exceptions_become_internal(self):
        with mock.patch.object(_entry.log, "error") as logged:
            with self.assertRaises(Err) as e:
                self.wrapped(lambda: {}["x"]).answer(None, "q")
        self.assertEqual(e.exception.value, t.Error_Internal("KeyError: 'x'"))
        self.assertIn("KeyError", logged.call_args[0][0])

    def test_only_protocol_methods_are_wrapped(self):
        with self.assertRaises(KeyError):
            self.wrapped(lambda: None).helper()


class _Protocol:
    def answer(self, ctx, question):
        raise NotImplementedError


_Protocol.__module__ = "fake_exports"


_Exports = types.ModuleType("fake_exports")
_Exports.Knowledge = _Protocol


if __name__ == "__main__":
    unittest.main()
