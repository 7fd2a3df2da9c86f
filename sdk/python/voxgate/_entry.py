"""What the build wraps around a plugin's module; plugin code does not import this.

componentize-py passes an exception out of an exported function as a WIT error only when
its type is exactly ``Err``; anything else (a subclass such as ``HttpError``, a stray
``KeyError`` from an unexpected ERP answer) traps the instance, which voxgate counts as
a crashed plugin. Wrapping every method of the export classes keeps business failures
values: an ``Err`` subclass is re-raised as a plain ``Err`` with the same case, any other
exception becomes `internal` and its traceback goes to voxgate's log.
"""

import functools
import traceback

from componentize_py_types import Err
from wit_world import exports

from . import log
from .errors import internal

_WRAPPED = "__voxgate_wrapped__"


def wrap_exports(module, namespace):
    """Puts the export classes of `module` into `namespace` with their WIT methods wrapped.

    Only the methods the generated protocols declare are wrapped, so helpers, static
    methods and imported names stay as they are.
    """
    for name in dir(exports):
        protocol = getattr(exports, name)
        cls = getattr(module, name, None)
        if not (isinstance(protocol, type) and protocol.__module__ == exports.__name__
                and isinstance(cls, type)):
            continue
        for method in vars(protocol):
            current = getattr(cls, method, None)
            if method.startswith("_") or not callable(current) or getattr(current, _WRAPPED, False):
                continue
            setattr(cls, method, _wrap(current))
        namespace[name] = cls


def _wrap(method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except Err as e:
            if type(e) is Err:
                raise
            raise Err(e.value) from None
        except Exception as e:
            log.error("".join(traceback.format_exception(e)).rstrip())
            raise internal(f"{type(e).__name__}: {e}") from None

    setattr(call, _WRAPPED, True)
    return call
