"""Read what reached each SQS queue, straight from SQS."""

import base64
import json

from localstack_client.session import Session

from local_stack.host.processes import wait_until


class SqsQueues:
    def __init__(self, localstack_host, prefix, region):
        self.client = Session(localstack_host=localstack_host, region_name=region).client("sqs")
        self.prefix = prefix
        self.received = {}
        self.deliveries = {}

    def messages(self, queue):
        """Every task message received from ``queue`` so far, as {task id: message}."""
        found = self.received.setdefault(queue, {})
        every = self.deliveries.setdefault(queue, [])
        try:
            url = self.url(queue)
        except self.client.exceptions.QueueDoesNotExist:
            return found
        while True:
            batch = self.client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return found
            for raw in batch:
                message = decode(raw)
                found[message["headers"]["id"]] = message
                every.append(message)

    def every_message(self, queue):
        """Every message received from ``queue`` so far, copies of one task included, in order."""
        self.messages(queue)
        return self.deliveries[queue]

    def wait_for(self, queue, task_id, timeout=60):
        return wait_until(
            lambda: self.messages(queue).get(task_id),
            timeout,
            lambda: f"task {task_id} never reached {self.prefix}-{queue}; it holds {sorted(self.messages(queue))}",
        )

    def wait_for_task(self, queue, task_name, timeout=60):
        return wait_until(
            lambda: next((m for m in self.messages(queue).values() if m["headers"]["task"] == task_name), None),
            timeout,
            lambda: f"no {task_name} message reached {self.prefix}-{queue}",
        )

    def raw_messages(self, queue):
        """The SQS messages waiting in ``queue`` (any body), received and hidden again for a moment."""
        response = self.client.receive_message(
            QueueUrl=self.url(queue), MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=1
        )
        return response.get("Messages", [])

    def url(self, queue):
        return self.client.get_queue_url(QueueName=f"{self.prefix}-{queue}")["QueueUrl"]

    def is_drained(self, queue):
        """No message waiting in the queue and none being handled."""
        attributes = self.client.get_queue_attributes(
            QueueUrl=self.url(queue),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def decode(raw):
    """kombu's SQS envelope: base64 of the JSON message; SQS attributes kept beside it."""
    message = json.loads(base64.b64decode(raw["Body"]))
    message["sqs_attributes"] = raw.get("Attributes", {})
    return message
