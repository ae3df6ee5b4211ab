import logging

from config.logging import MASK, RedactSecretsFilter, redact


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
