"""The shared vectors (tests/vectors/tokens.json), as every binding runs them."""

from __future__ import annotations

import json

import oatk
from oatk import OAuthToolkit

from conftest import REPO


def test_shared_vectors(capsys) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads((REPO / "tests/vectors/tokens.json").read_text())
    ran = 0
    for v in doc["vectors"]:
        t = OAuthToolkit().with_jwks(doc["jwks"])
        t.with_now(doc["now"])
        if v.get("client_id"):
            t.with_client_id(v["client_id"])
        if v.get("issuer"):
            t.with_issuer(v["issuer"])
        expect = v["expect"]
        try:
            claims = t.validate(v["token"])
        except oatk.OatkError as e:
            assert e.code == expect.get("code"), f"{v['name']}: {e.code} {e}"
            if expect["code"] in ("MALFORMED", "SIGNATURE", "EXPIRED", "UNKNOWN_KEY", "AUDIENCE", "ISSUER"):
                assert isinstance(e, oatk.InvalidTokenError)
        else:
            assert claims == expect.get("ok"), v["name"]
        ran += 1
    with capsys.disabled():
        print(f"\nran {ran} shared vectors")
    assert ran >= 20, f"too few vectors ran: {ran}"
