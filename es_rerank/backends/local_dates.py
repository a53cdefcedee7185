"""Elasticsearch's ``date`` values: its formats, date math and range rounding, in epoch millis.

A ``date`` field's default format is ``strict_date_optional_time||epoch_millis``: each
format is tried in turn, so ``"2020"`` is the year 2020 (not 2020 ms) and ``"1577836800000"``
is epoch millis. ISO dates follow ES's own ``Iso8601Parser`` (elastic/elasticsearch
``server/src/main/java/org/elasticsearch/common/time/Iso8601Parser.java`` at
1079ff6932d617db35929a07c8b56b7454c770f2): a 4-digit year, then optional ``-MM``, ``-dd``,
``T``, ``HH``, ``:mm``, ``:ss``, a ``.``/``,`` fraction of up to 9 digits and a zone (``Z``,
``+01``, ``+01:00``, ``+0100`` or a region such as ``Europe/Paris``). Values are stored as
epoch millis (``Instant.toEpochMilli``: floored), and that is what a sort returns.

>>> parse_date("2020-01-02T03:04:05.678Z")
1577934245678
>>> parse_date("1577934245678"), parse_date(1577934245678)
(1577934245678, 1577934245678)
>>> parse_date("2020")
1577836800000
>>> parse_date("2020-01-01", round_up=True)  # a range's lte/gt end: the day's last milli
1577923199999
>>> parse_date("yesterday")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: failed to parse date field [yesterday] with format [strict_date_optional_time||...]
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DEFAULT_DATE_FORMAT", "DateFormat", "parse_date", "parse_date_math"]

DEFAULT_DATE_FORMAT = "strict_date_optional_time||epoch_millis"
_ISO_FORMATS = {"strict_date_optional_time", "date_optional_time"}
_EPOCH_FORMATS = {"epoch_millis", "epoch_second"}
# built-in names that are plain patterns (ES's DateFormatters)
_NAMED_PATTERNS = {
    "strict_date": "yyyy-MM-dd",
    "date": "yyyy-MM-dd",
    "basic_date": "yyyyMMdd",
    "strict_date_hour_minute_second": "yyyy-MM-dd'T'HH:mm:ss",
    "date_hour_minute_second": "yyyy-MM-dd'T'HH:mm:ss",
    "strict_date_time": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
    "date_time": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
    "strict_year_month": "yyyy-MM",
    "strict_year": "yyyy",
}
SUPPORTED_FORMATS = _ISO_FORMATS | _EPOCH_FORMATS | set(_NAMED_PATTERNS)
# java.time pattern letters this index reads: field name, regex of one run of the letter
_LETTERS = {
    "y": ("year", r"\d{4}"),
    "u": ("year", r"\d{4}"),
    "M": ("month", r"\d{1,2}"),
    "d": ("day", r"\d{1,2}"),
    "H": ("hour", r"\d{1,2}"),
    "m": ("minute", r"\d{1,2}"),
    "s": ("second", r"\d{1,2}"),
    "S": ("fraction", r"\d{1,9}"),
    "X": ("zone", r"Z|[+-]\d\d(?::?\d\d)?"),
    "Z": ("zone", r"Z|[+-]\d\d(?::?\d\d)?"),
}

# EpochTime: a signed long, then up to 6 (millis) or 9 (seconds) fraction digits.
_EPOCH = {
    "epoch_millis": (re.compile(r"-?\d{1,19}(?:\.\d{1,6})?"), 1),
    "epoch_second": (re.compile(r"-?\d{1,19}(?:\.\d{1,9})?"), 1000),
}
_MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class DateFormat:
    """A mapping's (or a query's) ``format``: ``||``-separated names, tried in order."""

    text: str = DEFAULT_DATE_FORMAT

    def __post_init__(self) -> None:
        names = self.text.split("||")
        unknown = [n for n in names if n not in SUPPORTED_FORMATS and _pattern(n) is None]
        if unknown or not self.text:
            raise ValueError(
                f"date format [{self.text}] is not supported by the local index "
                f"(supported: {'||'.join(sorted(SUPPORTED_FORMATS))}, or a pattern of "
                f"{''.join(_LETTERS)} and literals, combined with ||)"
            )

    @property
    def names(self) -> list[str]:
        return self.text.split("||")


@functools.lru_cache(maxsize=64)
def _pattern(name: str) -> re.Pattern[str] | None:
    """A java.time pattern (``yyyy-MM-dd HH:mm:ss``) as a regex with named groups; None
    when it uses a letter this index does not read (or is not a pattern at all)."""
    pattern = _NAMED_PATTERNS.get(name, name)
    out, i, seen = [], 0, set()
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                return None
            out.append(re.escape(pattern[i + 1 : end] or "'"))
            i = end + 1
            continue
        run = len(pattern) - i - len(pattern[i:].lstrip(c))
        if c.isalpha():
            if c not in _LETTERS:
                return None
            group, regex = _LETTERS[c]
            if group in seen or (c in "yu" and run != 4) or (c in "MdHms" and run > 2):
                return None  # MMM is a month's name, yy a two-digit year: not read here
            seen.add(group)
            if c in "MdHms" and run == 2:
                regex = r"\d{2}"
            elif c == "S":
                regex = rf"\d{{{run}}}"
            out.append(f"(?P<{group}>{regex})")
        else:
            out.append(re.escape(c * run))
        i += run
    return re.compile("".join(out)) if "year" in seen else None


def _parse_pattern(text: str, name: str, round_up: bool, zone: tzinfo) -> int | None:
    pattern = _pattern(name)
    m = pattern.fullmatch(text) if pattern else None
    if m is None:
        return None
    g = m.groupdict()
    fields = [int(g["year"])]
    for key in ("month", "day", "hour", "minute", "second"):
        if g.get(key) is None:
            break
        fields.append(int(g[key]))
    if g.get("fraction") is not None and len(fields) == 6:
        fields.append(int(g["fraction"].ljust(9, "0")))
    if g.get("zone") is not None:
        zone = _zone(g["zone"]) or zone
    return _to_millis(fields, round_up, zone)


def _to_millis(fields: Sequence[int], round_up: bool, zone: tzinfo) -> int | None:
    """Epoch millis of (year, month, day, hour, minute, second, nanos) given in order so
    far; the rest take ES's defaults: month/day 1 and midnight, or with ``round_up`` (a
    range's ``gt``/``lte``) month/day 1 and 23:59:59.999999999."""
    dflt = [1, 1, 23, 59, 59, 999_999_999] if round_up else [1, 1, 0, 0, 0, 0]
    vals = list(fields) + dflt[len(fields) - 1 :]
    year, mo, d, h, mi, sec, nanos = vals[:7]
    if not 1 <= mo <= 12 or not 1 <= d <= _month_days(year, mo) or h > 23 or mi > 59 or sec > 59:
        return None
    local = _days_from_civil(year, mo, d) * _MS_PER_DAY + ((h * 60 + mi) * 60 + sec) * 1000
    try:
        return local + nanos // 1_000_000 - _offset_ms(zone, year, mo, d, h, mi, sec)
    except ValueError:
        return None


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (any year, as java.time)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _month_days(y: int, m: int) -> int:
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def _zone(text: str) -> tzinfo | None:
    """A zone as ``ZoneId.of`` reads it (offsets fast, regions by name); None if invalid."""
    if text == "Z":
        return UTC
    m = re.fullmatch(r"([+-])(\d\d)(?:(:?)(\d\d)(?:\3(\d\d))?)?", text)
    if m:
        h, mi, s = int(m[2]), int(m[4] or 0), int(m[5] or 0)
        total = h * 3600 + mi * 60 + s
        if total > 18 * 3600:
            return None
        return timezone((-1 if m[1] == "-" else 1) * timedelta(seconds=total))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _offset_ms(zone: tzinfo, y: int, mo: int, d: int, h: int, mi: int, s: int) -> int:
    """The zone's UTC offset at that local time, in millis."""
    off: timedelta | None
    if isinstance(zone, timezone):
        off = zone.utcoffset(None)
    else:
        if not 1 <= y <= 9999:
            raise ValueError("year out of range for a region time zone")
        off = datetime(y, mo, d, h, mi, s, tzinfo=zone).utcoffset()
    return int(off.total_seconds() * 1000) if off is not None else 0


