import pytest


@pytest.fixture(autouse=True)
def _eager_unless_worker(request):
    """Segment runs compute in-process, except in the tests that start real workers."""
    if request.node.get_closest_marker("worker"):
        yield
        return
    from brokercrm.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old
