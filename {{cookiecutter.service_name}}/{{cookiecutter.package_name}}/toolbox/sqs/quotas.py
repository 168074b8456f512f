"""SQS's quotas, each named once: what the service itself allows or refuses."""

#: Entries in one DeleteMessageBatch, ChangeMessageVisibilityBatch or SendMessageBatch; messages in one receive.
BATCH = 10
#: The longest a receive may hide a message, counted from its first receive (12 hours).
MAX_VISIBILITY_TIMEOUT = 43200
#: The longest long poll.
MAX_WAIT_TIME_SECONDS = 20
#: A redrive policy's maxReceiveCount: 1 to this.
MAX_RECEIVE_COUNT = 1000
#: The longest a queue keeps a message (14 days): dead letters wait that long for someone to look.
MAX_RETENTION_SECONDS = 1209600
#: MaximumMessageSize where a queue does not say: its default, which is also its largest (1 MiB).
DEFAULT_MAX_MESSAGE_BYTES = 1048576
#: How SQS says a queue does not exist: the JSON protocol's code, and the query protocol's.
MISSING_QUEUE_CODES = frozenset({"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"})
#: How SQS says a receipt handle no longer holds the message (deleted, or received again elsewhere).
INVALID_RECEIPT_CODE = "ReceiptHandleIsInvalid"