def _parse_iso(text: str, round_up: bool, default_zone: tzinfo) -> int | None:
    """Epoch millis of an ISO date, field by field as ES's Iso8601Parser reads it (only the
    year mandatory); absent fields take ES's defaults: month/day 1 and midnight, or with
    ``round_up`` (a range's ``gt``/``lte``) month/day 1 and 23:59:59.999999999."""
    negative = text.startswith("-")
    s = text[1:] if negative else text
    n = len(s)

    def num(a: int, b: int) -> int | None:
        part = s[a:b]
        return int(part) if len(part) == b - a and part.isascii() and part.isdigit() else None

    def build(*fields: int, zone: tzinfo = default_zone) -> int | None:
        year = -fields[0] if negative else fields[0]
        return _to_millis([year, *fields[1:]], round_up, zone)

    def zoned(pos: int, *fields: int) -> int | None:
        zone = _zone(s[pos:])
        return None if zone is None else build(*fields, zone=zone)

    def is_zone(pos: int) -> bool:
        return s[pos] in "+-" or (s[pos].isascii() and s[pos].isalpha())

    year = num(0, 4)
    if year is None:
        return None
    if n == 4:
        return build(year)
    month = num(5, 7) if s[4] == "-" else None
    if month is None or month > 12:
        return None
    if n == 7:
        return build(year, month)
    day = num(8, 10) if s[7] == "-" else None
    if day is None or day > 31:
        return None
    if n == 10 or (n == 11 and s[10] == "T"):
        return build(year, month, day)
    hour = num(11, 13) if s[10] == "T" else None
    if hour is None or hour > 23:
        return None
    if n == 13:
        return build(year, month, day, hour)
    if is_zone(13):
        return zoned(13, year, month, day, hour)
    minute = num(14, 16) if s[13] == ":" else None
    if minute is None or minute > 59:
        return None
    if n == 16:
        return build(year, month, day, hour, minute)
    if is_zone(16):
        return zoned(16, year, month, day, hour, minute)
    second = num(17, 19) if s[16] == ":" else None
    if second is None or second > 59:
        return None
    if n == 19:
        return build(year, month, day, hour, minute, second)
    if is_zone(19):
        return zoned(19, year, month, day, hour, minute, second)
    fraction = re.match(r"[0-9]{1,9}", s[20:]) if s[19] in ".," else None
    if fraction is None:
        return None
    nanos = int(fraction[0].ljust(9, "0"))
    pos = 20 + len(fraction[0])
    if pos == n:
        return build(year, month, day, hour, minute, second, nanos)
    if is_zone(pos):
        return zoned(pos, year, month, day, hour, minute, second, nanos)
    return None


