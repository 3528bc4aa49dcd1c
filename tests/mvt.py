"""A small Mapbox Vector Tile (protobuf) decoder for tests, so no MVT library is needed.

Decodes exactly what the tests check: layer names, extent, features with their
geometry type and properties.  Raises ValueError on bytes that are not protobuf.
"""

from __future__ import annotations

import struct
from typing import Any

GEOM_TYPES = {0: "unknown", 1: "point", 2: "line", 3: "polygon"}


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) for every field of one message."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise ValueError("field number 0")
        if wt == 0:
            val, i = _varint(buf, i)
        elif wt == 1:
            val, i = buf[i:i + 8], i + 8
        elif wt == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ValueError("truncated length-delimited field")
            val, i = buf[i:i + n], i + n
        elif wt == 5:
            val, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        out.append((num, wt, val))
    return out


def _packed(buf: bytes) -> list[int]:
    vals, i = [], 0
    while i < len(buf):
        v, i = _varint(buf, i)
        vals.append(v)
    return vals


def _value(buf: bytes) -> Any:
    for num, _wt, v in fields(buf):
        if num == 1:
            return v.decode()
        if num == 2:
            return struct.unpack("<f", v)[0]
        if num == 3:
            return struct.unpack("<d", v)[0]
        if num in (4, 5):
            return v if num == 5 or v < 2**63 else v - 2**64
        if num == 6:
            return (v >> 1) ^ -(v & 1)
        if num == 7:
            return bool(v)
    return None


def decode(data: bytes) -> dict[str, dict[str, Any]]:
    """{layer name: {"extent", "features": [{"type", "properties", "geometry_len"}]}}."""
    layers: dict[str, dict[str, Any]] = {}
    for num, wt, raw in fields(data):
        if num != 3 or wt != 2:
            raise ValueError(f"unexpected tile field {num}")
        name, extent, keys, values, feats = None, 4096, [], [], []
        for lnum, _lwt, lv in fields(raw):
            if lnum == 1:
                name = lv.decode()
            elif lnum == 2:
                feats.append(lv)
            elif lnum == 3:
                keys.append(lv.decode())
            elif lnum == 4:
                values.append(_value(lv))
            elif lnum == 5:
                extent = lv
        features = []
        for fb in feats:
            f: dict[str, Any] = {"type": "unknown", "properties": {}, "geometry_len": 0}
            for fnum, _fwt, fv in fields(fb):
                if fnum == 2:
                    tags = _packed(fv)
                    f["properties"] = {keys[tags[k]]: values[tags[k + 1]] for k in range(0, len(tags), 2)}
                elif fnum == 3:
                    f["type"] = GEOM_TYPES.get(fv, "unknown")
                elif fnum == 4:
                    f["geometry_len"] = len(_packed(fv))
            features.append(f)
        if name is None:
            raise ValueError("layer without a name")
        layers[name] = {"extent": extent, "features": features}
    return layers
