# -*- test-case-name: tests.apis.test_scram_credential_apis -*-
"""DescribeUserScramCredentials (v0) and AlterUserScramCredentials (v0), KIP-554.

What C{kafka-configs --entity-type users} and the admin clients'
C{describe_user_scram_credentials}/C{alter_user_scram_credentials} use.
Describe needs Cluster/Describe, Alter Cluster/Alter, as in Kafka.  The
client sends the salted password (C{Hi(password, salt, i)}); the broker
keeps only the stored and server keys derived from it, with the salt and
iterations (4096 to 16384, else UNACCEPTABLE_CREDENTIAL), in the users file.

Users belong to vhosts: a user created here is granted the connection's
vhost (its default); users of other vhosts are neither shown nor changed,
except by a super user (C{[security] super_users}), who sees and changes
every user.  Per user, as in Kafka, one bad alteration fails all of that
user's alterations: an unknown mechanism is UNSUPPORTED_SASL_MECHANISM, a
user or mechanism named twice DUPLICATE_RESOURCE, deleting a credential
that does not exist RESOURCE_NOT_FOUND.
"""

from __future__ import annotations

from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.security.credentials import (
    CredentialError, CredentialStore, User, check_iterations, check_name)
from twisted_kafka.security.scram import MECHANISMS, MECHANISMS_BY_CODE
from twisted_kafka.server.authorizer import AclOperation, Need, ResourceType, cluster
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.reply import Reply

DESCRIBE_KEY, ALTER_KEY = 50, 51


def _visible(user: User | None, context: RequestContext) -> bool:
    """Whether the request may see and change C{user}: its vhost, or a super user."""
    return user is not None and (context.vhost.name in user.vhosts
                                 or context.access.principal in context.settings.super_users)


def _cluster_refused(context: RequestContext) -> bool:
    return context.access.refused(ResourceType.CLUSTER, "kafka-cluster")


def describe_user_scram_credentials(request: Fields, context: RequestContext) -> Reply:
    """Describe the mechanisms and iterations of the named users (all when none named)."""
    if _cluster_refused(context):
        return {"error_code": ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
                "error_message": "not authorized to describe user credentials", "results": []}
    credentials = context.broker.credentials
    named = request.get("users")
    results = []
    if not named:
        for listed in credentials.users():
            if _visible(listed, context):
                results.append(_described(listed))
    else:
        names = [u["name"] for u in named]
        for name in dict.fromkeys(names):
            user = credentials.user(name)
            if names.count(name) > 1:
                results.append({"user": name, "error_code": ErrorCode.DUPLICATE_RESOURCE,
                                "error_message": f"cannot describe user {name!r} twice in one "
                                                 "request", "credential_infos": []})
            elif user is None or not _visible(user, context) or not user.scram:
                results.append({"user": name, "error_code": ErrorCode.RESOURCE_NOT_FOUND,
                                "error_message": "attempt to describe a user credential that "
                                                 "does not exist", "credential_infos": []})
            else:
                results.append(_described(user))
    return {"error_code": ErrorCode.NONE, "error_message": None, "results": results}


def _described(user: User) -> Fields:
    return {"user": user.name, "error_code": ErrorCode.NONE, "error_message": None,
            "credential_infos": [{"mechanism": MECHANISMS[m].code, "iterations": c.iterations}
                                 for m, c in sorted(user.scram.items())]}


def alter_user_scram_credentials(request: Fields, context: RequestContext) -> Reply:
    """Apply the deletions and upsertions, each user's all or none."""
    deletions = request.get("deletions") or []
    upsertions = request.get("upsertions") or []
    order = list(dict.fromkeys([a["name"] for a in deletions] + [a["name"] for a in upsertions]))
    if _cluster_refused(context):
        return {"results": [{"user": name, "error_code": ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
                             "error_message": "not authorized to alter user credentials"}
                            for name in order]}
    credentials = context.broker.credentials
    results = []
    for name in order:
        mine = ([("delete", a) for a in deletions if a["name"] == name]
                + [("upsert", a) for a in upsertions if a["name"] == name])
        error = _check(name, mine, credentials, context)
        if error is None:
            try:
                _apply(name, mine, credentials, context)
            except (CredentialError, OSError) as e:
                error = ErrorCode.UNACCEPTABLE_CREDENTIAL, str(e)
        code, message = error if error is not None else (ErrorCode.NONE, None)
        results.append({"user": name, "error_code": code, "error_message": message})
    return {"results": results}


def _check(name: str, alterations: list[tuple[str, Fields]], credentials: CredentialStore,
           context: RequestContext) -> tuple[ErrorCode, str] | None:
    """Return the error that fails all of C{name}'s alterations, or C{None}."""
    try:
        check_name(name)
    except CredentialError as e:
        return ErrorCode.UNACCEPTABLE_CREDENTIAL, str(e)
    user = credentials.user(name)
    if user is not None and not _visible(user, context):
        return (ErrorCode.RESOURCE_NOT_FOUND if all(k == "delete" for k, _ in alterations)
                else ErrorCode.UNACCEPTABLE_CREDENTIAL,
                f"user {name!r} belongs to another vhost")
    seen: set[int] = set()
    for kind, alteration in alterations:
        code = alteration["mechanism"]
        mechanism = MECHANISMS_BY_CODE.get(code)
        if mechanism is None:
            return ErrorCode.UNSUPPORTED_SASL_MECHANISM, f"unknown SCRAM mechanism {code}"
        if code in seen:
            return (ErrorCode.DUPLICATE_RESOURCE,
                    f"a user credential cannot be altered twice in the same request ({mechanism.name})")
        seen.add(code)
        if kind == "delete":
            if user is None or mechanism.name not in user.scram:
                return (ErrorCode.RESOURCE_NOT_FOUND,
                        "attempt to delete a user credential that does not exist")
            continue
        try:
            check_iterations(mechanism, alteration["iterations"])
        except CredentialError as e:
            return ErrorCode.UNACCEPTABLE_CREDENTIAL, str(e)
        if not alteration["salt"] or not alteration["salted_password"]:
            return ErrorCode.UNACCEPTABLE_CREDENTIAL, "the salt and salted password must not be empty"
    return None


def _apply(name: str, alterations: list[tuple[str, Fields]], credentials: CredentialStore,
           context: RequestContext) -> None:
    for kind, alteration in alterations:
        mechanism = MECHANISMS_BY_CODE[alteration["mechanism"]]
        if kind == "delete":
            credentials.delete_credential(name, mechanism)
        else:
            credential = mechanism.credential(alteration["salted_password"], alteration["salt"],
                                              alteration["iterations"])
            credentials.set_credential(name, mechanism, credential, context.vhost.name)


def register(registry: ResponderRegistry) -> None:
    """Serve DescribeUserScramCredentials v0 and AlterUserScramCredentials v0."""
    registry.register(DESCRIBE_KEY, "DescribeUserScramCredentials", 0, 0,
                      describe_user_scram_credentials,
                      (Need(ResourceType.CLUSTER, AclOperation.DESCRIBE, cluster),))
    registry.register(ALTER_KEY, "AlterUserScramCredentials", 0, 0,
                      alter_user_scram_credentials,
                      (Need(ResourceType.CLUSTER, AclOperation.ALTER, cluster),))
