"""Bad answers are refused before anything is written, with a message that says why."""

import json
import re
import subprocess

import pytest

from tests.conftest import BIN, TEMPLATE

BAD_ANSWERS = [
    ({"service_name": "Export_Worker"}, "service_name 'Export_Worker' is not a legal repository name"),
    ({"service_name": "export--worker"}, "service_name 'export--worker' is not a legal repository name"),
    ({"package_name": "export-worker"}, "package_name 'export-worker' is not a legal Python package name"),
    ({"package_name": "1export"}, "package_name '1export' is not a legal Python package name"),
    ({"package_name": "class"}, "package_name 'class' is not a legal Python package name"),
    ({"package_name": "celery"}, "package_name 'celery' would shadow the module"),
    ({"package_name": "json"}, "package_name 'json' would shadow the module"),
    ({"queues": "export.v2"}, "queues lists 'export.v2', which SQS would refuse"),
    ({"queues": "ex port"}, "queues lists 'ex port', which SQS would refuse"),
    ({"queues": "q" * 77}, "SQS allows at most 80"),
    ({"queues": "celery"}, "queues lists 'celery', which is reserved"),
    ({"queues": "export,platform.fifo"}, "queues lists 'platform.fifo', which is reserved"),
    ({"queues": "export, export"}, "queues lists 'export' twice"),
    ({"queues": " , "}, "queues is empty"),
    ({"platform_queues": "search,search"}, "platform_queues lists 'search' twice"),
    ({"platform_queues": "a/b"}, "platform_queues lists 'a/b', which SQS would refuse"),
    ({"queue_prefix": "dev.eu"}, "queue_prefix 'dev.eu' is not usable in SQS queue names"),
    ({"queue_prefix": "p" * 67}, "is not usable in SQS queue names"),
    ({"description": 'Says "hi"'}, "description 'Says \"hi\"' cannot go into pyproject.toml"),
    ({"author_name": "A\\B"}, "author_name 'A\\\\B' cannot go into pyproject.toml"),
    ({"description": "two\nlines"}, "use one line of printable text"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=[m for _, m in BAD_ANSWERS])
def test_bad_answer_is_refused_and_writes_nothing(cookies, capfd, answers, message):
    result = cookies.bake(extra_context=answers)
    assert result.exit_code != 0 and result.exception is not None
    errors = capfd.readouterr().err
    assert message in errors
    assert "Nothing was written" in errors
    # pytest-cookies makes one empty folder per bake; the project would go inside it.
    output_dir = cookies._output_factory.__self__
    assert [str(p) for p in output_dir.visit() if p.dirpath() != output_dir] == []


def test_every_problem_is_reported_at_once(cookies, capfd):
    cookies.bake(extra_context={"service_name": "Bad", "queues": "celery"})
    errors = capfd.readouterr().err
    assert "service_name 'Bad'" in errors and "queues lists 'celery'" in errors


def test_good_answers_print_the_next_steps(cookies, capfd):
    result = cookies.bake(extra_context={"service_name": "export-worker"})
    assert result.exit_code == 0, result.exception
    out = capfd.readouterr().out
    assert "cd export-worker" in out and "make install" in out and "make e2e" in out


def test_every_question_is_asked_in_words():
    answers = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    questions = {name for name in answers if not name.startswith("_")}
    assert questions - set(answers["__prompts__"]) == set(), "these questions would show their raw key names"


#: (queues answer, queue_prefix answer): names both sides must judge alike, at and past each rule's edge.
CONTRACT_SAMPLES = [
    ("export", "dev"),
    ("a-b_c", "dev"),
    ("export.v2", "dev"),
    ("ex port", "dev"),
    ("celery", "dev"),
    ("platform.fifo", "dev"),
    ("q" * 72, "dev"),  # dev-q…q-dlq: 80 characters
    ("q" * 73, "dev"),  # 81
    ("export", "p" * 66),  # p…p-platform.fifo: 80 characters
    ("export", "p" * 67),  # 81
    ("export", "dev.eu"),
]


def test_the_answer_check_and_the_baked_config_apply_the_same_queue_rules(cookies, baked_matrix, worker_python):
    """The hook loads the baked toolbox's contract module: a name it accepts, the worker's Config accepts."""
    hook = [cookies.bake(extra_context={"queues": q, "queue_prefix": p}).exit_code == 0 for q, p in CONTRACT_SAMPLES]
    judge = (
        "import json, sys\n"
        "from example_worker.toolbox import Config, ConfigError\n"
        "verdicts = []\n"
        "for queue, prefix in json.load(sys.stdin):\n"
        "    try:\n"
        "        Config(QUEUES=[queue], WORKER_QUEUES=[], QUEUE_NAME_PREFIX=prefix)\n"
        "    except ConfigError:\n"
        "        verdicts.append(False)\n"
        "    else:\n"
        "        verdicts.append(True)\n"
        "print(json.dumps(verdicts))\n"
    )
    result = subprocess.run(
        [str(worker_python), "-c", judge],
        input=json.dumps(CONTRACT_SAMPLES),
        cwd=baked_matrix["defaults"],
        capture_output=True,
        text=True,
        check=True,
    )
    config = json.loads(result.stdout)
    assert hook == config, list(zip(CONTRACT_SAMPLES, hook, config, strict=True))
    assert hook.count(True) == 4, hook  # both sides can still say no, and yes


def cookiecutter_cli(tmp_path, *answers):
    """The cookiecutter command a user runs, with these answers; its output, both streams."""
    command = [BIN / "cookiecutter", TEMPLATE, "--no-input", "-o", tmp_path, *answers]
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout + result.stderr


def test_one_mistake_is_one_error_and_no_traceback(tmp_path):
    code, output = cookiecutter_cli(tmp_path, "service_name=Export_Worker")
    assert code != 0 and list(tmp_path.iterdir()) == []
    errors = [line for line in output.splitlines() if line.startswith("ERROR: ") and "Stopping generation" not in line]
    assert errors == [line for line in errors if "service_name 'Export_Worker'" in line] and len(errors) == 1, output
    assert "Traceback" not in output, output


def test_a_derived_answer_given_explicitly_is_still_checked(cookies, capfd):
    cookies.bake(extra_context={"service_name": "Bad", "package_name": "1x"})
    errors = capfd.readouterr().err
    assert "service_name 'Bad'" in errors and "package_name '1x'" in errors


def test_the_readme_lists_every_question_in_the_order_asked():
    questions = [name for name in json.loads((TEMPLATE / "cookiecutter.json").read_text()) if not name.startswith("_")]
    readme = (TEMPLATE / "README.md").read_text()
    table = readme[readme.index("| answer | default | rule |") :].split("\n\n")[0]
    assert re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE) == questions
