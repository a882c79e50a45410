"""Shared fixtures: the local stack for every test marked ``integration``.

Any test marked ``@pytest.mark.integration`` gets the running stack automatically; a test
that needs the configuration asks for the ``stack`` fixture by name::

    @pytest.mark.integration
    def test_offers_reach_elasticsearch(stack: Config) -> None:
        requests.get(f"{stack.elasticsearch.url}/offers/_count")

The ``stack`` fixture (session scope) makes sure Kafka (127.0.0.1:9092), Elasticsearch
(127.0.0.1:9200) and the Flink cluster (http://127.0.0.1:8081) are up, with the topics
``mall-pings``, ``mall-pings-dlq``, ``offers`` and the indices ``offers``, ``visits``,
``footfall``:

- services already running and healthy (``make up``) are reused and left running;
- missing ones are fetched if needed (``python -m stack fetch``, a no-op when cached),
  started, and stopped again when the last test session that uses them ends: every session
  holds a lease on the stack (``.state/leases/<pid>``), so a session that ends never stops
  services another running session reuses (see ``stack.lease``).

A stack that cannot start fails the tests that need it with the service's one-line error
(which names its log file); it never skips them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pizzario import Config, load_config


@pytest.fixture(scope="session")
def stack() -> Iterator[Config]:
    """The running local stack; yields the configuration that points at it."""
    from stack import FetchError, StackError, fetch, find_java17
    from stack.control import leave, up
    from stack.layout import Layout

    errors = (FetchError, StackError, OSError)
    config = load_config()
    layout = Layout.from_config(config)
    try:
        fetch(layout, find_java17(config.stack.java_home))
        up(config, layout, lease=True)
    except errors as error:
        problem = f"the local stack did not start: {error}"
        try:
            leave(config, layout)
        except errors as also:
            problem += f"; stopping what did start failed too: {also}"
        pytest.fail(problem, pytrace=False)
    try:
        yield config
    finally:
        try:
            leave(config, layout)
        except errors as error:
            pytest.fail(f"the local stack did not stop cleanly: {error}", pytrace=False)


@pytest.fixture(autouse=True)
def _stack_for_integration_tests(request: pytest.FixtureRequest) -> None:
    """Bring the stack up before the first test marked ``integration``."""
    if request.node.get_closest_marker("integration") is not None:
        request.getfixturevalue("stack")
