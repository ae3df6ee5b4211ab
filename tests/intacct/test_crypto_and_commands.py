import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from accounting import demo_data
from intacct import messages as msg
from intacct import models as m
from intacct.connections import crypto, services
from tests import factories as f

NEW, OLD = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_a_secret_round_trips_and_is_not_readable_at_rest(settings):
    settings.INTACCT_FERNET_KEYS = [NEW]
    token = crypto.encrypt("S3cret&<pass>")
    assert "S3cret" not in token
    assert crypto.decrypt(token) == "S3cret&<pass>"


def test_old_keys_still_decrypt_and_rotation_moves_to_the_newest(settings):
    settings.INTACCT_FERNET_KEYS = [OLD]
    token = crypto.encrypt("pw")
    settings.INTACCT_FERNET_KEYS = [NEW, OLD]
    assert crypto.decrypt(token) == "pw"
    rotated = crypto.rotate(token)
    settings.INTACCT_FERNET_KEYS = [NEW]
    assert crypto.decrypt(rotated) == "pw"


def test_a_wrong_key_fails_loudly(settings):
    settings.INTACCT_FERNET_KEYS = [OLD]
    token = crypto.encrypt("pw")
    settings.INTACCT_FERNET_KEYS = [NEW]
    with pytest.raises(crypto.CredentialDecryptError, match="cannot be decrypted"):
        crypto.decrypt(token)


@pytest.mark.django_db
def test_rotate_keys_command_re_encrypts_every_password(settings):
    settings.INTACCT_FERNET_KEYS = [OLD]
    connection = m.Connection.objects.create(subsidiary=f.SubsidiaryFactory())
    connection.set_password("pw-1")
    connection.save()
    settings.INTACCT_FERNET_KEYS = [NEW, OLD]
    out = io.StringIO()
    call_command("intacct_rotate_keys", stdout=out)
    assert "Re-encrypted 1 stored password(s)." in out.getvalue()
    settings.INTACCT_FERNET_KEYS = [NEW]
    connection.refresh_from_db()
    assert connection.get_password() == "pw-1"


def _connected(subsidiary):
    connection = services.connection_start(subsidiary=subsidiary)
    services.connection_set_destination(
        connection=connection, destination=m.Connection.Destination.MATCHING_ENTITY
    )
    return services.connection_connect(
        connection=connection,
        company_id=demo_data.SAGE_COMPANY_ID,
        user_id=demo_data.SAGE_USER_ID,
        password=demo_data.SAGE_USER_PASSWORD,
    )


def test_intacct_check_prints_each_problem_and_exits_non_zero(sandbox):
    connection = _connected(f.SubsidiaryFactory(code="RF", name="Ridgeline Freight"))
    m.AccountMapping.objects.create(connection=connection, side="ar", gl_account_no="4090")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 connection"):
        call_command("intacct_check", "--subsidiary", "RF", stdout=out)
    text = out.getvalue()
    assert "RF Ridgeline Freight: 3 problem(s)" in text
    assert (
        "Mapped GL account 4090 (AR (revenue) Master → 4090) is inactive in Sage. (fix it in "
        "the AR Settings step)" in text
    )


def test_intacct_check_passes_a_clean_connection(sandbox):
    connection = _connected(f.SubsidiaryFactory(code="RF", name="Ridgeline Freight"))
    for target, field in (("ar_invoice", "LOAD_NUMBER"), ("ap_bill", "TRIP_NUMBER")):
        m.CustomFieldMapping.objects.create(
            connection=connection, target=target, sage_field_id=field, source="load_number"
        )
    out = io.StringIO()
    call_command("intacct_check", stdout=out)
    assert "RF Ridgeline Freight: OK" in out.getvalue()


def test_intacct_check_says_once_which_address_it_tried_and_how_to_change_it(sandbox, settings):
    _connected(f.SubsidiaryFactory(code="RF", name="Ridgeline Freight"))
    # The server runs on another port: nothing answers at the configured address.
    settings.INTACCT_ENDPOINT_URL = "http://127.0.0.1:8001/intacct-sandbox/xmlgw.phtml"
    settings.INTACCT_MAX_RETRIES = 0
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 connection"):
        call_command("intacct_check", stdout=out)

    text = out.getvalue()
    expected = msg.TEST_UNREACHABLE.format(
        detail="ConnectionError", endpoint=settings.INTACCT_ENDPOINT_URL
    )
    assert f"  - {expected}\n" in text
    assert text.count("could not be reached") == 1
    assert text.count(settings.INTACCT_ENDPOINT_URL) == 1
    assert "what you entered is kept" not in text  # no wizard wording in a command


def test_intacct_export_explains_its_batch_size_option(capsys):
    with pytest.raises(SystemExit):
        call_command("intacct_export", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "--batch-size BATCH_SIZE Documents sent to Sage in one request" in text


@pytest.mark.django_db
def test_ensure_schedules_on_a_fresh_demo_says_why_there_are_none_and_what_creates_them():
    out = io.StringIO()
    call_command("ensure_schedules", stdout=out)
    text = out.getvalue()
    assert text.startswith("No schedules yet: no subsidiary is connected to Sage Intacct.")
    assert "Connect a subsidiary" in text
