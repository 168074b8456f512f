import pytest
from kombu import Queue

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.toolbox import Config, ConfigError, Setting, rules
from {{ cookiecutter.package_name }}.toolbox.results import BACKEND_PATH as RESULT_BACKEND_PATH

TOOLBOX_VARIABLES = [name for name in Config.defaults() if name.isupper()]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    celery_variables = [
        "CELERY_BROKER_URL",
        "CELERY_TASK_ACKS_LATE",
        "CELERY_BROKER_TRANSPORT_OPTIONS",
        "CELERY_RESULT_BACKEND",
    ]
    for name in TOOLBOX_VARIABLES + ["QUEUE_PREFIX", *celery_variables]:
        monkeypatch.delenv(name, raising=False)


def test_keyword_beats_environment_beats_default(monkeypatch):
    assert Config().RESULT_DB_HOST == "localhost"
    monkeypatch.setenv("RESULT_DB_HOST", "db.internal")
    assert Config().RESULT_DB_HOST == "db.internal"
    assert Config(RESULT_DB_HOST="given").RESULT_DB_HOST == "given"


def test_result_backend_names_the_psycopg2_driver_and_every_part(monkeypatch):
    monkeypatch.setenv("RESULT_DB_PORT", "6543")
    config = Config(RESULT_DB_USER="worker", RESULT_DB_PASS="p@ss/word", RESULT_DB_NAME="platform")
    assert config.result_backend == (
        f"{RESULT_BACKEND_PATH}+postgresql+psycopg2://worker:p%40ss%2Fword@localhost:6543/platform"
    )


def test_a_database_result_backend_given_gets_the_toolbox_backend():
    config = Config(result_backend="db+sqlite:///results.sqlite")
    assert config.result_backend == f"{RESULT_BACKEND_PATH}+sqlite:///results.sqlite"
    assert Config(result_backend="cache+memory://").result_backend == "cache+memory://"


def test_defaults_follow_the_contract():
    config = Config()
    assert config.RESULT_DB_PORT == 5432 and config.RESULT_DB_NAME == "cadasta"
    assert config.broker_transport == "{{ cookiecutter.package_name }}.toolbox.transport:Transport"
    assert config.broker_transport_options["region"] == "us-west-2"
    assert config.broker_transport_options["queue_name_prefix"] == "dev-"
    assert config.task_track_started is True
    assert config.task_acks_late and config.task_reject_on_worker_lost


def test_queue_prefix_comes_from_QUEUE_PREFIX(monkeypatch):
    monkeypatch.setenv("QUEUE_PREFIX", "staging")
    assert Config().broker_transport_options["queue_name_prefix"] == "staging-"


def test_celery_settings_come_from_CELERY_variables(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "sqs://test:test@localhost:4566")
    monkeypatch.setenv("CELERY_TASK_ACKS_LATE", "false")
    config = Config()
    assert config.broker_url == "sqs://test:test@localhost:4566"
    assert config.task_acks_late is False


