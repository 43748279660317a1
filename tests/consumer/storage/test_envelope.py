"""What an encrypted token looks like in storage, and what it is bound to."""

from __future__ import annotations

import collections
import typing as t

import pytest

from flask_dance.consumer.storage._envelope import binding_of
from flask_dance.consumer.storage._envelope import ENVELOPE_KEY
from flask_dance.consumer.storage._envelope import is_sealed


@pytest.mark.parametrize(
    ("value", "sealed"),
    [
        ({ENVELOPE_KEY: "gAAAA"}, True),
        (collections.OrderedDict({ENVELOPE_KEY: "gAAAA"}), True),
        ({ENVELOPE_KEY: 1}, False),
        ({ENVELOPE_KEY: "gAAAA", "access_token": "a"}, False),
        ({"access_token": "a"}, False),
        ({}, False),
        (None, False),
        ("gAAAA", False),
        ([ENVELOPE_KEY], False),
    ],
)
def test_only_a_lone_envelope_is_sealed(value: t.Any, sealed: bool) -> None:
    assert is_sealed(value) is sealed


def test_a_binding_names_the_provider_and_the_owner_as_text() -> None:
    assert binding_of("github", 7) == binding_of("github", "7")
    assert binding_of("github") != binding_of("github", "None")
    distinct = {
        binding_of("github"),
        binding_of("github", 7),
        binding_of("google", 7),
        binding_of("github", 8),
    }
    assert len(distinct) == 4
