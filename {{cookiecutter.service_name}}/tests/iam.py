"""Whether an IAM policy document that toolbox/infrastructure.py generates allows an SQS call.

Enough of IAM's evaluation for those documents: Allow statements only, exact
actions and exact queue ARNs, whose ``Fn::Sub`` references are resolved with
the stack's values. Anything else in a document fails loudly.
"""

import re

from {{ cookiecutter.package_name }}.toolbox.infrastructure import iam_action

ACCOUNT, PARTITION = "000000000000", "aws"


def resolved(value, prefix, region):
    """A resource as IAM sees it: ``Fn::Sub`` references replaced by the stack's values."""
    if isinstance(value, str):
        return value
    (function, text), *others = value.items()
    assert function == "Fn::Sub" and not others and isinstance(text, str), f"cannot resolve {value!r}"
    values = {"AWS::Partition": PARTITION, "AWS::Region": region, "AWS::AccountId": ACCOUNT, "QueuePrefix": prefix}
    return re.sub(r"\$\{([^}]+)\}", lambda match: values[match.group(1)], text)


def arn(queue_sqs_name, region):
    return f"arn:{PARTITION}:sqs:{region}:{ACCOUNT}:{queue_sqs_name}"


def statements(document, prefix, region):
    """(Sid, actions, resource ARNs) of each statement of ``document``."""
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and set(statement) <= {"Sid", "Effect", "Action", "Resource"}
        yield statement["Sid"], statement["Action"], [resolved(r, prefix, region) for r in statement["Resource"]]


def grants(document, prefix, region):
    """{(IAM action, resource ARN)} that ``document`` allows."""
    return {
        (action, resource)
        for _, actions, resources in statements(document, prefix, region)
        for action in actions
        for resource in resources
    }


def allows(document, operation, queue_sqs_name, prefix, region):
    """Whether ``document`` allows the SQS call ``operation`` on the queue named ``queue_sqs_name``."""
    return (iam_action(operation), arn(queue_sqs_name, region)) in grants(document, prefix, region)
