# -*- test-case-name: tests.fuzz.test_broker -*-
"""Fuzz a real broker with mutated requests of every advertised API and version.

For a bounded time (C{TWISTED_KAFKA_FUZZ_SECONDS}, default 20) cases from
L{tests.fuzz.requests.make_case} are sent, one at a time, each followed on
the same connection by an ApiVersions request (a sentinel: an answer to it
shows the broker finished with the case, also for requests that get no
answer, like acks=0 Produce).  Each case must be answered or its connection
closed within L{DEADLINE}; only APIs that may legitimately wait (long-poll
Fetch, JoinGroup and SyncGroup during a rebalance) may still be pending then.
Meanwhile a canary on another connection produces with acks=all and reads
its records back: it must never wait more than L{STALL} seconds, and after
the run, and after a C{kill -9} and restart, every record it had
acknowledged must be there unchanged.  The broker's log must hold no
traceback.  Every case is reproducible from its seed
(C{TWISTED_KAFKA_FUZZ_SEED} sets the first, default 1900).
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e.clients import (
    API_VERSIONS, RawClient, fetch_partition, list_offset, produce_request, produce_results,
    read_log_bytes)
from tests.e2e.harness import BrokerTestMixin
from tests.fuzz.requests import Case, Names, make_case
from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol import headers as wire_headers
from twisted_kafka.protocol import messages
from twisted_kafka.protocol.primitives import read_tagged_fields
from twisted_kafka.records.batch import parse_header
from twisted_kafka.records.record import build_batch, iter_records

SECONDS = float(os.environ.get("TWISTED_KAFKA_FUZZ_SECONDS", "20"))
FIRST_SEED = int(os.environ.get("TWISTED_KAFKA_FUZZ_SEED", "1900"))
#: How long one case may take to be answered or closed.
DEADLINE = 10.0
#: The longest a canary request may wait while the fuzzer runs.
STALL = 3.0
#: APIs whose requests may wait for others (Fetch, JoinGroup, SyncGroup).
MAY_WAIT = frozenset({1, 11, 14})
CREATE_TOPICS = 19
#: The partitions fuzzed requests write to, checked for soundness afterwards.
FUZZED_PARTITIONS = (("fz-a", 0), ("fz-a", 1), ("fz-a", 2), ("fz-b", 0))
_SIZE = struct.Struct(">i")
_HEADER = struct.Struct(">hhi")


def frame(case: Case, correlation: int) -> bytes:
    """Return the request frame of C{case} with C{correlation} in its header."""
    flexible = wire_headers.request_header_version(case.api_key, case.version) == 2
    head = _HEADER.pack(case.api_key, case.version, correlation) + b"\x00\x04fuzz"
    payload = head + (b"\x00" if flexible else b"") + case.body
    return _SIZE.pack(len(payload)) + payload


def sentinel(correlation: int) -> bytes:
    """Return an ApiVersions v0 request frame (it has no body)."""
    payload = _HEADER.pack(API_VERSIONS, 0, correlation) + b"\x00\x04fuzz"
    return _SIZE.pack(len(payload)) + payload


class Connection:
    """A raw connection reading whole response frames with a deadline."""

    def __init__(self, bootstrap: str) -> None:
        """Connect to C{host:port}."""
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=DEADLINE)
        self.buffer = b""
        self.closed = False

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()

    def responses(self, until: float) -> list[tuple[int, bytes]]:
        """Read what arrives until C{until}; return (correlation id, frame) of whole frames.

        Sets L{closed} when the broker closes (or resets) the connection.
        """
        while not self.closed:
            remaining = until - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select([self.sock], [], [], remaining)
            if not ready:
                break
            try:
                chunk = self.sock.recv(1 << 20)
            except (ConnectionResetError, socket.timeout):
                chunk = b""
            if not chunk:
                self.closed = True
            self.buffer += chunk
            if self._whole_frames():
                break
        return self._take()

    def _whole_frames(self) -> int:
        """Return how many whole frames the buffer holds."""
        count, pos = 0, 0
        while len(self.buffer) - pos >= 4:
            size = _SIZE.unpack_from(self.buffer, pos)[0]
            if len(self.buffer) - pos - 4 < size:
                break
            pos += 4 + size
            count += 1
        return count

    def _take(self) -> list[tuple[int, bytes]]:
        """Remove the whole frames from the buffer; return (correlation id, frame)."""
        frames = []
        while len(self.buffer) >= 8:
            size = _SIZE.unpack_from(self.buffer, 0)[0]
            if len(self.buffer) - 4 < size:
                break
            frames.append((_SIZE.unpack_from(self.buffer, 4)[0], self.buffer[4:4 + size]))
            self.buffer = self.buffer[4 + size:]
        return frames


@dataclass
class Canary:
    """Produces with acks=all and reads back on its own connection, in a thread.

    @ivar acked: value -> offset of every record the broker acknowledged.
    @ivar slowest: the longest a request waited, in seconds.
    @ivar problems: anything that went wrong, as text.
    """

    bootstrap: str
    topic: str
    acked: dict[bytes, int] = field(default_factory=dict)
    slowest: float = 0.0
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Prepare the thread (not started)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="canary", daemon=True)

    def start(self) -> None:
        """Start producing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the thread."""
        self._stop.set()
        self._thread.join(30)

    def _timed(self, call: object, *args: object) -> object:
        """Call C{call}, recording how long it took."""
        started = time.monotonic()
        result = call(*args)  # type: ignore[operator]
        self.slowest = max(self.slowest, time.monotonic() - started)
        return result

    def _run(self) -> None:
        """Produce one record at a time and read it back, until stopped."""
        try:
            with RawClient(self.bootstrap, timeout=STALL * 10) as client:
                number = 0
                while not self._stop.wait(0.02):
                    value = f"canary-{number}".encode()
                    number += 1
                    batch = build_batch([(b"k", value, [], int(time.time() * 1000))])
                    response = self._timed(client.request, 0, 9,
                                           produce_request({(self.topic, 0): batch}))
                    entry = produce_results(response)[(self.topic, 0)]  # type: ignore[arg-type]
                    if entry["error_code"]:
                        self.problems.append(f"produce of {value!r}: error {entry['error_code']}")
                        continue
                    self.acked[value] = entry["base_offset"]
                    read = self._timed(fetch_partition, client, self.topic, 0,
                                       entry["base_offset"])
                    if value_at(read["records"], entry["base_offset"]) != value:  # type: ignore[index]
                        self.problems.append(f"{value!r} not read back at {entry['base_offset']}")
        except Exception as e:  # reported by the test, not lost in a thread
            self.problems.append(f"canary stopped: {e!r}")


def value_at(data: bytes | None, offset: int) -> bytes | None:
    """Return the value of the record at C{offset} in fetched C{data}, or C{None}."""
    view = memoryview(data or b"")
    pos = 0
    while len(view) - pos >= 61:
        header = parse_header(view, pos)
        end = pos + 12 + header.batch_length
        if end > len(view):
            break  # a partial batch at the end of a fetch
        for record in iter_records(view[pos:end], header, 1 << 20):
            if record.offset == offset:
                return record.value
        pos = end
    return None


def advertised(bootstrap: str) -> list[tuple[int, int, int]]:
    """Return (api key, lowest, highest version) the broker advertises and the codec knows."""
    with RawClient(bootstrap) as client:
        response = client.request(API_VERSIONS, 3, {
            "client_software_name": "fuzz", "client_software_version": "1"})
    apis = []
    for entry in response["api_keys"]:
        schema = messages.SCHEMAS.get(entry["api_key"])
        if schema is None:
            continue
        low = max(entry["min_version"], schema.versions.low)
        high = min(entry["max_version"], schema.versions.high)
        if low <= high:
            apis.append((entry["api_key"], low, high))
    return apis


def create_topics(bootstrap: str, topics: dict[str, int]) -> None:
    """Create C{topics} (name -> partitions) with CreateTopics v5."""
    with RawClient(bootstrap) as client:
        response = client.request(CREATE_TOPICS, 5, {
            "topics": [{"name": name, "num_partitions": count, "replication_factor": -1,
                        "assignments": [], "configs": []} for name, count in topics.items()],
            "timeout_ms": 10_000, "validate_only": False})
    for topic in response["topics"]:
        if topic["error_code"] not in (ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS):
            raise AssertionError(f"creating {topic['name']}: error {topic['error_code']}")


@dataclass
class Outcomes:
    """What the cases came to.

    @ivar counts: outcome name -> number of cases.
    @ivar failures: one line per case that broke a rule.
    """

    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, outcome: str) -> None:
        """Count one case."""
        self.counts[outcome] = self.counts.get(outcome, 0) + 1


def undecodable(case: Case, response: bytes) -> str | None:
    """Return why C{response} (a whole frame) is not a valid answer to C{case}, or C{None}."""
    pos = 4
    try:
        if wire_headers.response_header_version(case.api_key, case.version) == 1:
            _, pos = read_tagged_fields(response, pos)
        messages.response_decoder(case.api_key, case.version)(response, pos)
    except Exception as e:
        return repr(e)
    return None


def first_traceback(log: str) -> str:
    """Return the first traceback in C{log} with the line before it, or C{""}."""
    lines = log.splitlines()
    for number, line in enumerate(lines):
        if "Traceback" in line or "Unhandled Error" in line:
            return "\n".join(lines[max(0, number - 1):number + 30])
    return ""


def raw_control_characters(log: str) -> list[str]:
    """Return the log lines holding control characters (a client string not escaped)."""
    allowed = {"\t"}
    return [line for line in log.splitlines()
            if any(ord(c) < 32 and c not in allowed or c == "\x7f" for c in line)][:5]


def log_problems(data: bytes) -> list[str]:
    """Return what is wrong with a partition's stored batches (C{data}, in order)."""
    problems: list[str] = []
    view = memoryview(data)
    pos, next_offset = 0, -1
    while pos < len(view) and len(problems) < 5:
        header = parse_header(view, pos)
        end = pos + 12 + header.batch_length
        where = f"batch at offset {header.base_offset}"
        if header.base_offset < next_offset:
            problems.append(f"{where} overlaps the one before (ends before {next_offset})")
        try:
            offsets = [r.offset for r in iter_records(view[pos:end], header, 64 << 20)]
        except Exception as e:
            problems.append(f"{where}: records do not parse: {e!r}")
        else:
            expected = list(range(header.base_offset,
                                  header.base_offset + header.record_count))
            if offsets != expected or header.last_offset_delta != header.record_count - 1:
                problems.append(f"{where}: header says {header.record_count} records "
                                f"(last delta {header.last_offset_delta}), holds {len(offsets)}")
        next_offset = header.base_offset + header.last_offset_delta + 1
        pos = end
    return problems


