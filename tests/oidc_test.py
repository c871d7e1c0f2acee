"""OIDC bearer tokens end to end: `jit serve` with auth.oidc and a JWKS file accepts RS256
tokens signed by the configured key (mapping the user to Identity Center through identitystore)
and refuses forged, expired and `alg: none` tokens. Keys are made by the test with openssl."""

import base64
import json
import os
import subprocess
import tempfile
import time
import unittest

from harness import Server, http
from reload_test import CONFIG

ISSUER = "https://idp.example.com"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_key(folder, name):
    path = os.path.join(folder, name + ".pem")
    subprocess.run(["openssl", "genrsa", "-out", path, "2048"], check=True,
                   capture_output=True)
    text = subprocess.run(["openssl", "rsa", "-in", path, "-noout", "-modulus"], check=True,
                          capture_output=True, text=True).stdout
    n = bytes.fromhex(text.strip().split("=", 1)[1])
    return path, {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": name,
                  "n": b64url(n), "e": b64url((65537).to_bytes(3, "big"))}


def sign(key_path, kid, claims, alg="RS256"):
    header = b64url(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    if alg == "none":
        return f"{header}.{payload}."
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_path], input=signing_input,
                         check=True, capture_output=True).stdout
    return f"{header}.{payload}.{b64url(sig)}"


class OidcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="jit-oidc-")
        d = cls.dir.name
        cls.key, jwk = make_key(d, "k1")
        cls.other_key, _ = make_key(d, "k2")  # not published: forgeries
        jwks = os.path.join(d, "jwks.json")
        with open(jwks, "w", encoding="utf-8") as f:
            json.dump({"keys": [jwk]}, f)
        config = os.path.join(d, "jit.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(CONFIG.replace("READONLY_MAX", "8h"))
            f.write(f"auth:\n  oidc: {{issuer: \"{ISSUER}\", audience: jit, "
                    f"jwks_file: {jwks}}}\n")
        cls.server = Server(data_dir=os.path.join(d, "data"), extra_args=["--config", config])
        os.makedirs(cls.server.data_dir)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.dir.cleanup()

    def claims(self, **over):
        now = int(time.time())
        c = {"iss": ISSUER, "aud": "jit", "iat": now, "exp": now + 300,
             "preferred_username": "alice", "groups": ["engineers"]}
        c.update(over)
        return c

    def test_valid_token_is_accepted_and_mapped_to_identity_center(self):
        token = sign(self.key, "k1", self.claims())
        status, me = http(self.server.url, "GET", "/v1/me", token=token)
        self.assertEqual(status, 200, me)
        self.assertEqual(me["username"], "alice")
        self.assertEqual(me["groups"], ["engineers"])
        status, req = http(self.server.url, "POST", "/v1/requests", token=token,
                           body={"account": "sandbox", "permission_set": "ReadOnly",
                                 "duration": "10m", "reason": "oidc"})
        self.assertEqual(status, 201, req)
        self.assertEqual(req["requester"], "alice")

    def test_user_unknown_to_identity_center_gets_422(self):
        token = sign(self.key, "k1", self.claims(preferred_username="mallory"))
        status, body = http(self.server.url, "POST", "/v1/requests", token=token,
                            body={"account": "sandbox", "permission_set": "ReadOnly",
                                  "duration": "10m", "reason": "oidc"})
        self.assertEqual(status, 422, body)
        self.assertIn("not known to Identity Center", body["error"]["message"])

    def test_hostile_tokens_are_refused(self):
        cases = {
            "forged with another key": sign(self.other_key, "k1", self.claims()),
            "alg none": sign(self.key, "k1", self.claims(), alg="none"),
            "expired": sign(self.key, "k1", self.claims(exp=int(time.time()) - 3600)),
            "wrong audience": sign(self.key, "k1", self.claims(aud="other")),
            "wrong issuer": sign(self.key, "k1", self.claims(iss="https://evil.example.com")),
            "garbage": "not.a.token",
        }
        for name, token in cases.items():
            with self.subTest(name):
                status, body = http(self.server.url, "GET", "/v1/me", token=token)
                self.assertEqual(status, 401, body)
                self.assertEqual(body["error"]["code"], "unauthenticated")


if __name__ == "__main__":
    unittest.main()
