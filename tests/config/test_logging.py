import logging
import sys

from config.logging import MASK, RedactingFormatter, RedactSecretsFilter, redact


def test_xml_passwords_and_session_ids_are_masked():
    xml = (
        "<login><userid>ws</userid><password>S3cr&amp;t</password></login>"
        "<sessionid>abc.def..</sessionid><senderid>Sender</senderid>"
    )
    assert redact(xml) == (
        f"<login><userid>ws</userid><password>{MASK}</password></login>"
        f"<sessionid>{MASK}</sessionid><senderid>Sender</senderid>"
    )


def test_key_value_secrets_are_masked():
    assert (
        redact("login failed password=hunter2 user=bob") == f"login failed password={MASK} user=bob"
    )
    assert redact('{"sessionid": "xyz"}') == f'{{"sessionid": "{MASK}"}}'


def test_the_filter_rewrites_records_that_carry_a_secret(caplog):
    logger = logging.getLogger("tests.redaction")
    logger.addFilter(RedactSecretsFilter())
    try:
        with caplog.at_level(logging.INFO, logger="tests.redaction"):
            logger.info("sent %s", "<password>topsecret</password>")
    finally:
        logger.filters.clear()
    assert "topsecret" not in caplog.text
    assert f"<password>{MASK}</password>" in caplog.text


def test_prefixed_names_quoted_values_and_csrf_tokens_are_masked():
    assert redact("INTACCT_SENDER_PASSWORD=abc") == f"INTACCT_SENDER_PASSWORD={MASK}"
    assert redact("Credentials(password='a b, c')") == f"Credentials(password='{MASK}')"
    assert (
        redact("{'password': 'it\\'s x', 'user': 'u'}") == f"{{'password': '{MASK}', 'user': 'u'}}"
    )
    assert redact("csrftoken=abc; sessionid=def") == f"csrftoken={MASK}; sessionid={MASK}"
    assert redact("password_encrypted=gAAAA") == "password_encrypted=gAAAA"  # a token, no secret


def test_the_formatter_masks_the_traceback_and_leaves_it_masked_for_other_handlers():
    formatter = RedactingFormatter("%(message)s")
    try:
        raise ValueError("<password>topsecret</password>")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    text = formatter.format(record)
    assert "topsecret" not in text and "ValueError: <password>***</password>" in text
    assert "topsecret" not in logging.Formatter("%(message)s").format(record)  # cached, masked
