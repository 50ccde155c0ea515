"""Asserting refusals made through tapipy: the HTTP status and the message, not merely that
tapipy raised something. Used by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tapipy.errors import BaseTapyException


def refusal(call: Callable[[], Any], status: int, *words: str) -> str:
    """Runs `call`, which must fail with HTTP `status` and a message holding every one of
    `words`; returns the message."""
    with pytest.raises(BaseTapyException) as info:
        call()
    response = info.value.response
    message = str(info.value.message)
    assert response is not None, message
    assert response.status_code == status, (response.status_code, message)
    for word in words:
        assert word in message, (word, message)
    return message