def _parse_epoch(text: str, name: str) -> int | None:
    pattern, scale = _EPOCH[name]
    if not pattern.fullmatch(text):
        return None
    return math.floor(Decimal(text) * scale)


def parse_date(
    value: Any,
    date_format: DateFormat | str = DEFAULT_DATE_FORMAT,
    *,
    round_up: bool = False,
    zone: tzinfo = UTC,
) -> int:
    """``value`` (a JSON scalar, read as its text as ES reads it) in epoch millis under
    ``date_format``; ValueError with ES's message when no format accepts it."""
    fmt = date_format if isinstance(date_format, DateFormat) else DateFormat(date_format)
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float, str)):
        text = str(value)
    else:
        raise ValueError(f"failed to parse date field [{value}] with format [{fmt.text}]")
    for name in fmt.names:
        if name in _EPOCH_FORMATS:
            ms = _parse_epoch(text, name)
        elif name in _ISO_FORMATS:
            ms = _parse_iso(text, round_up, zone) if text else None
        else:
            ms = _parse_pattern(text, name, round_up, zone)
        if ms is not None:
            if not -(2**63) <= ms < 2**63:
                break
            return ms
    raise ValueError(f"failed to parse date field [{text}] with format [{fmt.text}]")


_UNITS = {"y", "M", "w", "d", "h", "H", "m", "s"}


