"""Scale-out tests: real `manage.py qcluster` processes on Redis and PostgreSQL.

They run only when selected (`bin/test -m cluster -p no:xdist` with DATABASE_URL on
PostgreSQL; `.ci/run` does so in its PostgreSQL step): a plain `bin/test` deselects them.
"""


def pytest_collection_modifyitems(config, items):
    """Leave cluster tests out unless the run selects them with a -m expression."""
    if "cluster" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("cluster") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
