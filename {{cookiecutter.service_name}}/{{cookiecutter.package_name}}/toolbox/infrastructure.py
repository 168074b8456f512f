"""The service's AWS infrastructure, derived from the settings the worker runs with.

One CloudFormation template: the queues the service consumes (WORKER_QUEUES),
each with its dead-letter queue and the redrive policy, visibility timeout and
retention the toolbox gives them when it creates them itself; an alarm for
each dead-letter queue that holds a message and for each queue whose oldest
message waits too long; and a least-privilege policy for each role:

- worker: its own queues: receive, delete, change visibility, read
  attributes (to reject); every queue in QUEUES, ``celery`` and the platform
  queue: find and send (retries and follow-up tasks, the platform's copy);
- producer (a web app, a script): every queue: find and send;
- sync-tasks (the platform's, not in this template): the platform queue:
  receive, delete, change visibility.

    python -m <package>.toolbox.infrastructure <package> --out deploy/aws/cloudformation.json

Every number in it comes from the app's configuration (``Config``, the
environment included): generate it with the environment the worker runs with.
"""

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from kombu.utils.imports import symbol_by_name

from . import contract
from .sqs import quotas

#: What consuming a queue takes (DeleteMessageBatch and ChangeMessageVisibilityBatch are authorised as their
#: single forms), and finding it.
CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl")
#: What rejecting a message takes: kombu reads the queue's redrive policy, and deletes the message where it
#: has none. The worker rejects what it cannot read; sync-tasks never rejects.
REJECT = ("sqs:GetQueueAttributes",)
#: What sending to a queue takes: its URL, then SendMessage (which authorises SendMessageBatch too).
SEND = ("sqs:GetQueueUrl", "sqs:SendMessage")
ROLES = ("worker", "producer", "sync-tasks")
#: The SQS calls IAM authorises under another action's name.
AUTHORISED_AS = {
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "SendMessageBatch": "SendMessage",
}


def iam_action(operation: str) -> str:
    """The IAM action that authorises the SQS API call ``operation``."""
    return "sqs:" + AUTHORISED_AS.get(operation, operation)


#: Seconds the oldest message of a work queue may wait before its alarm, unless the stack says otherwise.
OLDEST_MESSAGE_ALARM_SECONDS = 600
#: One alarm period, in seconds: SQS sends its metrics to CloudWatch once a minute.
ALARM_PERIOD = 60


