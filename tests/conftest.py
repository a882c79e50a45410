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
  started, and stopped again when the test session ends.

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
    from stack import fetch, find_java17
    from stack.control import down, up
    from stack.layout import Layout

    config = load_config()
    layout = Layout.from_config(config)
    try:
        fetch(layout, find_java17(config.stack.java_home))
        started = up(config, layout)
    except (RuntimeError, OSError) as error:
        pytest.fail(f"the local stack did not start: {error}", pytrace=False)
    try:
        yield config
    finally:
        if started:
            down(config, layout, only=started)


@pytest.fixture(autouse=True)
def _stack_for_integration_tests(request: pytest.FixtureRequest) -> None:
    """Bring the stack up before the first test marked ``integration``."""
    if request.node.get_closest_marker("integration") is not None:
        request.getfixturevalue("stack")
