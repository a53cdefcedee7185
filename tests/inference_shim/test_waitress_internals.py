"""The waitress internals ``inference_shim.http_server`` builds on, pinned: waitress does not
document them as API, so an upgrade that renames or reshapes one fails here, by name,
instead of silently undoing the connection handling (slow clients at the cap, read
deadlines, framing, the drain). pyproject.toml caps waitress below 3.1 for the same reason;
raise the cap only with this file passing."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import pytest
from waitress.adjustments import Adjustments  # type: ignore[import-untyped]
from waitress.channel import HTTPChannel  # type: ignore[import-untyped]
from waitress.parser import HTTPRequestParser, ParsingError  # type: ignore[import-untyped]
from waitress.receiver import ChunkedReceiver  # type: ignore[import-untyped]
from waitress.server import BaseWSGIServer, TcpWSGIServer  # type: ignore[import-untyped]
from waitress.task import ErrorTask, WSGITask  # type: ignore[import-untyped]
from waitress.utilities import (  # type: ignore[import-untyped]
    BadRequest,
    Error,
    RequestEntityTooLarge,
)
from waitress.wasyncore import dispatcher  # type: ignore[import-untyped]


def test_waitress_is_the_pinned_series() -> None:
    assert version("waitress").startswith("3.0."), (
        f"waitress {version('waitress')}: check every test here, then move the pin in "
        "pyproject.toml"
    )


@pytest.mark.parametrize(
    ("cls", "attrs"),
    [
        # The class attributes the shim's channel overrides, and the state it reads.
        (HTTPChannel, ["parser_class", "task_class", "error_task_class", "received"]),
        (HTTPChannel, ["readable", "service", "handle_write", "total_outbufs_len"]),
        (HTTPChannel, ["will_close", "close_when_flushed", "request"]),
        # The parser state the stricter parser reads and sets.
        (HTTPRequestParser, ["received", "parse_header", "completed", "error"]),
        (HTTPRequestParser, ["header_plus", "body_rcv", "headers_finished", "chunked"]),
        (HTTPRequestParser, ["version", "content_length"]),
        (ChunkedReceiver, ["chunk_remainder", "__len__", "received"]),
        # The server hooks: accepting at the cap, maintenance, the drain.
        (TcpWSGIServer, ["readable", "maintenance", "channel_class", "accepting"]),
        (ErrorTask, ["execute", "set_close_on_finish", "write"]),
        (WSGITask, ["build_response_header", "set_close_on_finish"]),
    ],
)
def test_the_attributes_the_shim_uses_exist(cls: type, attrs: list[str]) -> None:
    missing = [a for a in attrs if not hasattr(cls, a)]
    assert not missing, f"waitress {cls.__name__} no longer has {missing}"


def test_the_signatures_the_shim_overrides() -> None:
    assert list(inspect.signature(HTTPRequestParser.received).parameters) == ["self", "data"]
    assert list(inspect.signature(HTTPRequestParser.parse_header).parameters) == [
        "self",
        "header_plus",
    ]
    assert list(inspect.signature(HTTPChannel.received).parameters) == ["self", "data"]
    assert list(inspect.signature(TcpWSGIServer.maintenance).parameters) == ["self", "now"]


def test_the_instance_state_the_shim_reads() -> None:
    # Set in __init__, so only an instance shows them.
    parser = HTTPRequestParser(Adjustments())
    assert parser.headers == {}
    for name in ("connection_limit", "max_request_body_size", "max_request_header_size"):
        assert hasattr(Adjustments, name), name
    source = inspect.getsource(HTTPChannel.__init__)
    for name in ("self.requests", "self.last_activity", "self.creation_time", "self.connected"):
        assert name in source, f"HTTPChannel.__init__ no longer sets {name}"
    source = inspect.getsource(BaseWSGIServer.__init__)
    for name in ("self.active_channels", "self.trigger", "self.task_dispatcher"):
        assert name in source, f"BaseWSGIServer.__init__ no longer sets {name}"
    assert "self._map" in inspect.getsource(dispatcher.__init__)


def test_parse_header_pops_transfer_encoding_and_keeps_content_length() -> None:
    """The CL+TE refusal reads CONTENT_LENGTH after waitress parsed the headers and relies
    on ``chunked`` being set for HTTP/1.1."""
    parser = HTTPRequestParser(Adjustments())
    parser.parse_header(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked"
    )
    assert parser.chunked and "CONTENT_LENGTH" in parser.headers
    assert "TRANSFER_ENCODING" not in parser.headers
    with pytest.raises(ParsingError):
        HTTPRequestParser(Adjustments()).parse_header(b"GET / HTTP/1.1")  # no CRLF at all


def test_the_error_classes() -> None:
    assert (BadRequest.code, RequestEntityTooLarge.code) == (400, 413)
    assert issubclass(BadRequest, Error) and Error("x").body == "x"


def test_error_task_close_drops_requests_read_after_it() -> None:
    """What keeps a smuggled request from being served: after an error task that closes,
    the channel drops every request it had read behind it."""
    source = inspect.getsource(HTTPChannel.service)
    assert "close_on_finish" in source and "self.requests = []" in source
