# -*- test-case-name: tests.security -*-
"""Authentication and authorization: SASL mechanisms, credentials, ACLs.

C{scram} and C{plain} are the SASL mechanisms; C{credentials} the users and
their stored keys in the data directory; C{principals} maps TLS client
certificates to principals; C{acl} is Kafka's ACL model and matcher,
C{acl_store} its per-vhost persistence and C{acl_authorizer} the authorizer
the request path asks (see docs/security.md).
"""