def run_case(conn: Connection, case: Case, correlation: int, outcomes: Outcomes) -> bool:
    """Send C{case} and its sentinel on C{conn}; return whether C{conn} is still usable."""
    try:
        conn.sock.sendall(frame(case, correlation) + sentinel(correlation + 1))
    except (BrokenPipeError, ConnectionResetError):
        outcomes.add("closed")
        return False
    until = time.monotonic() + DEADLINE
    answers: dict[int, bytes] = {}
    seen: list[int] = []
    while correlation + 1 not in seen and not conn.closed and time.monotonic() < until:
        for got, response in conn.responses(until):
            seen.append(got)
            answers[got] = response
    described = f"seed {case.seed}: api {case.api_key} v{case.version} ({case.how})"
    if any(c not in (correlation, correlation + 1) for c in seen) or seen != sorted(seen):
        outcomes.failures.append(f"{described}: answers out of order {seen}")
        return False
    if correlation in answers and "version" not in case.how:
        problem = undecodable(case, answers[correlation])
        if problem:
            outcomes.failures.append(f"{described}: answer does not decode: {problem}")
            return False
    if correlation + 1 in seen:
        outcomes.add("answered" if correlation in seen else "no answer, connection kept")
        return True
    if conn.closed:
        outcomes.add("closed")
        return False
    if case.api_key in MAY_WAIT:
        outcomes.add("still waiting (may wait)")
        return False
    outcomes.failures.append(f"{described}: neither answered nor closed in {DEADLINE} s")
    return False


