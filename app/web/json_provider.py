"""JSON answers encoded by orjson: the incident list, GeoJSON layers and analytics are large.

Flask's encoder (the standard library's) spent more time on a big answer than the query
that made it.  This provider gives the same JSON: datetimes, dates, Decimals and anything
else orjson does not take natively go through Flask's own ``default`` (so a ``datetime``
still becomes an HTTP date, as before), keys stay in the order the services build them,
and anything orjson refuses (an integer beyond 64 bits, options such as ``indent``) falls
back to Flask's encoder.  Parsing requests stays the standard library's: the hostile-input
checks (app/web/hygiene.py) are written against it.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class OrjsonProvider(DefaultJSONProvider):
    sort_keys = False  # keep fields in the order services build them

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if not kwargs:
            try:
                return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()
            except (orjson.JSONEncodeError, TypeError):
                pass  # Flask's encoder decides (and names the error)
        return super().dumps(obj, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Any:
        obj = self._prepare_response_obj(args, kwargs)
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)
        try:
            data = orjson.dumps(obj, default=self.default, option=_OPTIONS | orjson.OPT_APPEND_NEWLINE)
        except (orjson.JSONEncodeError, TypeError):
            return super().response(*args, **kwargs)
        return self._app.response_class(data, mimetype=self.mimetype)
