"""JSON parser that refuses bodies nested deeper than any request of ours can be.

Python's JSON decoder recurses once per level of nesting, so a 1 MiB body of
`[[[[…]]]]` would raise RecursionError (a 500) inside the parser. We check the
depth before decoding, in one pass over the raw bytes, and answer 400.
"""

import codecs
import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Strings are skipped whole (escaped quotes included), so brackets inside them do not count.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset(b"[{")


def json_nesting_depth(raw: bytes, *, limit: int) -> int:
    """Deepest nesting of arrays/objects in `raw`, stopping as soon as it passes `limit`."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        first = match.group()[0]
        if first == 0x22:  # a string
            continue
        if first in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


def json_too_deep_message(raw: bytes) -> str | None:
    """Why `raw` may not be decoded (MAX_JSON_NESTING_DEPTH), or None: for every JSON
    body we decode, the parser's and the Stripe webhook's (read raw for its signature)."""
    limit = settings.MAX_JSON_NESTING_DEPTH
    if json_nesting_depth(raw, limit=limit) > limit:
        return f"JSON is nested deeper than {limit} levels."
    return None


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        too_deep = json_too_deep_message(raw)
        if too_deep:
            raise ParseError(too_deep)
        try:
            text = codecs.decode(raw, encoding)
            return json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


def _reject_constant(name: str):
    # NaN and Infinity are not JSON (DRF's parser refuses them in strict mode too).
    raise ValueError(f"{name} is not valid JSON")
