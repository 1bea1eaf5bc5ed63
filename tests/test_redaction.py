"""Secrets are found by the key that names them and by their shape, in every spelling."""

import pytest

from analysis.redaction import redact

#: the AWS documentation's example keys: secret-shaped, and public
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + "Ab1Cd2Ef3" * 8
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLXh5eg"


@pytest.mark.parametrize("text, kept", [
    ('"SecretAccessKey" : "abc", "Token": "xyz", other', '"SecretAccessKey" : "<redacted>", '
     '"Token": "<redacted>", other'),
    ('{"SecretAccessKey": "a\\"b", "Code": "Success"}', '{"SecretAccessKey": "<redacted>", '
     '"Code": "Success"}'),
    ('{\\"Token\\": \\"abc\\"}', '{\\"Token\\": \\"<redacted>\\"}'),
    ("aws-secret-access-key: short", "aws-secret-access-key: <redacted>"),
    ("AWS_SECRET_ACCESS_KEY=short other=1", "AWS_SECRET_ACCESS_KEY=<redacted> other=1"),
    ("secret_key=short", "secret_key=<redacted>"),
    ("aws_session_token: short", "aws_session_token: <redacted>"),
    ('"authorization": "Bearer abc.def"', '"authorization": "<redacted>"'),
    ("Authorization: Bearer abc.def, status=200", "Authorization: <redacted>, status=200"),
    ("cookie=sid=abc; theme=dark, status=200", "cookie=<redacted>, status=200"),
    ("GET /o?X-Amz-Security-Token=abc%2F&X-Amz-Credential=k%2F2013&x=1",
     "GET /o?X-Amz-Security-Token=<redacted>&X-Amz-Credential=<redacted>&x=1"),
    ('-H "X-aws-ec2-metadata-token: AQAEAabc=="', '-H "X-aws-ec2-metadata-token: <redacted>"'),
    ('"AccessKeyId": "short"', '"AccessKeyId": "<redacted>"'),
])
def test_values_named_by_a_secret_key_are_redacted(text, kept):
    assert redact(text) == kept


@pytest.mark.parametrize("secret", [SECRET_KEY, SESSION_TOKEN, JWT, "AKIAIOSFODNN7EXAMPLE",
                                    "ASIAY34FZKBOKMUTVV7A", "0123456789abcdef" * 4])
def test_secret_shapes_are_redacted_wherever_they_stand(secret):
    assert secret not in redact(f"GET /x/{secret} HTTP/1.1 ua={secret}")
    assert redact(secret) == "<redacted>"


@pytest.mark.parametrize("text", [
    "/latest/meta-data/iam/security-credentials/search-api-role",
    "x-aws-ec2-metadata-token-ttl-seconds: 21600",
    "[default-elasticsearch-master-headless-9200]",
    "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0",
    "tokenizer=whitespace",
])
def test_ordinary_text_is_kept(text):
    assert redact(text) == text


def test_utf16_read_as_utf8_is_redacted_too():
    text = '{"SecretAccessKey": "abc"}'.encode("utf-16-le").decode("utf-8")
    assert "abc" not in redact(text)


def test_a_value_cut_off_inside_its_quotes_is_redacted():
    cut = '{"Code": "Success", "Token": "abcdef'
    assert redact(cut) == '{"Code": "Success", "Token": "<redacted>"'
