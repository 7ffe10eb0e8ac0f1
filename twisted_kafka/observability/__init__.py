# -*- test-case-name: tests.observability -*-
"""Seeing inside the broker: Prometheus metrics, health checks, a JSON API and a web UI.

Everything here is served by twisted.web on the broker's own HTTP listener
(C{[http] listen}, off by default): see docs/metrics.md and
docs/management.md.  The collectors read the broker's state when scraped
(L{twisted_kafka.observability.collectors}); the only work on the request
path is the counting of L{twisted_kafka.server.request_stats} and the
store's L{twisted_kafka.store.stats}.
"""