@pytest.mark.parametrize("raw", ["['a', 'b']", "a, b", "('a', 'b')"])
def test_lists_from_the_environment(monkeypatch, raw):
    monkeypatch.setenv("QUEUES", raw)
    assert Config().QUEUES == ["a", "b"]


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("RESULT_DB_PORT", "five", "RESULT_DB_PORT='five' is not a valid Python literal; expected int"),
        ("RESULT_DB_PORT", "'5432'", "RESULT_DB_PORT=\"'5432'\" is str; expected int"),
        ("QUEUES", "['a',", "QUEUES=\"['a',\" is not a valid Python literal; expected list"),
    ],
)
def test_unparsable_environment_values_name_the_variable(monkeypatch, name, raw, message):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError) as caught:
        Config()
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"QUEUES": ["celery"]}, "QUEUES lists 'celery', which the toolbox adds itself"),
        ({"QUEUES": ["platform.fifo"]}, "QUEUES lists 'platform.fifo', which the toolbox adds itself"),
        ({"QUEUES": ["a.b"]}, "QUEUES lists 'a.b': SQS queue names hold only"),
        ({"QUEUES": ["q" * 80]}, "longer than the 80 characters SQS allows"),
        ({"QUEUES": ["a", "a"]}, "QUEUES lists 'a' twice"),
        ({"QUEUES": ["a"], "WORKER_QUEUES": ["b"]}, "WORKER_QUEUES lists 'b', which is not in QUEUES"),
        ({"QUEUE_NAME_PREFIX": "dev.1"}, "QUEUE_PREFIX='dev.1'"),
        ({"PLATFORM_QUEUE_NAME": "other.fifo"}, "the platform tracks tasks from 'platform.fifo' only"),
        ({"broker_transport": "sqs"}, "broker_transport='sqs': use the toolbox's SQS transport"),
        ({"broker_transport": "no.such.module:Transport"}, "use the toolbox's SQS transport"),
        ({"SQS_VISIBILITY_TIMEOUT": 10}, "SQS_VISIBILITY_TIMEOUT=10: it must be longer than the long-poll wait (20 s)"),
        ({"SQS_WAIT_TIME_SECONDS": 30}, "SQS_WAIT_TIME_SECONDS=30"),
        ({"CHORD_UNLOCK_MAX_RETRIES": None}, "CHORD_UNLOCK_MAX_RETRIES=None: expected a whole number"),
        ({"QUEUE_NAMES": ["a"]}, "Unknown setting(s) QUEUE_NAMES"),
        ({"Queues": ["a"]}, "Unknown setting(s) Queues"),
        ({"task_acks_lat": True}, "Unknown setting(s) task_acks_lat"),
        ({"QUEUES": None}, "QUEUES=None: expected a list of queue names"),
        ({"QUEUE_NAME_PREFIX": "p" * 67}, "-platform.fifo' is longer than the 80 characters SQS allows"),
        ({"result_serializer": "pickle"}, "the platform reads task messages and results as JSON"),
        ({"broker_transport_options": "x"}, "broker_transport_options='x': expected a dict"),
    ],
)
def test_bad_settings_fail_when_the_config_is_built(overrides, message):
    with pytest.raises(ConfigError) as caught:
        Config(**overrides)
    assert message in str(caught.value)


def test_queues_and_routes_are_derived_from_QUEUES():
    config = Config(QUEUES=["export", "import"])
    assert [(q.name, q.routing_key) for q in config.task_queues] == [
        ("celery", "celery"),
        ("platform.fifo", "#"),
        ("export", "export"),
        ("import", "import"),
    ]
    assert all(isinstance(q, Queue) and q.exchange.type == "topic" for q in config.task_queues)
    (router,) = config.task_routes
    assert router("import.project", (), {}, {})["routing_key"] == "import"


def test_a_comma_separated_string_is_a_list_of_queues():
    assert Config(QUEUES="export, import").QUEUES == ["export", "import"]


def test_given_transport_options_are_laid_over_the_derived_ones():
    options = Config(broker_transport_options={"polling_interval": 5}).broker_transport_options
    assert options["polling_interval"] == 5 and options["queue_name_prefix"] == "dev-"
    assert options["visibility_timeout"] == Config.SQS_VISIBILITY_TIMEOUT


