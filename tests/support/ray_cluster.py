"""A Ray head on 127.0.0.1, for the Ray executor's tests and bench/ray_bench.py.

Ray's own test cluster (ray.cluster_utils.Cluster) with one node, reachable on the loopback only:
its port is below Ray's worker ports (10002 and up), and RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 keeps
Ray from swapping 127.0.0.1 for the machine's network address (LOOPBACK, for every process that
talks to it). Usage stats stay off: nothing leaves the machine.

    with loopback_head(cpus=2) as (address, raylet_pid):
        ... RAY_ADDRESS=address podcast build --executor ray ...
"""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Iterator
from contextlib import contextmanager

LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


def free_port_below_10000() -> int:
    for port in random.sample(range(6400, 9990), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port from 6400 to 9989")


@contextmanager
def loopback_head(cpus: int) -> Iterator[tuple[str, int]]:
    """A running Ray head with `cpus` CPUs: (its address, its raylet's pid). LOOPBACK is set in this
    process's environment while it runs."""
    saved = {k: os.environ.get(k) for k in LOOPBACK}
    os.environ.update(LOOPBACK)  # before Ray is imported: it reads them once
    try:
        from ray.cluster_utils import Cluster

        head = Cluster(
            initialize_head=True,
            connect=False,
            head_node_args={
                "num_cpus": cpus,
                "node_ip_address": "127.0.0.1",
                "gcs_server_port": free_port_below_10000(),
                "include_dashboard": False,
            },
        )
        try:
            raylet = head.head_node.all_processes["raylet"][0].process.pid
            yield head.address, raylet
        finally:
            head.shutdown()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
