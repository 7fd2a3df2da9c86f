"""voxgate's Python plugin kit: a thin layer over the bindings componentize-py generates.

    from voxgate import config, errors, http, log

- ``http``: blocking requests over wasi:http (``http.get``, ``http.post``, ``encode``);
  failures raise ``HttpError``, which already is the right WIT error.
- ``config``: ``get``, ``require`` (missing → `internal` naming the key), ``secret``.
- ``log``: ``debug``, ``info``, ``warn``, ``error`` into voxgate's log.
- ``errors``: ``raise errors.not_found("…")`` and the other cases; ``@errors.guard`` turns
  unexpected exceptions of a class's methods into `internal` errors.

The generated types stay where componentize-py puts them: records and enums of an
interface in ``wit_world.exports.<interface>`` (``contacts.Contact``), the shared ones
(``Money``, ``CallContext``) re-exported here.
"""

from wit_world.imports.voxgate_plugin_types import CallContext, Money

__all__ = ["CallContext", "Money"]