def test_transport_options_from_the_environment_must_be_a_dict(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_TRANSPORT_OPTIONS", "{'polling_interval': 2}")
    assert Config().broker_transport_options["polling_interval"] == 2
    monkeypatch.setenv("CELERY_BROKER_TRANSPORT_OPTIONS", "polling_interval=2")
    with pytest.raises(ConfigError, match="CELERY_BROKER_TRANSPORT_OPTIONS='polling_interval=2' is not a valid"):
        Config()


def test_a_celery_database_backend_in_the_environment_is_refused_with_the_fix(monkeypatch):
    # Celery reads CELERY_RESULT_BACKEND ahead of the configuration: a 'db+' there would bypass the toolbox's backend.
    monkeypatch.setenv("CELERY_RESULT_BACKEND", "db+postgresql+psycopg2://worker:secret@db.internal/cadasta")
    with pytest.raises(ConfigError) as refused:
        Config()
    message = str(refused.value)
    assert "CELERY_RESULT_BACKEND='db+postgresql+psycopg2://worker:***@db.internal/cadasta'" in message
    assert f"{RESULT_BACKEND_PATH}+postgresql+psycopg2://worker:***@db.internal/cadasta" in message
    assert "secret" not in message


def test_a_password_with_an_at_sign_is_masked_whole():
    text = repr(Config(result_backend="db+postgresql+psycopg2://worker:p@ss@word@db.internal/cadasta"))
    assert f"result_backend='{RESULT_BACKEND_PATH}+postgresql+psycopg2://worker:***@db.internal/cadasta'" in text


def test_repr_shows_celery_settings_but_not_the_password():
    text = repr(Config(RESULT_DB_PASS="s3cret"))
    assert "task_track_started=True" in text
    assert "broker_transport='{{ cookiecutter.package_name }}.toolbox.transport:Transport'" in text
    assert "s3cret" not in text and "cadasta:***@" in text
    assert "QUEUES" not in text


def test_worker_settings_list_own_queues_among_the_platform_queues():
    settings = Settings()
    consumed = set(settings.WORKER_QUEUES) - {"celery"}
    assert consumed and consumed <= set(settings.QUEUES)


def test_the_app_reads_every_setting():
    from {{ cookiecutter.package_name }} import app

    assert app.conf.QUEUES == Settings().QUEUES
    assert app.conf.task_default_exchange == "task_exchange"


class WithASettingOfItsOwn(Settings):
    #: A worker's own setting: one line, its default and its check.
    EXPORT_BATCH_SIZE = Setting(100, rules.whole_number(1))
    #: A new default for a toolbox setting keeps the toolbox's check.
    SQS_MAX_RECEIVE_COUNT = 7


def test_a_setting_is_declared_in_one_place_with_its_check(monkeypatch):
    assert WithASettingOfItsOwn().EXPORT_BATCH_SIZE == 100
    monkeypatch.setenv("EXPORT_BATCH_SIZE", "250")
    assert WithASettingOfItsOwn().EXPORT_BATCH_SIZE == 250
    with pytest.raises(ConfigError, match=r"EXPORT_BATCH_SIZE=0: expected a whole number of at least 1\."):
        WithASettingOfItsOwn(EXPORT_BATCH_SIZE=0)
    assert WithASettingOfItsOwn().SQS_MAX_RECEIVE_COUNT == 7
    with pytest.raises(ConfigError, match=r"SQS_MAX_RECEIVE_COUNT=0: SQS takes a whole number from 1 to 1000\."):
        WithASettingOfItsOwn(SQS_MAX_RECEIVE_COUNT=0)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        Config(QUEUES=["a.b"], STARTUP_TIMEOUT=0, task_serializer="pickle")
    assert str(caught.value).count("\n  - ") == 3


def test_a_setting_redeclared_keeps_its_variable_and_check(monkeypatch):
    class Production(Config):
        QUEUE_NAME_PREFIX = Setting("prod")

    assert Production().QUEUE_NAME_PREFIX == "prod"
    monkeypatch.setenv("QUEUE_PREFIX", "staging")
    assert Production().QUEUE_NAME_PREFIX == "staging"
    with pytest.raises(ConfigError, match=r"QUEUE_PREFIX='a\.b'"):
        Production(QUEUE_NAME_PREFIX="a.b")


def test_a_default_changed_after_a_config_was_built_is_read(monkeypatch):
    Settings()
    monkeypatch.setattr(Settings, "SQS_VISIBILITY_TIMEOUT", 120)
    assert Settings().SQS_VISIBILITY_TIMEOUT == 120


def test_the_queues_the_toolbox_adds_follow_the_settings():
    with pytest.raises(ConfigError, match="QUEUES lists 'main', which the toolbox adds itself"):
        Config(task_default_queue="main", task_default_routing_key="main", QUEUES=["main"])
    assert Config(task_default_queue="main", task_default_routing_key="main", QUEUES=["celery"]).QUEUES == ["celery"]
