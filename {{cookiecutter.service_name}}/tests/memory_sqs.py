"""An in-memory SQS client for offline tests: the calls the toolbox's message lifecycle makes.

It keeps what SQS keeps that matters here: each receive hides a message for
its visibility timeout and hands out a new receipt handle, counts the
receive, and only the newest receipt handle may change or delete it. Every
call is recorded, and an operation can be made to fail.
"""

import itertools
import time
import uuid

from botocore.exceptions import ClientError


class Clock:
    """A clock the test moves forward by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class MemorySQS:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.queues = {}  # queue URL -> {message id: message}
        self.attributes = {}  # queue URL -> its attributes
        self.calls = []  # (operation, parameters)
        self.failing = {}  # operation -> the exception it raises
        self._receipts = itertools.count(1)

    def _call(self, operation, parameters):
        self.calls.append((operation, parameters))
        if operation in self.failing:
            raise self.failing[operation]

    def operations(self, operation):
        return [parameters for name, parameters in self.calls if name == operation]

    def create_queue(self, QueueName, Attributes=None, **kwargs):
        self._call("CreateQueue", {"QueueName": QueueName, "Attributes": dict(Attributes or {})})
        url = f"https://sqs.memory/{QueueName}"
        self.queues.setdefault(url, {})
        self.attributes.setdefault(url, {**dict(Attributes or {}), "QueueArn": f"arn:memory:sqs:{QueueName}"})
        return {"QueueUrl": url}

    def get_queue_url(self, QueueName):
        self._call("GetQueueUrl", {"QueueName": QueueName})
        url = f"https://sqs.memory/{QueueName}"
        if url not in self.queues:
            error = {"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "no such queue"}}
            raise ClientError(error, "GetQueueUrl")
        return {"QueueUrl": url}

    def set_queue_attributes(self, QueueUrl, Attributes):
        self._call("SetQueueAttributes", {"QueueUrl": QueueUrl, "Attributes": Attributes})
        self.attributes[QueueUrl].update(Attributes)

    def list_queues(self, QueueNamePrefix=""):
        self._call("ListQueues", {"QueueNamePrefix": QueueNamePrefix})
        return {"QueueUrls": [url for url in self.queues if url.rsplit("/", 1)[1].startswith(QueueNamePrefix)]}

    def get_queue_attributes(self, QueueUrl, AttributeNames):
        self._call("GetQueueAttributes", {"QueueUrl": QueueUrl, "AttributeNames": AttributeNames})
        messages = self.queues[QueueUrl].values()
        visible = sum(message["visible_at"] <= self.clock() for message in messages)
        counts = {"": visible, "NotVisible": len(messages) - visible}
        attributes = dict(self.attributes[QueueUrl])
        attributes.update((f"ApproximateNumberOfMessages{kind}", str(count)) for kind, count in counts.items())
        return {"Attributes": {name: attributes[name] for name in AttributeNames if name in attributes}}

    def delete_message(self, QueueUrl, ReceiptHandle):
        self._call("DeleteMessage", {"QueueUrl": QueueUrl})
        message_id, _ = self._holding(QueueUrl, ReceiptHandle)
        self.queues[QueueUrl].pop(message_id, None)

    def send_message(self, QueueUrl, MessageBody, **kwargs):
        self._call("SendMessage", {"QueueUrl": QueueUrl})
        message_id = str(uuid.uuid4())
        self.queues[QueueUrl][message_id] = {"body": MessageBody, "visible_at": 0.0, "receives": 0, "receipt": None}
        return {"MessageId": message_id}

    def receive_message(self, QueueUrl, MaxNumberOfMessages=1, VisibilityTimeout=30, **kwargs):
        self._call("ReceiveMessage", {"QueueUrl": QueueUrl})
        received = []
        for message_id, message in self.queues[QueueUrl].items():
            if len(received) == MaxNumberOfMessages:
                break
            if message["visible_at"] <= self.clock():
                message["receives"] += 1
                message["receipt"] = f"receipt-{next(self._receipts)}"
                message["visible_at"] = self.clock() + VisibilityTimeout
                received.append(
                    {
                        "MessageId": message_id,
                        "ReceiptHandle": message["receipt"],
                        "Body": message["body"],
                        "Attributes": {"ApproximateReceiveCount": str(message["receives"])},
                    }
                )
        return {"Messages": received}

    def _holding(self, url, receipt):
        for message_id, message in self.queues[url].items():
            if message["receipt"] == receipt:
                return message_id, message
        return None, None

    def change_message_visibility(self, QueueUrl, ReceiptHandle, VisibilityTimeout):
        self._call("ChangeMessageVisibility", {"QueueUrl": QueueUrl, "VisibilityTimeout": VisibilityTimeout})
        _, message = self._holding(QueueUrl, ReceiptHandle)
        message["visible_at"] = self.clock() + VisibilityTimeout

    def change_message_visibility_batch(self, QueueUrl, Entries):
        self._call("ChangeMessageVisibilityBatch", {"QueueUrl": QueueUrl, "Entries": Entries})

        def hide(message_id, message, entry):
            message["visible_at"] = self.clock() + entry["VisibilityTimeout"]

        return self._each_held(QueueUrl, Entries, hide)

    def delete_message_batch(self, QueueUrl, Entries):
        self._call("DeleteMessageBatch", {"QueueUrl": QueueUrl, "Entries": Entries})

        def delete(message_id, message, entry):
            del self.queues[QueueUrl][message_id]

        return self._each_held(QueueUrl, Entries, delete)

    def _each_held(self, url, entries, act):
        """``act`` on each entry's message; an entry whose receipt handle holds none fails, as SQS says."""
        assert len(entries) <= 10, "SQS takes at most ten entries"
        failed = []
        for entry in entries:
            message_id, message = self._holding(url, entry["ReceiptHandle"])
            if message is None:
                failed.append({"Id": entry["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": True})
            else:
                act(message_id, message, entry)
        return {"Failed": failed}
