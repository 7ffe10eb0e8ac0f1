# -*- test-case-name: tests.groups -*-
"""Consumer groups: the classic group protocol and committed offsets.

L{twisted_kafka.groups.coordinator.GroupCoordinator} is the broker's group
coordinator (a service); per vhost it keeps the groups
(L{twisted_kafka.groups.group.ClassicGroup}), runs their membership state
machine (L{twisted_kafka.groups.membership.Membership}) on the reactor clock,
and stores committed offsets (L{twisted_kafka.groups.committed.CommittedOffsets})
durably in an internal stream queue (L{twisted_kafka.groups.offset_log}).
Nothing here touches the network: the responders in L{twisted_kafka.apis}
translate requests and responses.
"""
