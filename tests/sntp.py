"""A real SNTP server on 127.0.0.1 for the clock check's tests: a UDP socket and a thread that
answers each request with ntplib's own packets, its clock set ``skew`` seconds from this
machine's, or says nothing at all (``silent``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import ntplib


@contextmanager
def sntp_server(
    skew: float = 0.0, *, stratum: int = 2, leap: int = 0, silent: bool = False
) -> Iterator[str]:
    """An SNTP server answering on 127.0.0.1; yields its ``HOST:PORT``."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            try:
                data, client = server.recvfrom(256)
            except TimeoutError:
                continue
            if silent:
                continue
            request = ntplib.NTPPacket()
            request.from_data(data)
            received = ntplib.system_to_ntp_time(time.time() + skew)
            reply = ntplib.NTPPacket(version=request.version, mode=4)
            reply.stratum, reply.leap = stratum, leap
            reply.orig_timestamp = request.tx_timestamp
            reply.recv_timestamp = received
            reply.ref_timestamp = received
            reply.tx_timestamp = ntplib.system_to_ntp_time(time.time() + skew)
            server.sendto(reply.to_data(), client)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        server.close()
