# -*- test-case-name: tests.e2e.test_fetch_transports -*-
"""Fetch data over every listener: sendfile on plaintext TCP, the ordinary path on TLS and unix.

A partition of 4 MB (400 records of 10 KB, batches up to 1 MB: every Fetch
read is a range of a segment file) is read back by confluent-kafka over TCP
and over TLS, and as raw Fetch responses over TCP and over the unix socket,
byte for byte the same; pipelined Fetches and a request behind them are
answered in order on TCP.
"""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e import clients
from tests.e2e.clients import (
    API_VERSIONS, FETCH, RawClient, Stored, assert_same_records, fetch_request, make_records,
    read_log_bytes, read_partition)
from tests.e2e.harness import BrokerProcess
from tests.e2e.shared import shared_broker

TOPIC = "big-fetch"
#: Records of 10 KB, about 4 MB in all.
COUNT = 400

_produced: dict[str, list[Stored]] = {}


class FetchTransportTests(SynchronousTestCase):
    """The same bytes reach a consumer over TCP (sendfile), TLS and unix."""

    broker: BrokerProcess

    def setUp(self) -> None:
        """Use a shared broker with all three listeners; fill the topic once."""
        self.broker = shared_broker("fetch-transports", tls=True, unix=True)
        if TOPIC not in _produced:
            records = [r._replace(value=bytes([i % 251]) * 10_000)
                       for i, r in enumerate(make_records(COUNT, "big"))]
            _produced[TOPIC] = clients.produce_confluent(
                self.broker.bootstrap, TOPIC, records, config={"linger.ms": 20})
        self.expected = _produced[TOPIC]

    def tls_config(self) -> dict[str, Any]:
        """confluent-kafka settings for the TLS listener."""
        assert self.broker.tls_files is not None
        return {"security.protocol": "SSL", "ssl.ca.location": self.broker.tls_files.ca_cert}

    def test_confluent_tcp(self) -> None:
        """confluent-kafka reads every record over plaintext TCP."""
        assert_same_records(self, self.expected,
                            read_partition("confluent", self.broker.bootstrap, TOPIC))

    def test_confluent_tls(self) -> None:
        """confluent-kafka reads every record over TLS."""
        assert_same_records(self, self.expected,
                            read_partition("confluent", self.broker.tls_bootstrap, TOPIC,
                                           config=self.tls_config()))

    def test_raw_tcp_and_unix(self) -> None:
        """Raw Fetch responses over TCP and over the unix socket carry the same log bytes."""
        with RawClient(self.broker.bootstrap) as tcp:
            tcp_end, tcp_log = read_log_bytes(tcp, TOPIC, 0)
        with RawClient("", unix_path=self.broker.unix_path) as unix:
            unix_end, unix_log = read_log_bytes(unix, TOPIC, 0)
        self.assertEqual(tcp_end, COUNT)
        self.assertEqual((unix_end, unix_log), (tcp_end, tcp_log))
        self.assertGreater(len(tcp_log), COUNT * 10_000)

    def test_pipelined_in_order(self) -> None:
        """Fetches sent back to back, and a request behind them, are answered in order."""
        with RawClient(self.broker.bootstrap) as client:
            _, log = read_log_bytes(client, TOPIC, 0)
            sent = [client.send(FETCH, 11, fetch_request(TOPIC, 0, 0, max_bytes=1 << 20))
                    for _ in range(3)]
            sent.append(client.send(API_VERSIONS, 3, {"client_software_name": "e2e",
                                                      "client_software_version": "1"}))
            got = [client.receive() for _ in sent]
        self.assertEqual([c for c, _ in got], sent)
        for _, response in got[:3]:
            records = response["responses"][0]["partitions"][0]["records"]
            self.assertGreater(len(records), 64 * 1024)
            self.assertEqual(records, log[:len(records)])
        self.assertEqual(got[3][1]["error_code"], 0)
