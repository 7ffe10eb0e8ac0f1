# -*- test-case-name: tests.e2e.test_stream_processors -*-
"""A Faust word count on a Table, run as a subprocess by the e2e tests.

Usage: C{python faust_wordcount.py BOOTSTRAP INPUT OUTPUT APP_ID}.

Each input record's value is a word; the agent adds one to the word's entry
in a Table whose store is C{memory://} (so a restarted worker has nothing
local and must recover the table from its changelog topic on the broker) and
writes C{{"word": ..., "count": ...}} to the output topic, keyed by the word.
It prints L{READY} once the table is recovered and the input partitions are
at their committed offsets, one line per event it counts, and runs until
SIGTERM.
"""

from __future__ import annotations

import json
import sys
from typing import Any, AsyncIterator

import faust

#: The line printed when the worker is ready for input.
READY = "word count ready"


def make_app(bootstrap: str, input_topic: str, output_topic: str, app_id: str) -> faust.App:
    """Return the Faust application with its table, agent and readiness task."""
    app = faust.App(app_id, broker=f"kafka://{bootstrap}", store="memory://",
                    topic_partitions=1, topic_replication_factor=1, web_enabled=False,
                    broker_commit_interval=0.5, table_cleanup_interval=3600.0)
    source = app.topic(input_topic, key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw", partitions=1)
    sink = app.topic(output_topic, key_serializer="raw", value_serializer="raw", partitions=1)
    counts = app.Table("counts", default=int, partitions=1)

    @app.agent(source)
    async def count(stream: Any) -> AsyncIterator[Any]:
        """Count each word and write its new count."""
        async for event in stream.events():
            word = event.value.decode()
            print(f"event offset={event.message.offset} word={word}", file=sys.stderr, flush=True)
            counts[word] += 1
            await sink.send(key=word.encode(),
                            value=json.dumps({"word": word, "count": counts[word]}).encode())
            yield word

    @app.task
    async def announce() -> None:
        """Say the worker is ready: Faust starts app tasks after table recovery completed."""
        print(READY, file=sys.stderr, flush=True)

    return app


if __name__ == "__main__":
    application = make_app(*sys.argv[1:5])
    sys.argv = [sys.argv[0], "worker", "--loglevel=info", "--without-web"]
    application.main()
