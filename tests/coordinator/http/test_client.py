"""The client's address through trusted proxies, on literal inputs."""

from __future__ import annotations

import pytest

from coordinator.http.client import UNKNOWN, resolve

PROXIES = ["10.0.0.0/24", "127.0.0.9"]


@pytest.mark.parametrize(
    "peer,xff,proxies,want",
    [
        ("203.0.113.5", ["1.2.3.4"], PROXIES, "203.0.113.5"),  # not a proxy: header ignored
        ("127.0.0.9", ["198.51.100.7"], PROXIES, "198.51.100.7"),
        ("127.0.0.9", [], PROXIES, "127.0.0.9"),  # a proxy without the header
        ("127.0.0.9", ["6.6.6.6, 198.51.100.7"], PROXIES, "198.51.100.7"),  # forged left part
        ("127.0.0.9", ["198.51.100.7, 10.0.0.3"], PROXIES, "198.51.100.7"),  # two proxies
        ("127.0.0.9", ["198.51.100.7", "10.0.0.3"], PROXIES, "198.51.100.7"),  # two headers
        ("127.0.0.9", ["10.0.0.4, 10.0.0.3"], PROXIES, "10.0.0.4"),  # all trusted: leftmost
        ("127.0.0.9", ["not-an-ip, 198.51.100.7"], PROXIES, "198.51.100.7"),
        ("127.0.0.9", ["198.51.100.7, garbage"], PROXIES, "127.0.0.9"),  # stop at garbage
        ("127.0.0.9", ["198.51.100.7"], [], "127.0.0.9"),  # no proxies configured
        ("::1", ["2001:db8::1"], ["::1"], "2001:db8::1"),
        (None, ["1.2.3.4"], PROXIES, UNKNOWN),
    ],
)
def test_resolve(peer, xff, proxies, want):
    assert resolve(peer, xff, proxies) == want
