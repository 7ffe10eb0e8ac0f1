# -*- test-case-name: tests.e2e.test_stream_processors -*-
"""A Quix Streams stateful word count, run as a subprocess by the e2e tests.

Usage: C{python quix_wordcount.py BOOTSTRAP INPUT OUTPUT GROUP STATE_DIR}.

Each input record's key is a word; the application keeps a per-key count in
its state store (backed by a changelog topic on the broker) and writes
C{{"word": ..., "count": ...}} to the output topic, keyed by the word.  It
runs until SIGTERM, which Quix handles by committing its last checkpoint.
"""

from __future__ import annotations

import sys
from typing import Any

from quixstreams import Application, State


def count(word: str, state: State) -> dict[str, Any]:
    """Add one to this key's count in the state store; return the new count."""
    n = int(state.get("count", 0)) + 1
    state.set("count", n)
    return {"word": word, "count": n}


def main(bootstrap: str, input_topic: str, output_topic: str, group: str, state_dir: str) -> None:
    """Run the word count until stopped."""
    app = Application(broker_address=bootstrap, consumer_group=group, state_dir=state_dir,
                      auto_offset_reset="earliest", commit_interval=0.5)
    source = app.topic(input_topic, key_deserializer="str", value_deserializer="str")
    sink = app.topic(output_topic, key_serializer="str", value_serializer="json")
    sdf = app.dataframe(source)
    sdf = sdf.apply(count, stateful=True)
    sdf.to_topic(sink)
    app.run()


if __name__ == "__main__":
    main(*sys.argv[1:6])
