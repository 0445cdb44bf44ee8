"""The AWS SAM CLI, with `--docker-network host` meaning the host's network.

Our docker daemon runs without a bridge (`dockerd --bridge=none`, so no
container can reach a private-range address), so a Lambda container must
share the host's network. SAM CLI (1.170) takes `--docker-network host` but
still creates the container on the default network, publishes the Runtime
Interface Emulator's port 8080 to a free host port, and only skips
"connecting" it to a network named host. With no bridge that container has
only a loopback of its own, and SAM can never reach the emulator.

This wrapper changes one thing: a container SAM creates for network "host"
gets `network_mode=host`, and the emulator listens on 127.0.0.1 at the very
port SAM will call (its Runtime API on another free port, so two functions
never collide). Everything else is SAM's own code: run it exactly like
`sam` (scripts/sam-local does).
"""

import sys

from docker.models.containers import ContainerCollection
from samcli.cli.main import cli
from samcli.local.docker import container as _container
from samcli.local.docker.utils import find_free_port

_create = _container.Container.create


def _create_on_host_network(self, context):
    if self.network_id == "host":
        self._container_opts = {**(self._container_opts or {}), "network_mode": "host"}
        api_port = find_free_port(network_interface="127.0.0.1", start=9002, end=9900)
        self._entrypoint = [
            *(self._entrypoint or ["/var/rapid/aws-lambda-rie"]),
            "--runtime-interface-emulator-address", f"127.0.0.1:{self.rapid_port_host}",
            "--runtime-api-address", f"127.0.0.1:{api_port}",
        ]
    return _create(self, context)


_container.Container.create = _create_on_host_network

_docker_create = ContainerCollection.create


def _docker_create_without_ports(self, image, command=None, **kwargs):
    # On the host's network there is nothing to publish, and docker-py
    # refuses port bindings next to network_mode=host.
    if kwargs.get("network_mode") == "host":
        kwargs.pop("ports", None)
    return _docker_create(self, image, command, **kwargs)


ContainerCollection.create = _docker_create_without_ports

if __name__ == "__main__":
    sys.argv[0] = "sam"
    sys.exit(cli())