def queue_arn(name: str) -> dict[str, str]:
    """The ARN of the queue ``name`` (before the prefix), in the stack's account and region."""
    return {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${QueuePrefix}-" + name}


def queue_name(name: str) -> dict[str, str]:
    return {"Fn::Sub": "${QueuePrefix}-" + name}


def every_queue(conf: Any) -> list[str]:
    """Every queue a task of the platform can be sent to: those Config derives (``celery``, the platform
    queue, QUEUES)."""
    return [queue.name for queue in conf.task_queues]


def policy(conf: Any, role: str) -> dict[str, Any]:
    """The IAM policy document ``role`` needs, and nothing more."""
    consumed = {"worker": list(conf.WORKER_QUEUES), "producer": [], "sync-tasks": [conf.PLATFORM_QUEUE_NAME]}[role]
    sent = every_queue(conf) if role in ("worker", "producer") else []
    statements = []
    if consumed:
        statements.append(statement("Consume", CONSUME + (REJECT if role == "worker" else ()), consumed))
    if sent:
        statements.append(statement("Send", SEND, sent))
    return {"Version": "2012-10-17", "Statement": statements}


def statement(sid: str, actions: tuple[str, ...], queues: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": [queue_arn(q) for q in queues]}


def logical_id(name: str) -> str:
    """A CloudFormation logical id for the queue ``name``: its words, capitalised, letters and digits only."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^A-Za-z0-9]+", name) if word)


def cloudformation(conf: Any) -> dict[str, Any]:
    """The CloudFormation template of the service configured by ``conf``."""
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for name in conf.WORKER_QUEUES:
        shared = name == conf.task_default_queue
        condition = {"Condition": "CreatesCeleryQueue"} if shared else {}
        resources.update(queue_resources(conf, name, condition))
        outputs[f"{logical_id(name)}QueueUrl"] = {
            **condition,
            "Description": f"The URL of {name}",
            "Value": {"Ref": f"{logical_id(name)}Queue"},
        }
    for role, description in (("worker", "the worker's task role"), ("producer", "a process that only sends tasks")):
        policy_id = f"{logical_id(role)}Policy"
        resources[policy_id] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"Description": f"SQS access for {description}", "PolicyDocument": policy(conf, role)},
        }
        outputs[f"{policy_id}Arn"] = {"Description": f"Attach to {description}", "Value": {"Ref": policy_id}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"SQS queues, alarms and IAM policies of the worker consuming {', '.join(conf.WORKER_QUEUES)}",
        "Parameters": parameters(conf),
        "Conditions": {
            "HasAlarmTopic": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]},
            "CreatesCeleryQueue": {"Fn::Equals": [{"Ref": "CreateCeleryQueue"}, "true"]},
        },
        "Resources": resources,
        "Outputs": outputs,
    }


def parameters(conf: Any) -> dict[str, Any]:
    return {
        "QueuePrefix": {
            "Type": "String",
            "Default": conf.QUEUE_NAME_PREFIX,
            "AllowedPattern": "^[A-Za-z0-9_-]{1," + str(contract.LONGEST_PREFIX) + "}$",
            "Description": "QUEUE_PREFIX: every queue of the environment is named <prefix>-<queue>",
        },
        "CreateCeleryQueue": {
            "Type": "String",
            "Default": "true",
            "AllowedValues": ["true", "false"],
            "Description": f"Whether this stack creates the {conf.task_default_queue} queue every worker shares: "
            "true in one stack of the environment only",
        },
        "AlarmTopicArn": {
            "Type": "String",
            "Default": "",
            "Description": "An SNS topic the alarms notify; empty for none",
        },
        "OldestMessageAlarmSeconds": {
            "Type": "Number",
            "Default": OLDEST_MESSAGE_ALARM_SECONDS,
            "MinValue": ALARM_PERIOD,
            "Description": "Seconds a work queue's oldest message may wait before its alarm",
        },
    }


def queue_resources(conf: Any, name: str, condition: dict[str, str]) -> dict[str, Any]:
    """A work queue, its dead-letter queue and their alarms, as the toolbox creates them (sqs/queues.py)."""
    queue_id, dead_id = f"{logical_id(name)}Queue", f"{logical_id(name)}DeadLetterQueue"
    notify = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    return {
        dead_id: {
            "Type": "AWS::SQS::Queue",
            **condition,
            "Properties": {
                "QueueName": queue_name(contract.dead_letter_name(name)),
                "MessageRetentionPeriod": quotas.MAX_RETENTION_SECONDS,
            },
        },
        queue_id: {
            "Type": "AWS::SQS::Queue",
            **condition,
            "Properties": {
                "QueueName": queue_name(name),
                "VisibilityTimeout": conf.SQS_VISIBILITY_TIMEOUT,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dead_id, "Arn"]},
                    "maxReceiveCount": conf.SQS_MAX_RECEIVE_COUNT,
                },
            },
        },
        f"{dead_id}Alarm": alarm(
            f"A message in {name}'s dead-letter queue: a task failed every receive, or was never readable",
            dead_id,
            "ApproximateNumberOfMessagesVisible",
            0,
            notify,
            condition,
        ),
        f"{queue_id}OldestMessageAlarm": alarm(
            f"The oldest message in {name} has waited longer than OldestMessageAlarmSeconds: too few workers",
            queue_id,
            "ApproximateAgeOfOldestMessage",
            {"Ref": "OldestMessageAlarmSeconds"},
            notify,
            condition,
        ),
    }


def alarm(description, queue_id, metric, threshold, notify, condition):
    return {
        "Type": "AWS::CloudWatch::Alarm",
        **condition,
        "Properties": {
            "AlarmDescription": description,
            "Namespace": "AWS/SQS",
            "MetricName": metric,
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
            "Statistic": "Maximum",
            "Period": ALARM_PERIOD,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": notify,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", help="the worker's package, whose Celery app the settings are read from")
    parser.add_argument("--out", type=Path, help="the file to write (whole, or not at all); else standard output")
    arguments = parser.parse_args(argv)
    conf = symbol_by_name(f"{arguments.package}.celery:app").conf
    text = json.dumps(cloudformation(conf), indent=2) + "\n"
    if arguments.out is None:
        sys.stdout.write(text)
    else:
        arguments.out.parent.mkdir(parents=True, exist_ok=True)
        partial = arguments.out.with_suffix(".partial")
        partial.write_text(text)
        partial.replace(arguments.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
