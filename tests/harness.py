"""Shared helpers for the cross-process tests: run the real `jit` binary as a server and as a
client, on loopback, in a temporary data folder."""

import datetime
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

JIT = os.environ.get("JIT_BINARY", "build/debug/jit")


class Server:
    """`jit serve --dev` on 127.0.0.1, port chosen by the kernel. With dev=False, `jit serve`
    without --dev (give it --config in extra_args, and the AWS settings in env)."""

    def __init__(self, data_dir=None, extra_args=(), dev=True, env=None):
        self._own_dir = None
        if data_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="jit-e2e-")
            data_dir = self._own_dir.name
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.dev = dev
        self.env = env
        self.proc = None
        self.url = None
        self.emulator_url = None
        self.banner = ""
        self.log_path = os.path.join(data_dir, "server.log")

    def start(self, timeout=30):
        # A restart after kill() or stop(): the old process's pipe and log are done with.
        if self.proc is not None and self.proc.poll() is not None:
            self.proc.stdout.close()
            self._log.close()
        self._log = open(self.log_path, "ab")
        log = self._log
        self.proc = subprocess.Popen(
            [JIT, "serve"] + (["--dev"] if self.dev else [])
            + ["--listen", "127.0.0.1:0", "--data", self.data_dir] + self.extra_args,
            stdout=subprocess.PIPE, stderr=log, text=True, env=self.env)
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("server exited: " + self.read_log())
            lines.append(line)
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if m:
                self.url = m.group(1)
                break
        if self.url is None:
            raise RuntimeError("server did not print its address")
        if not self.dev:
            self.banner = "".join(lines)
            self.wait_ready(timeout)
            return self
        # Read the rest of the banner (it ends with the "Try this" lines).
        for _ in range(12):
            line = self.proc.stdout.readline()
            lines.append(line)
            if "jit approve" in line:
                break
        self.banner = "".join(lines)
        m = re.search(r"Identity Center: emulator at (http://127\.0\.0\.1:\d+)", self.banner)
        self.emulator_url = m.group(1) if m else None
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _ = http(self.url, "GET", "/readyz")
            if status == 200:
                return time.monotonic()
            time.sleep(0.02)
        raise RuntimeError("server never became ready")

    def read_log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def kill(self):
        """SIGKILL: no clean-up of any kind, like a crash or a power cut of the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode if self.proc else None

    def close(self):
        self.stop()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "_log", None):
            self._log.close()
        if self._own_dir:
            self._own_dir.cleanup()


class Emulator:
    """`jit emulator` (the local Identity Center) on 127.0.0.1, port chosen by the kernel, with
    its own key pair. `env()` gives what a broker needs to reach it as if it were AWS."""

    def __init__(self, folder, seed=None, access_key_id="AKIDJITTESTPROD",
                 secret_access_key="jit-test-secret-not-a-real-key"):
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.log_path = os.path.join(folder, "emulator.log")
        args = [JIT, "emulator", "--listen", "127.0.0.1:0", "--access-key-id", access_key_id,
                "--secret-access-key", secret_access_key]
        if seed is not None:
            seed_path = os.path.join(folder, "seed.json")
            with open(seed_path, "w", encoding="utf-8") as f:
                json.dump(seed, f)
            args += ["--seed", seed_path]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, text=True)
        self.url = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("emulator exited")
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if m:
                self.url = m.group(1)
                break
        if self.url is None:
            raise RuntimeError("emulator did not print its address")

    def env(self):
        """The environment of a broker that talks to this emulator through the AWS settings
        alone: credentials in the environment, the endpoint override, a region; nothing from
        the user's own AWS files."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": self.access_key_id,
                    "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
                    "AWS_ENDPOINT_URL": self.url, "AWS_REGION": "us-east-1",
                    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                    "AWS_CONFIG_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"})
        return env

    def state(self):
        status, body = http(self.url, "GET", "/_emulator/state")
        if status != 200:
            raise RuntimeError(f"emulator state: HTTP {status}")
        return body

    def aws(self, service, target, body, region="us-east-1"):
        """One awsJson 1.1 call to the emulator, signed with SigV4 as an AWS SDK would (for the
        calls a test makes as AWS's operator: moving an account, say). Returns (status, JSON)."""
        payload = json.dumps(body).encode()
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        host = self.url.split("://", 1)[1]
        headers = {"content-type": "application/x-amz-json-1.1", "host": host,
                   "x-amz-date": amz_date, "x-amz-target": target}
        signed = ";".join(sorted(headers))
        canonical = "\n".join(["POST", "/", ""] +
                              [f"{k}:{headers[k]}" for k in sorted(headers)] +
                              ["", signed, hashlib.sha256(payload).hexdigest()])
        scope = f"{day}/{region}/{service}/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret_access_key).encode()
        for part in (day, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key_id}/{scope}, "
                                    f"SignedHeaders={signed}, Signature={signature}")
        del headers["host"]
        return http(self.url, "POST", "/", raw=payload, headers=headers)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stdout.close()
        self._log.close()


def token_hashes(tokens):
    """{name: the SHA-256 hex of its token}: what a config's auth.tokens entries hold."""
    return {n: hashlib.sha256(t.encode()).hexdigest() for n, t in tokens.items()}


class EmulatedBroker:
    """`jit emulator` seeded with `seed`, and `jit serve --config` with the text `config`
    reaching it as it would AWS, in a temporary folder named after `prefix` (the config file
    is `config_path`, the data folder `data`). `start_server` starts another broker on the same
    config and data (after `server.close()` or `kill()`); `close` stops everything."""

    def __init__(self, prefix, seed, config):
        self.dir = tempfile.TemporaryDirectory(prefix=prefix)
        d = self.dir.name
        self.config_path = os.path.join(d, "jit.yaml")
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(config)
        self.data = os.path.join(d, "data")
        os.makedirs(self.data)
        self.server = None
        self.emulator = Emulator(d, seed=seed)
        try:
            self.server = self.start_server()
        except Exception:
            self.close()
            raise

    def start_server(self, env=None):
        """A broker on the config and data folder, with the emulator's environment or `env`."""
        server = Server(data_dir=self.data, dev=False, extra_args=["--config", self.config_path],
                        env=env or self.emulator.env())
        server.start()
        return server

    def close(self):
        if self.server is not None:
            self.server.close()
        self.emulator.close()
        self.dir.cleanup()


def http(base, method, path, token=None, body=None, raw=None, headers=None):
    """One HTTP call; returns (status, parsed JSON body or None)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=30) as resp:
            text = resp.read().decode()
            return resp.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, {"_raw": text}
    except (urllib.error.URLError, ConnectionError):
        return 0, None


def cli(server_url, token, *args, check=None):
    """Runs the jit CLI; returns (exit code, stdout, stderr)."""
    env = dict(os.environ)
    env.pop("JIT_SERVER", None)
    env.pop("JIT_TOKEN", None)
    cmd = [JIT, "--server", server_url]
    if token:
        cmd += ["--token", token]
    cmd += list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    return p.returncode, p.stdout, p.stderr


def cli_json(test, server_url, token, *args):
    """`jit -o json ARGS` with `token`, asserted on `test` to exit 0: its parsed output, or None
    when it printed nothing."""
    code, out, err = cli(server_url, token, "-o", "json", *args)
    test.assertEqual(code, 0, err)
    return json.loads(out) if out.strip() else None


def parse_time(text):
    """RFC 3339 as jit writes it (UTC, milliseconds, Z) to epoch seconds."""
    from datetime import datetime
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def wait_for(predicate, timeout, interval=0.05):
    """Polls `predicate` until it returns a true value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
