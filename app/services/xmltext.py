"""Text that XML 1.0 can carry, whatever the database holds.

XML 1.0 has no escape for most control characters (U+0001..U+0008, U+000B, ...),
lone surrogates or U+FFFE/U+FFFF: one of them in a stored note or description
made the public CAP Atom feed fail and the Open311 XML list unparseable for
every client.  Input is checked at the door (app/web/hygiene.py), but rows
written before that check, by imports or by hand can still hold them, so every
XML serialiser passes its text through :func:`xml_text` as well.
"""

from __future__ import annotations

import re

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 forbids (tab, newline and CR stay)."""
    return _ILLEGAL.sub("", value)
