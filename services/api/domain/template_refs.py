"""How a pod or a template tag names a template: `id`, `id:tag` or `id:tag@timestamp`, and
the rules for template ids, tag names and the timestamps that name one version of a tag.

`parse_template_ref` is the one place such a name is read (domain/derivation.py calls it for a
pod's `template` and for a tag's pod definition). Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from services.api.errors import InvalidArgumentError

TEMPLATE_ID_RE = re.compile(r"^[a-z][a-z0-9]{2,63}$")
TAG_RE = re.compile(r"^[A-Za-z0-9.-]{1,80}$")
TIMESTAMP_FORMAT = "%Y-%m-%d-%H:%M:%S"  # UTC, as Tapis prints a tag's version
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{2}:\d{2}:\d{2}$")
DEFAULT_TAG = "latest"
FORMS = "'<template_id>', '<template_id>:<tag>' or '<template_id>:<tag>@<YYYY-MM-DD-HH:MM:SS>'"


@dataclass(frozen=True)
class TemplateRef:
    """A parsed template name: `tag` "" names no tag, `timestamp` "" the newest version."""

    template_id: str
    tag: str = ""
    timestamp: str = ""

    @property
    def label(self) -> str:
        """The name as written."""
        if not self.tag:
            return self.template_id
        version = f"@{self.timestamp}" if self.timestamp else ""
        return f"{self.template_id}:{self.tag}{version}"


def parse_template_ref(value: str, field_name: str = "template") -> TemplateRef:
    """The template a name refers to, or InvalidArgumentError naming `field_name`."""
    name, at, timestamp = value.partition("@")
    template_id, colon, tag = name.partition(":")
    if at and not colon:
        raise InvalidArgumentError(
            field_name, f"{value[:120]!r}: a timestamp needs a tag; use {FORMS}"
        )
    check_template_id(template_id, field_name)
    if colon:
        check_tag(tag, field_name)
    if at and not TIMESTAMP_RE.fullmatch(timestamp):
        raise InvalidArgumentError(
            field_name, f"{value[:120]!r}: the timestamp must be YYYY-MM-DD-HH:MM:SS (UTC)"
        )
    return TemplateRef(template_id, tag, timestamp)


def check_template_id(value: str, field_name: str = "template_id") -> str:
    """The template id, if it is 3 to 64 lowercase letters and digits starting with a letter."""
    if not TEMPLATE_ID_RE.fullmatch(value):
        raise InvalidArgumentError(
            field_name,
            f"template id {value[:80]!r} must be 3 to 64 lowercase letters and digits, "
            "starting with a letter",
        )
    return value


def check_tag(value: str, field_name: str = "tag") -> str:
    """The tag name, if it is 1 to 80 letters, digits, '.' and '-'."""
    if not TAG_RE.fullmatch(value):
        raise InvalidArgumentError(
            field_name, f"tag {value[:100]!r} must be 1 to 80 letters, digits, '.' and '-'"
        )
    return value


def tag_timestamp(tag: str, when: datetime) -> str:
    """The name of the version of `tag` added at `when` (UTC)."""
    return f"{tag}@{when.strftime(TIMESTAMP_FORMAT)}"
