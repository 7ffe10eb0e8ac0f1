# -*- test-case-name: tests.server.test_request_stats -*-
"""What connections count about the requests they answer, for the metrics endpoint.

A L{RequestStats} is shared by every connection of a broker whose metrics
endpoint is on (C{Broker.request_stats}; C{None} otherwise, and then the
connection counts nothing).  Per request it adds to a few dictionaries of
integers: requests by (API, version), request and response bytes by API,
error codes by API (found by L{twisted_kafka.protocol.error_fields}), and
one observation of the time from the frame's arrival to the response's
hand-over to the transport.  L{twisted_kafka.observability} reads them when
scraped; nothing here knows Prometheus.
"""

from __future__ import annotations

from bisect import bisect_left
from time import perf_counter
from typing import TYPE_CHECKING, Any, Callable, cast

from twisted_kafka.protocol.error_fields import ErrorWalk, error_counter
from twisted_kafka.store.stats import BucketCounts

if TYPE_CHECKING:
    from twisted_kafka.protocol.compiler import Chunk
    from twisted_kafka.protocol.messages import Fields
    from twisted_kafka.server.codecs import ResponseFramer

#: Bucket bounds (seconds) of request latency, from 100 us to 10 s.
LATENCY_BOUNDS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                  0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

#: Added to an error code in a key of L{RequestStats.errors} so that negative codes fit.
_CODE_BIAS = 0x8000


class VersionCounts:
    """The counters of one (API, version).

    @ivar requests: requests dispatched.
    @ivar request_bytes: bytes of their frames.
    @ivar response_bytes: bytes of the response frames written for them.
    @ivar walk: finds the error codes of a response body (C{None}: it has none).
    @ivar found: counts one error code of this API.
    """

    __slots__ = ("requests", "request_bytes", "response_bytes", "walk", "found")

    def __init__(self, walk: ErrorWalk | None, found: Callable[[int], None]) -> None:
        self.requests = 0
        self.request_bytes = 0
        self.response_bytes = 0
        self.walk = walk
        self.found = found


class RequestStats:
    """Request counters shared by a broker's connections.

    @ivar versions: C{api_key << 16 | version} -> its L{VersionCounts}.
    @ivar errors: C{api_key << 16 | (code + 0x8000)} -> error codes answered.
    @ivar latency: api key -> L{BucketCounts} of seconds from frame to written.
    """

    def __init__(self, clock: Callable[[], float] = perf_counter) -> None:
        """
        @param clock: the monotonic clock latency is measured with.
        """
        self.clock = clock
        self.versions: dict[int, VersionCounts] = {}
        self.errors: dict[int, int] = {}
        self.latency: dict[int, BucketCounts] = {}

    def _counts(self, api_key: int, version: int) -> VersionCounts:
        """The counters of a version seen for the first time."""
        errors = self.errors
        base = (api_key << 16) + _CODE_BIAS

        def found(code: int) -> None:
            k = base + code
            errors[k] = errors.get(k, 0) + 1

        counts = self.versions[api_key << 16 | version] = VersionCounts(
            error_counter(api_key, version), found)
        return counts

    def request(self, api_key: int, version: int, size: int, frame_of: ResponseFramer,
                connection: Any) -> ResponseFramer:
        """Count one dispatched request of C{size} bytes; return the framer of its response.

        The returned framer counts the response's bytes (also on
        C{connection.bytes_out}) and its non-zero error codes.
        """
        counts = self.versions.get(api_key << 16 | version)
        if counts is None:
            counts = self._counts(api_key, version)
        counts.requests += 1
        counts.request_bytes += size

        def framed(body: Fields) -> list[Chunk]:
            chunks = frame_of(body)
            # The first chunk is the frame's size prefix (always bytes).
            n = 4 + int.from_bytes(cast(bytes, chunks[0]), "big")
            counts.response_bytes += n
            connection.bytes_out += n
            walk = counts.walk
            if walk is not None:
                walk(body, counts.found)
            return chunks

        return framed

    def responded(self, api_key: int, started: float) -> None:
        """A response to a request of C{api_key} received at C{started} was handed to the transport."""
        histogram = self.latency.get(api_key)
        if histogram is None:
            histogram = self.latency[api_key] = BucketCounts(LATENCY_BOUNDS)
        seconds = self.clock() - started
        # BucketCounts.observe, inlined: this runs once per response.
        histogram.counts[bisect_left(LATENCY_BOUNDS, seconds)] += 1
        histogram.total += seconds

    def error_counts(self) -> list[tuple[int, int, int]]:
        """C{(api key, error code, count)} of every error code answered."""
        return [(key >> 16, (key & 0xFFFF) - _CODE_BIAS, count) for key, count in self.errors.items()]

    def version_counts(self) -> list[tuple[int, int, VersionCounts]]:
        """C{(api key, version, counters)} of every version seen."""
        return [(key >> 16, key & 0xFFFF, counts) for key, counts in self.versions.items()]
