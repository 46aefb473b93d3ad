"""Cached series are keyed by whose data they are: two accounts never read each other's cache."""

from __future__ import annotations

from connectors.cloudwatch import CloudWatchSource


def test_different_credentials_give_different_cache_identities(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never contacted: identity is local
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-for-tests")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key-id-staging")
    staging = CloudWatchSource("us-east-1").identity()
    again = CloudWatchSource("us-east-1").identity()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key-id-production")
    production = CloudWatchSource("us-east-1").identity()
    other_region = CloudWatchSource("eu-west-1").identity()
    assert staging == again
    assert len({staging, production, other_region}) == 3
    for identity in (staging, production):
        assert "test-key-id" not in identity and "secret" not in identity  # a digest, never the key itself
