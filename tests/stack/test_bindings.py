"""Every local service listens on the loopback interface only."""

from __future__ import annotations

import os
import socket

import pytest

from pizzario.config import Config
from stack.control import services
from stack.flink import FlinkService
from stack.process import listening_addresses, socket_address

LOOPBACK = {"127.0.0.1", "::1"}


def test_listening_addresses_finds_a_listener_of_this_process() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert ("127.0.0.1", port) in listening_addresses(os.getpid())


def test_proc_net_addresses_decode_in_both_families() -> None:
    # Lines of /proc/net/tcp and tcp6 as a little-endian machine writes them.
    assert socket_address("0100007F:1F90") == ("127.0.0.1", 8080)
    assert socket_address("0000000000000000FFFF00000100007F:2382") == ("::ffff:127.0.0.1", 9090)
    assert socket_address("00000000000000000000000001000000:0050") == ("::1", 80)
    assert socket_address("00000000:1F90") == ("0.0.0.0", 8080)


@pytest.mark.integration
def test_every_service_of_the_stack_listens_on_loopback_only(stack: Config) -> None:
    checked: dict[str, list[tuple[str, int]]] = {}
    for service in services(stack):
        pids = service.pids()
        if isinstance(service, FlinkService) and (manager := service.taskmanager_pid()):
            pids.append(manager)
        if not pids:
            pytest.skip(f"{service.name} was not started by this checkout: its sockets are "
                        "not ours to judge")
        checked[service.name] = [address for pid in pids for address in listening_addresses(pid)]
    print(f"\nlistening: {checked}")
    for name, addresses in checked.items():
        assert addresses, f"{name}: no listening socket found"
        strangers = [address for address in addresses if address[0] not in LOOPBACK]
        assert not strangers, f"{name} listens beyond loopback: {strangers}"
    assert (stack.kafka.host, stack.kafka.port) in checked["kafka"]
    assert (stack.elasticsearch.host, stack.elasticsearch.port) in checked["elasticsearch"]
    assert (stack.flink.rest_host, stack.flink.rest_port) in checked["flink"]
