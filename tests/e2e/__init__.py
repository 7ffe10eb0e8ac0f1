# -*- test-case-name: tests.e2e -*-
"""End-to-end tests: the real broker process driven by real clients."""
