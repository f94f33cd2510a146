"""Several `airflow` commands in one process (ggzy.airflow_cli) behave as the `airflow`
executable would one after the other: each one's effect in the metadata database, a failure's
exit code (1, as `airflow pools get` of a missing pool exits) and message, and nothing run after
a failure. Real Airflow on a SQLite metadata database of the test's own."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.pipeline  # Airflow's migrations from an empty database and two starts: ~14 s


def test_commands_run_in_order_and_a_failure_stops_the_rest(tmp_path):
    from ggzy.airflow_cli import run_commands
    from ggzy.airflow_env import airflow_env

    env = airflow_env()
    env.update(AIRFLOW_HOME=str(tmp_path), AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{tmp_path / 'airflow.db'}")
    done = run_commands([["db", "migrate"], ["pools", "set", "night_pool", "1", "one at a time"],
                         ["pools", "get", "night_pool"], ["pools", "get", "no_such_pool"],
                         ["pools", "set", "after_the_failure", "1", "x"]], env, check=False)
    assert "night_pool" in done.stdout and "one at a time" in done.stdout
    assert done.returncode == 1 and "no_such_pool does not exist" in done.stderr
    listed = run_commands([["pools", "list"]], env).stdout
    assert "night_pool" in listed and "after_the_failure" not in listed
    # checked, the failure stops the caller with the command and Airflow's own message
    with pytest.raises(SystemExit) as stopped:
        run_commands([["pools", "get", "no_such_pool"]], env)
    assert "airflow pools get no_such_pool: failed with exit code 1" in str(stopped.value.code)
    assert "no_such_pool does not exist" in str(stopped.value.code)
