"""The operations settings: a bad value stops the start-up naming the variable."""

import pytest

from tests.config.test_settings import run_check


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"METRICS_TOKEN": "too-short"}, "METRICS_TOKEN"),
        ({"OPS_HEARTBEAT_SECONDS": "5"}, "OPS_HEARTBEAT_SECONDS"),
        ({"OPS_HEARTBEAT_SECONDS": "a minute"}, "OPS_HEARTBEAT_SECONDS"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_value_fails_at_start_naming_the_variable(overrides, variable):
    result = run_check(**overrides)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"Configuration error: Environment variable {variable}")


def test_good_operations_values_start():
    result = run_check(
        METRICS_TOKEN="a-metrics-token-of-enough-length-0123",
        OPS_HEARTBEAT_SECONDS="30",
        LOG_FORMAT="plain",
        LOG_LEVEL="WARNING",
    )
    assert result.returncode == 0, result.stderr
