"""Tests reach only this machine: PostgreSQL, Redis, the live server and Chromium on 127.0.0.1."""

import socket

import pytest
from pytest_socket import SocketConnectBlockedError


def test_a_connection_off_this_machine_is_refused():
    # 203.0.113.1 is TEST-NET-3 (RFC 5737): never a real host, refused before any packet leaves.
    with pytest.raises(SocketConnectBlockedError), socket.create_connection(("203.0.113.1", 80), timeout=1):
        pass


def test_this_machines_services_still_answer():
    with socket.create_connection(("127.0.0.1", 6379), timeout=2) as redis:
        redis.sendall(b"PING\r\n")
        assert redis.recv(16).startswith(b"+PONG")
