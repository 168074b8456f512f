"""Read what reached each SQS queue, straight from SQS."""

import base64
import json
import time

from localstack_client.session import Session


class SqsQueues:
    def __init__(self, localstack_host, prefix, region):
        self.client = Session(localstack_host=localstack_host, region_name=region).client("sqs")
        self.prefix = prefix
        self.received = {}

    def messages(self, queue):
        """Every task message received from ``queue`` so far, as {task id: message}."""
        found = self.received.setdefault(queue, {})
        try:
            url = self.client.get_queue_url(QueueName=f"{self.prefix}-{queue}")["QueueUrl"]
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

    def wait_for(self, queue, task_id, timeout=60):
        deadline = time.monotonic() + timeout
        while task_id not in self.messages(queue):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"task {task_id} never reached {self.prefix}-{queue}; it holds {sorted(self.messages(queue))}"
                )
            time.sleep(0.5)
        return self.messages(queue)[task_id]

    def wait_for_task(self, queue, task_name, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages(queue).values():
                if message["headers"]["task"] == task_name:
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"no {task_name} message reached {self.prefix}-{queue}")
            time.sleep(0.5)


def decode(raw):
    """kombu's SQS envelope: base64 of the JSON message; SQS attributes kept beside it."""
    message = json.loads(base64.b64decode(raw["Body"]))
    message["sqs_attributes"] = raw.get("Attributes", {})
    return message


def is_drained(client, queue_url):
    """No message waiting in the queue and none being handled."""
    attributes = client.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
