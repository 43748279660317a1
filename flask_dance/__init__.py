"""Doing the OAuth dance with style using Flask, requests, and oauthlib."""

from __future__ import annotations

from .consumer import OAuth1ConsumerBlueprint as OAuth1ConsumerBlueprint
from .consumer import OAuth2ConsumerBlueprint as OAuth2ConsumerBlueprint

__version__ = "8.0.0.dev0"
