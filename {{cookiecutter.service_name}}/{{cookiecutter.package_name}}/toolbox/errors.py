"""Every error the toolbox raises, under one base: ``except ToolboxError`` catches them all.

Each message names the value or the step, the rule, and the fix.
"""


class ToolboxError(Exception):
    """Something the toolbox refuses or cannot do; the message says what and how to fix it."""


class ConfigError(ToolboxError, ValueError):
    """A setting that would make the worker break the Cadasta contract."""


class SetupError(ToolboxError, RuntimeError):
    """The app could not be set up: the message names the step, what is wrong and where it looked."""


class QueueNotProvisionedError(ToolboxError):
    """A queue the worker needs does not exist, and with QUEUES_PROVISIONED the worker creates none."""

    def __init__(self, names):
        self.names = sorted(names)
        super().__init__(
            f"Not in SQS: {', '.join(self.names)}. With QUEUES_PROVISIONED=true the worker creates no queue: "
            'create the service\'s own queues with its CloudFormation stack (README: "Deploy to AWS") and another '
            "service's with that service's stack, or set QUEUES_PROVISIONED=false where the worker may create "
            "its own (a local stack)."
        )


class PublishError(ToolboxError):
    """A task message did not reach every queue it is bound for."""


class MessageTooLargeError(PublishError):
    """Refused before anything was sent: the message is larger than a target queue takes."""


class PartialPublishError(PublishError):
    """Some copies of the message were sent and another was not."""

    def __init__(self, task_id, sent, failed, error):
        self.task_id, self.sent, self.failed = task_id, list(sent), failed
        super().__init__(
            f"Task {task_id}: sent to {', '.join(sent)}, but not to {failed} ({error!r}). The platform tracks it "
            "but no worker will run it: send it again with the same task id (the platform keeps one row per id)."
        )
