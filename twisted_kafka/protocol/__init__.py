# -*- test-case-name: tests.protocol -*-
"""The sans-IO Kafka wire codec: primitives, headers, schema, compiled encoders and decoders."""
