"""A TCP proxy in front of SQS that records the requests passing through it: when, which operation, which
queue, and whose access key signed it.

A worker pointed at it (its broker URL naming the proxy's address) behaves as
against SQS itself; the proxy reads only the request framing (headers and
Content-Length), the operation from the ``X-Amz-Target`` header (the JSON
protocol) or the ``Action`` parameter (the query protocol), and the access key
from the signature's credential scope. LocalStack takes any access key, so a
test can name each role by the key it gives it.
"""

import collections
import re
import socket
import threading
import time

TARGET = re.compile(rb"^x-amz-target:\s*AmazonSQS\.(\w+)", re.IGNORECASE | re.MULTILINE)
ACTION = re.compile(rb"(?:^|&)Action=(\w+)")
QUEUE_URL = re.compile(rb'"QueueUrl"\s*:\s*"[^"]*/([^"/]+)"|QueueUrl=[^&]*%2F([^&%]+)')
QUEUE_NAME = re.compile(rb'"QueueName"\s*:\s*"([^"]+)"|QueueName=([^&]+)')
ACCESS_KEY = re.compile(rb"^authorization:[^\r\n]*Credential=([^/\s]+)/", re.IGNORECASE | re.MULTILINE)
CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)", re.IGNORECASE | re.MULTILINE)


class RequestCounter:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        #: (time.monotonic(), operation, queue name or "", access key or "") of every request.
        self.requests: list[tuple[float, str, str, str]] = []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = "{}:{}".format(*self.listener.getsockname())
        threading.Thread(target=self.accept, daemon=True).start()

    def calls(self) -> set[tuple[str, str, str]]:
        """(access key, operation, queue name) of every request so far."""
        with self.lock:
            return {(key, operation, queue) for _, operation, queue, key in self.requests}

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()

    def per_minute(self) -> dict[str, float]:
        """Requests per minute by operation, from the intervals between each queue's requests of it.

        A long poll comes every ~20 s per queue: counting requests in a window
        of a minute would be off by one poll per queue, either way.
        """
        with self.lock:
            requests = list(self.requests)
        times = collections.defaultdict(list)
        for at, operation, queue, _ in requests:
            times[operation, queue].append(at)
        rates = collections.Counter()
        for (operation, _), seen in times.items():
            if len(seen) > 1:
                rates[operation] += 60 * (len(seen) - 1) / (seen[-1] - seen[0])
        return dict(rates)

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
            body = pending[end + 4 : size]
            operation = TARGET.search(headers) or ACTION.search(body)
            name = operation.group(1).decode() if operation else "other"
            queue = QUEUE_URL.search(body) or QUEUE_NAME.search(body)
            queue_name = (queue.group(1) or queue.group(2)).decode() if queue else ""
            key = ACCESS_KEY.search(headers)
            with self.lock:
                self.requests.append((time.monotonic(), name, queue_name, key.group(1).decode() if key else ""))
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
