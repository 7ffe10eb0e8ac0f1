# -*- test-case-name: tests.fuzz -*-
"""A seeded, time-bounded fuzz suite: mutated requests of every advertised API.

L{tests.fuzz.requests} builds plausible requests from the codec's schemas and
mutates them (values and bytes); L{tests.fuzz.test_broker} sends them to a
real broker while a canary client produces and reads on another connection.
"""