class FuzzTests(BrokerTestMixin, SynchronousTestCase):
    """Mutated requests never crash, stall or corrupt the broker."""

    broker_options = {"kafka": {"num_partitions": 3}}

    def test_mutated_requests(self) -> None:
        """Every case is answered or closed; the canary never stalls and loses nothing."""
        bootstrap = self.broker.bootstrap
        apis = advertised(bootstrap)
        self.assertGreater(len(apis), 20)
        names = Names(topics=("fz-a", "fz-b", "fz-new"), groups=("fz-group", ""),
                      doomed=("fz-c", "fz-new"))
        create_topics(bootstrap, {"fz-a": 3, "fz-b": 1, "fz-c": 1, "canary": 1})
        canary = Canary(bootstrap, "canary")
        canary.start()
        outcomes = Outcomes()
        conn: Connection | None = None
        seed, correlation = FIRST_SEED, 1
        stop_at = time.monotonic() + SECONDS
        try:
            while time.monotonic() < stop_at and len(outcomes.failures) < 5:
                if conn is None:
                    conn = Connection(bootstrap)
                case = make_case(seed, apis, names)
                if not run_case(conn, case, correlation, outcomes):
                    conn.close()
                    conn = None
                seed += 1
                correlation += 2
        finally:
            if conn is not None:
                conn.close()
            canary.stop()
        cases = seed - FIRST_SEED
        summary = f"{cases} cases from seed {FIRST_SEED}: {outcomes.counts}"
        self.assertGreater(cases, 100, summary)
        self.assertGreater(len(canary.acked), 10, summary)
        log = self.broker.log_text()
        findings = {
            "cases": outcomes.failures,
            "canary": canary.problems + (
                [f"waited {canary.slowest:.1f} s"] if canary.slowest >= STALL else []),
            "traceback in the log": [first_traceback(log)] if first_traceback(log) else [],
            "raw control characters in the log": raw_control_characters(log),
            "canary records": self.canary_losses(canary),
            "stored batches": self.unsound_batches(),
        }
        self.broker.kill()
        self.broker.start()
        findings["canary records after kill -9"] = self.canary_losses(canary)
        findings["stored batches after kill -9"] = self.unsound_batches()
        found = {k: v for k, v in findings.items() if v}
        self.assertFalse(found, "\n".join([summary] + [f"{k}: {v}" for k, v in found.items()]))

    def unsound_batches(self) -> list[str]:
        """Return what is wrong with the batches stored in L{FUZZED_PARTITIONS}."""
        problems = []
        with RawClient(self.broker.bootstrap) as client:
            for topic, partition in FUZZED_PARTITIONS:
                start = list_offset(client, topic, partition, -2)
                if start["error_code"] == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
                    continue  # deleted by a fuzzed DeleteTopics
                if start["error_code"]:
                    problems.append(f"{topic}-{partition}: ListOffsets error "
                                    f"{start['error_code']}")
                    continue
                _, data = read_log_bytes(client, topic, partition)
                problems += [f"{topic}-{partition}: {p}" for p in log_problems(data)]
        return problems

    def canary_losses(self, canary: Canary) -> list[str]:
        """Return the canary's acknowledged records that are missing or changed."""
        losses = []
        with RawClient(self.broker.bootstrap) as client:
            for value, offset in canary.acked.items():
                read = fetch_partition(client, canary.topic, 0, offset, max_bytes=200)
                if read["error_code"] or value_at(read["records"], offset) != value:
                    losses.append(f"{value!r} at {offset}: error {read['error_code']}")
        return losses[:5]
