"""Fixtures for the feature store tests: a Redis URL with a key prefix of its own."""

from redis_fixture import redis_url

__all__ = ["redis_url"]
