import pytest

from tests.intacct.sandbox_routing import make_client


@pytest.fixture
def client(sandbox):
    return make_client(location_id="E100")
