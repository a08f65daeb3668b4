"""The seed's command lines, verbatim, plus the CLI's own promises."""
import json
import subprocess


def test_seed_session(run, openssl_keys):
    jwks = run("with_public", "public_key.pem", "jwks")
    assert jwks.returncode == 0, jwks.stderr
    (openssl_keys / "certs.json").write_text(jwks.stdout)
    key = json.loads(jwks.stdout)["keys"][0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["e"] == "AQAB"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()
    assert jwks.stdout.startswith("{\n  "), "indented JSON, as the seed prints it"

    token = run("with_private", "private_key.pem", "with_jwks", "certs.json", "claims", '{ "hello" : "world" }', "token")
    assert token.returncode == 0, token.stderr
    (openssl_keys / "token.txt").write_text(token.stdout)
    assert token.stdout.count(".") == 2

    valid = run("with_jwks", "certs.json", "from_file", "token.txt", "validate")
    assert (valid.returncode, valid.stdout, valid.stderr) == (0, "", "")

    decoded = run("from_file", "token.txt", "decode")
    assert (decoded.returncode, decoded.stdout) == (0, "hello: world\n")

    # The kid is the RFC 7638 thumbprint: the same on every run.
    again = run("with_public", "public_key.pem", "jwks")
    assert json.loads(again.stdout)["keys"][0]["kid"] == key["kid"]


def test_private_key_alone_publishes_and_validates(run, openssl_keys):
    from_private = run("with_private", "private_key.pem", "jwks")
    from_public = run("with_public", "public_key.pem", "jwks")
    assert from_private.stdout == from_public.stdout
    token = run("with_private", "private_key.pem", "claims", '{"a": 1}', "token").stdout
    (openssl_keys / "t.txt").write_text(token)
    assert run("with_private", "private_key.pem", "from_file", "t.txt", "validate").returncode == 0


def test_invalid_tokens_exit_1_with_the_reason(run, openssl_keys):
    (openssl_keys / "certs.json").write_text(run("with_public", "public_key.pem", "jwks").stdout)
    token = run("with_private", "private_key.pem", "claims", '{"exp": 1000}', "token").stdout.strip()
    (openssl_keys / "expired.txt").write_text(token)
    expired = run("with_jwks", "certs.json", "from_file", "expired.txt", "validate")
    assert expired.returncode == 1
    assert expired.stderr.strip() == "oatk: token expired at 1970-01-01T00:16:40Z"
    head, body, sig = token.split(".")
    (openssl_keys / "tampered.txt").write_text(f"{head}.{body}x.{sig}")
    tampered = run("with_jwks", "certs.json", "from_file", "tampered.txt", "validate")
    assert tampered.returncode == 1 and tampered.stderr


def test_stdin_and_bearer_prefix(run, openssl_keys):
    token = run("with_private", "private_key.pem", "claims", '{"hello": "world"}', "token").stdout
    piped = run("with_private", "private_key.pem", "from_stdin", "validate", stdin="Bearer " + token)
    assert piped.returncode == 0, piped.stderr
    header = run("from_stdin", "header", stdin=token)
    assert header.stdout.splitlines()[0] == "alg: RS256"


def test_clipboard_without_a_clipboard_is_a_clear_error(run, openssl_keys):
    result = run("from_clipboard", "decode", env={"PATH": "/nonexistent"})
    assert result.returncode == 1
    assert "clipboard" in result.stderr


def test_usage_errors_exit_2(run):
    for args in (["bogus"], [], ["with_private"], ["keys", "nope"], ["with_algorithm", "HS256"]):
        result = run(*args)
        assert result.returncode == 2, args
        assert "Usage: oatk" in result.stderr
    helped = run("--help")
    assert helped.returncode == 0 and "Examples:" in helped.stdout
    assert run("version").stdout.strip().count(".") == 2


def test_file_errors_name_the_file(run, tmp_path):
    missing = run("with_private", "nope.pem", "token")
    assert missing.returncode == 1 and "nope.pem" in missing.stderr
    (tmp_path / "junk.pem").write_text("junk")
    junk = run("with_public", "junk.pem", "jwks")
    assert junk.returncode == 1 and "junk.pem" in junk.stderr
    (tmp_path / "bad.json").write_text('{"keys": 3}')
    bad = run("with_jwks", "bad.json", "jwks")
    assert bad.returncode == 1 and "bad.json" in bad.stderr


def test_keys_generate(run, tmp_path):
    for alg in ("RS256", "ES256", "EdDSA"):
        out = tmp_path / alg
        result = run("keys", "generate", "--alg", alg, "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert (out / "private_key.pem").stat().st_mode & 0o777 == 0o600
        jwks = json.loads(run("with_private", str(out / "private_key.pem"), "jwks").stdout)
        assert jwks["keys"][0]["alg"] == alg
        refused = run("keys", "generate", "--alg", alg, "--out", str(out))
        assert refused.returncode == 1 and "--force" in refused.stderr, "never overwrite a private key silently"


def test_server_run_prints_its_url_first(oatk_bin, tmp_path):
    proc = subprocess.Popen([oatk_bin, "server", "run", "--port", "0", "--memory"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://localhost:")
        import urllib.request
        with urllib.request.urlopen(url + "/.well-known/openid-configuration", timeout=10) as r:
            assert json.load(r)["issuer"] == url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    log = proc.stderr.read()
    assert "GET /.well-known/openid-configuration 200" in log, log
    assert not (tmp_path / ".oatk").exists(), "--memory writes nothing"
