# -*- test-case-name: tests.observability.test_json_api -*-
"""What the JSON API answers: plain dicts and lists read from the broker at request time.

Each function takes the L{BrokerView} and the request's parameters and
returns something C{json.dumps} can write; unknown names raise
L{NotFound}.  docs/management.md describes every answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import twisted_kafka
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.groups.group import ClassicGroup, GroupState
from twisted_kafka.observability.record_peek import peek
from twisted_kafka.observability.view import group_lag
from twisted_kafka.protocol.messages import decode_data
from twisted_kafka.server.addresses import describe_address
from twisted_kafka.store.topic_names import is_internal

if TYPE_CHECKING:
    from twisted_kafka.groups.member import Member
    from twisted_kafka.observability.view import BrokerView
    from twisted_kafka.store.interfaces import ITopic, IVhost

#: The topic configs every topic's page shows, overridden or not.
SHOWN_CONFIGS = ("cleanup.policy", "retention.ms", "retention.bytes", "segment.bytes",
                 "max.message.bytes", "message.timestamp.type", "min.insync.replicas")


class NotFound(Exception):
    """The request names something that does not exist (HTTP 404)."""


def find_vhost(view: BrokerView, name: str) -> IVhost:
    """The vhost called C{name}, which must exist (never created here)."""
    for vhost in view.broker.store.vhosts():
        if vhost.name == name:
            return vhost
    raise NotFound(f"no vhost {name!r}")


def find_topic(view: BrokerView, vhost_name: str, name: str) -> tuple[IVhost, ITopic]:
    """The vhost and topic named, which must exist."""
    vhost = find_vhost(view, vhost_name)
    topic = vhost.topic(name)
    if topic is None:
        raise NotFound(f"no topic {name!r} in vhost {vhost_name!r}")
    return vhost, topic


def _topic_summary(topic: ITopic) -> dict[str, Any]:
    partitions = topic.partitions
    return {
        "name": topic.name,
        "internal": is_internal(topic.name),
        "partitions": len(partitions),
        "size_bytes": sum(p.size_bytes() for p in partitions),
        "records": sum(p.high_watermark - p.log_start_offset for p in partitions),
        "end_offsets": sum(p.high_watermark for p in partitions),
    }


def overview(view: BrokerView) -> dict[str, Any]:
    """Version, uptime, node, listeners and totals."""
    broker = view.broker
    now = broker.reactor.seconds()
    topics = partitions = size = 0
    for vhost in broker.store.vhosts():
        for topic in vhost.topics():
            topics += 1
            partitions += len(topic.partitions)
            size += sum(p.size_bytes() for p in topic.partitions)
    groups = sum(len(g.groups) for g in view.vhost_groups())
    return {
        "version": twisted_kafka.__version__,
        "node_id": broker.node_id,
        "cluster_id": broker.store.cluster_id,
        "started_at": broker.started_at,
        "uptime_seconds": round(now - broker.started_at, 3),
        "listeners": [{"listener": d, "listening": up} for d, up in view.listeners()],
        "ready": view.ready()[0],
        "totals": {"vhosts": len(broker.store.vhosts()), "topics": topics, "partitions": partitions,
                   "size_bytes": size, "groups": groups,
                   "connections": len(list(view.connections()))},
    }


def vhosts(view: BrokerView) -> list[dict[str, Any]]:
    """Every vhost with its topic count and size."""
    out = []
    for vhost in view.broker.store.vhosts():
        topics = vhost.topics()
        out.append({"name": vhost.name, "topics": len(topics),
                    "size_bytes": sum(p.size_bytes() for t in topics for p in t.partitions)})
    return out


def topics(view: BrokerView, vhost_name: str, match: str, offset: int, limit: int,
           internal: bool) -> dict[str, Any]:
    """One page of a vhost's topics whose name contains C{match}, sorted by name."""
    vhost = find_vhost(view, vhost_name)
    wanted = [t for t in vhost.topics()
              if match.lower() in t.name.lower() and (internal or not is_internal(t.name))]
    page = wanted[offset:offset + limit]
    return {"vhost": vhost.name, "total": len(wanted), "offset": offset, "limit": limit,
            "topics": [_topic_summary(t) for t in page]}


