"""The transport's import path, as ``broker_transport`` names it: the toolbox's SQS seam (``toolbox/sqs/``)."""

from .sqs import Transport

#: What ``broker_transport`` names: kombu imports the transport by this path.
TRANSPORT_PATH = f"{__name__}:Transport"

__all__ = ["TRANSPORT_PATH", "Transport"]
