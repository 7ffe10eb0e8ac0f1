# -*- test-case-name: tests.server -*-
"""The network side: framing, connections, the responder registry, listeners and TLS."""