def topic(view: BrokerView, vhost_name: str, name: str) -> dict[str, Any]:
    """A topic's partitions (offsets, sizes) and configs."""
    _, found = find_topic(view, vhost_name, name)
    summary = _topic_summary(found)
    summary["topic_id"] = found.topic_id.hex()
    summary["partitions"] = [
        {"partition": p.index, "log_start_offset": p.log_start_offset,
         "log_end_offset": p.high_watermark, "size_bytes": p.size_bytes()}
        for p in found.partitions]
    keys = sorted(set(SHOWN_CONFIGS) | set(found.configs))
    summary["configs"] = [{"name": key, "value": found.config(key), "source": found.config_source(key)}
                          for key in keys]
    return summary


def records(view: BrokerView, vhost_name: str, name: str, partition: int, offset: int | None,
            timestamp: int | None, limit: int) -> dict[str, Any]:
    """Up to C{limit} records of one partition from an offset or a timestamp."""
    _, found = find_topic(view, vhost_name, name)
    if not 0 <= partition < len(found.partitions):
        raise NotFound(f"topic {name!r} has no partition {partition}")
    log = found.partitions[partition]
    limit = max(1, min(limit, view.max_peek_records))
    return {"topic": name, "partition": partition, "log_start_offset": log.log_start_offset,
            "log_end_offset": log.high_watermark,
            "records": peek(log, offset, timestamp, limit)}


def _assignment(member: Member) -> list[dict[str, Any]]:
    if member.protocol_type != "consumer" or not member.assignment:
        return []
    try:
        _, body = decode_data("ConsumerProtocolAssignment", member.assignment)
    except Exception:
        return []
    return [{"topic": a["topic"], "partitions": list(a["partitions"])}
            for a in body["assigned_partitions"]]


def _group_summary(vhost: IVhost, group: ClassicGroup) -> dict[str, Any]:
    lag = group_lag(vhost, group)
    return {"group": group.group_id, "state": group.state.value, "members": len(group.members),
            "protocol": group.protocol_name, "generation": group.generation_id,
            "lag": sum(p.lag for p in lag), "partitions": len(lag)}


def groups(view: BrokerView, vhost_name: str) -> dict[str, Any]:
    """A vhost's consumer groups: state, members, total lag."""
    vhost = find_vhost(view, vhost_name)
    loaded = view.groups_of(vhost)
    found = [] if loaded is None else sorted(loaded.groups.values(), key=lambda g: g.group_id)
    return {"vhost": vhost.name,
            "groups": [_group_summary(vhost, g) for g in found if g.state is not GroupState.DEAD]}


def group(view: BrokerView, vhost_name: str, group_id: str) -> dict[str, Any]:
    """One group: members with their assignments, and each partition's offset and lag."""
    vhost = find_vhost(view, vhost_name)
    loaded = view.groups_of(vhost)
    found = None if loaded is None else loaded.groups.get(group_id)
    if found is None or found.state is GroupState.DEAD:
        raise NotFound(f"no group {group_id!r} in vhost {vhost_name!r}")
    summary = _group_summary(vhost, found)
    summary["members_detail"] = [
        {"member_id": m.member_id, "group_instance_id": m.group_instance_id, "client_id": m.client_id,
         "client_host": m.client_host, "assignment": _assignment(m)}
        for m in found.members.values()]
    summary["offsets"] = [p._asdict() for p in group_lag(vhost, found)]
    return summary


def connections(view: BrokerView) -> list[dict[str, Any]]:
    """Every open client connection."""
    now = view.broker.reactor.seconds()
    out = []
    for c in view.connections():
        software = c.client_software
        out.append({
            "peer": c.peer,
            "listener": describe_address(c.transport.getHost()),
            "client_id": c.client_id,
            "client_software_name": software[0] if software else None,
            "client_software_version": software[1] if software else None,
            "user": c.principal,
            "vhost": c.vhost.name if c.vhost is not None else None,
            "bytes_in": c.bytes_in,
            "bytes_out": c.bytes_out,
            "connected_seconds": round(now - c.connected_at, 3),
        })
    return sorted(out, key=lambda c: c["peer"])


def kafka_error(e: KafkaError) -> dict[str, Any]:
    """The JSON of a refused action: Kafka's error name and message."""
    try:
        name = ErrorCode(e.code).name
    except ValueError:
        name = str(e.code)
    return {"error": name, "message": e.message}