def _add(dt: datetime, n: int, unit: str) -> datetime:
    if unit in ("y", "M"):
        months = dt.month - 1 + n * (12 if unit == "y" else 1)
        year, month = dt.year + months // 12, months % 12 + 1
        return dt.replace(year=year, month=month, day=min(dt.day, _month_days(year, month)))
    step = {"w": "weeks", "d": "days", "h": "hours", "H": "hours", "m": "minutes", "s": "seconds"}
    return dt + timedelta(**{step[unit]: n})


def _round_down(dt: datetime, unit: str) -> datetime:
    if unit == "y":
        return dt.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "M":
        return dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "w":
        start = dt - timedelta(days=dt.weekday())
        return start.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "d":
        return dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit in ("h", "H"):
        return dt.replace(minute=0, second=0, microsecond=0)
    if unit == "m":
        return dt.replace(second=0, microsecond=0)
    return dt.replace(microsecond=0)


def _apply_math(ms: int, math_text: str, round_up: bool, zone: tzinfo, whole: str) -> int:
    """ES's JavaDateMathParser.parseMath: ``+1d``, ``-2M``, ``/d`` (rounding down, or to the
    unit's last milli for a range's ``gt``/``lte``), evaluated in ``zone``."""
    if not math_text:
        return ms
    dt = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    dt = dt.astimezone(zone)
    extra_ms = ms % 1000  # datetime keeps microseconds; keep whole millis exact
    dt = dt.replace(microsecond=extra_ms * 1000)
    i = 0
    while i < len(math_text):
        op = math_text[i]
        i += 1
        if op not in "+-/":
            raise ValueError(f"operator not supported for date math [{whole}]")
        j = i
        while j < len(math_text) and math_text[j].isdigit():
            j += 1
        n = int(math_text[i:j]) if j > i else 1
        if op == "/" and j > i:
            raise ValueError(f"rounding `/` can only be used on single unit types [{whole}]")
        if j >= len(math_text) or math_text[j] not in _UNITS:
            raise ValueError(f"unit [{math_text[j : j + 1]}] not supported for date math [{whole}]")
        unit = math_text[j]
        i = j + 1
        if op == "/":
            dt = _round_down(dt, unit)
            if round_up:
                dt = _add(dt, 1, unit) - timedelta(milliseconds=1)
        else:
            dt = _add(dt, n if op == "+" else -n, unit)
    # exact integer millis (a float timestamp can land a hair under a whole milli)
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def parse_date_math(
    value: Any,
    date_format: DateFormat | str = DEFAULT_DATE_FORMAT,
    *,
    round_up: bool,
    zone: tzinfo = UTC,
    now_ms: int | None = None,
) -> int:
    """A range bound as ES's ``JavaDateMathParser`` reads it: ``now``, ``now-1d/d``,
    ``2020-01-01||+1M`` or a plain date (rounded up for ``gt``/``lte``, as ES does).

    >>> parse_date_math("2020-01-15||/M", round_up=False)
    1577836800000
    >>> parse_date_math("2020-01-15||/M", round_up=True)  # 2020-01-31T23:59:59.999Z
    1580515199999
    >>> parse_date_math("now+1d", round_up=False, now_ms=0)
    86400000
    """
    fmt = date_format if isinstance(date_format, DateFormat) else DateFormat(date_format)
    text = value if isinstance(value, str) else None
    try:
        if text is not None and text.startswith("now"):
            now = int(time.time() * 1000) if now_ms is None else now_ms
            return _apply_math(now, text[3:], round_up, zone, text)
        if text is not None and "||" in text:
            anchor, _, math_text = text.partition("||")
            return _apply_math(parse_date(anchor, fmt, zone=zone), math_text, round_up, zone, text)
        return parse_date(value, fmt, round_up=round_up, zone=zone)
    except (ValueError, OverflowError) as exc:  # OverflowError: math past year 9999
        shown = value if text is None else text
        raise ValueError(
            f"failed to parse date field [{shown}] with format [{fmt.text}]: [{exc}]"
        ) from None


def time_zone(text: Any) -> tzinfo:
    """A query's ``time_zone`` parameter; ValueError naming it when unknown."""
    zone = _zone(str(text)) if isinstance(text, str) else None
    if zone is None:
        raise ValueError(f"time_zone: unknown time-zone ID [{text}]")
    return zone
