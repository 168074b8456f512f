"""A TCP proxy in front of SQS that counts the requests passing through it, by operation.

A worker pointed at it (its broker URL naming the proxy's address) behaves as
against SQS itself; the proxy reads only the request framing (headers and
Content-Length), and the operation from the ``X-Amz-Target`` header (the
JSON protocol) or the ``Action`` parameter (the query protocol).
"""

import collections
import re
import socket
import threading

TARGET = re.compile(rb"^x-amz-target:\s*AmazonSQS\.(\w+)", re.IGNORECASE | re.MULTILINE)
ACTION = re.compile(rb"(?:^|&)Action=(\w+)")
CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)", re.IGNORECASE | re.MULTILINE)


class RequestCounter:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.counts: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = "{}:{}".format(*self.listener.getsockname())
        threading.Thread(target=self.accept, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()

    def snapshot(self) -> collections.Counter[str]:
        with self.lock:
            return collections.Counter(self.counts)

    def close(self) -> None:
        self.listener.close()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.upstream)
            threading.Thread(target=self.forward_requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()

    def forward_requests(self, client, upstream):
        pending = b""
        for chunk in chunks(client):
            upstream.sendall(chunk)
            pending += chunk
            pending = self.count_complete(pending)
        upstream.close()

    def count_complete(self, pending):
        """Count every whole request at the start of ``pending``; return what is left of it."""
        while (end := pending.find(b"\r\n\r\n")) >= 0:
            headers = pending[:end]
            length = CONTENT_LENGTH.search(headers)
            size = end + 4 + (int(length.group(1)) if length else 0)
            if len(pending) < size:
                break
            operation = TARGET.search(headers) or ACTION.search(pending[end + 4 : size])
            with self.lock:
                self.counts[operation.group(1).decode() if operation else "other"] += 1
            pending = pending[size:]
        return pending


def chunks(connection):
    with connection:
        while True:
            try:
                data = connection.recv(65536)
            except OSError:
                return
            if not data:
                return
            yield data


def pipe(source, destination):
    for chunk in chunks(source):
        try:
            destination.sendall(chunk)
        except OSError:
            return
    destination.close()
