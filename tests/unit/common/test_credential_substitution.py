"""Tapis's <<TAPIS_user_username>> and <<TAPIS_user_password>> are replaced by the pod's
credentials; nothing else is touched."""

from __future__ import annotations

from services.common.credential_substitution import (
    substitute,
    substitute_all,
    substitute_environment,
)
from services.common.templates import Credentials

CREDS = Credentials(username="web1", password="s3cret-pw")


def test_both_placeholders_are_replaced_wherever_they_appear() -> None:
    assert (
        substitute("postgres://<<TAPIS_user_username>>:<<TAPIS_user_password>>@db/x", CREDS)
        == "postgres://web1:s3cret-pw@db/x"
    )


def test_other_text_and_unknown_placeholders_are_left_as_written() -> None:
    assert substitute("<<TAPIS_tenant_id>> <<tapis_user_password>> plain", CREDS) == (
        "<<TAPIS_tenant_id>> <<tapis_user_password>> plain"
    )


def test_environment_values_are_substituted_and_names_kept() -> None:
    env = {"DB_USER": "<<TAPIS_user_username>>", "X_<<TAPIS_user_password>>": "1"}
    assert substitute_environment(env, CREDS) == {
        "DB_USER": "web1",
        "X_<<TAPIS_user_password>>": "1",
    }


def test_every_argument_is_substituted() -> None:
    assert substitute_all(["login", "<<TAPIS_user_password>>"], CREDS) == ("login", "s3cret-pw")
