"""The answers the template is baked with in its tests, and where the results land."""

MATRIX = {
    "defaults": {},
    "multi-word-service": {"service_name": "land-record-export-worker"},
    "several-queues": {"service_name": "geo-worker", "queues": "geo_import, geo-export,tiles", "platform_queues": ""},
    "custom-prefix": {"service_name": "search-worker", "queue_prefix": "staging-eu", "python_version": "3.13"},
}


def package_name(answers):
    return answers.get("package_name", answers.get("service_name", "example-worker").replace("-", "_"))
