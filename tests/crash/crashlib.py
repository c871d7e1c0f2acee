"""What the crash suite (and the cross-process fault tests) share: a standalone `jit emulator`
seeded with a few users, brokers (`jit serve --config`, not --dev) that can be SIGKILLed and
started again on the same port, a load generator that keeps the lifecycle busy, and the checks
that compare what the brokers say with what the emulator saw (its assignment history,
GET /_emulator/history).

Times are wall-clock seconds (time.time()); the brokers and the emulator run on this machine
and share its clock, so the brokers' RFC 3339 times, the emulator's at_ms and the test's own
times can be compared directly.
"""

import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import harness
from harness import JIT, cli, parse_time

ACCESS_KEY = "AKIDCRASHTEST0000001"
SECRET_KEY = "crash-test-secret-not-a-real-key"
INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111"
STORE_ID = "d-1111111111"
ACCOUNTS = {"sandbox": "111111111111", "prod": "222222222222"}
PS = {
    "ReadOnly": "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111",
    "Admin": "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222",
    "BreakGlass": "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333",
}
# user -> (principal id, groups). Four engineers so that grants spread over a dozen
# assignments (and still share some: two grants on one triple share one assignment).
USERS = {
    "alice": ("a11ce000-0000-4000-8000-000000000001", ["engineers"]),
    "bob": ("b0b00000-0000-4000-8000-000000000002", ["approvers"]),
    "carol": ("ca401000-0000-4000-8000-000000000003", ["approvers", "sre", "admins"]),
    "dave": ("da7e0000-0000-4000-8000-000000000004", ["engineers"]),
    "erin": ("e4170000-0000-4000-8000-000000000005", ["engineers"]),
    "frank": ("f4a0c000-0000-4000-8000-000000000006", ["engineers"]),
}
ENGINEERS = ["alice", "dave", "erin", "frank"]
APPROVERS = ["bob", "carol"]
# How long a pending prod/Admin request waits for its approver (some are never approved).
APPROVAL_TIMEOUT_S = 6
TERMINAL = {"ended", "denied", "cancelled", "timed_out", "failed"}


def token(user):
    return f"crash-{user}-token"


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def emulator_seed():
    groups = {}
    for user, (_, gs) in USERS.items():
        for g in gs:
            groups.setdefault(g, []).append(user)
    group_ids = {g: f"9{i:07d}-0000-4000-8000-{i:012d}" for i, g in enumerate(sorted(groups))}
    return {
        "accounts": [{"id": i, "name": n} for n, i in ACCOUNTS.items()],
        "permission_sets": [{"name": n, "arn": a, "session_duration": "PT1H"}
                            for n, a in PS.items()],
        "users": [{"user_name": u, "user_id": pid, "display_name": u.title(),
                   "emails": [f"{u}@example.com"]} for u, (pid, _) in USERS.items()],
        "groups": [{"display_name": g, "group_id": group_ids[g], "members": m}
                   for g, m in sorted(groups.items())],
    }


def broker_config(store_url, key_file):
    """The config every broker of a run gets; `store_url` None: SQLite in --data."""
    lines = [
        "admins: {groups: [admins]}",
        "auditors: {groups: [auditors]}",
        "accounts:",
    ]
    lines += [f'  - {{id: "{i}", name: {n}}}' for n, i in ACCOUNTS.items()]
    lines += ["permission_sets:"]
    lines += [f'  - {{name: {n}, arn: "{a}", max_duration: 1h}}' for n, a in PS.items()]
    lines += [
        "rules:",
        "  - {name: readonly, requesters: {groups: [engineers]}, accounts: {all: true},",
        "     permission_sets: [ReadOnly], max_duration: 1h, min_duration: 1s, approval: auto}",
        "  - {name: prod-admin, requesters: {groups: [engineers]}, accounts: {names: [prod]},",
        "     permission_sets: [Admin], max_duration: 1h, min_duration: 1s, reason: required,",
        "     approval: {approvers: {groups: [approvers]}, required: 1, "
        f"timeout: {APPROVAL_TIMEOUT_S}s}}}}",
        "  - {name: break-glass, requesters: {groups: [sre]}, accounts: {all: true},",
        "     permission_sets: [BreakGlass], max_duration: 1h, min_duration: 1s,",
        "     reason: required, break_glass: true}",
        # The load piles up requests of few users on purpose (overlapping grants exercise the
        # ledger), so the per-user limits (docs/POLICY.md "Limits") are off.
        "limits: {open_requests_per_user: 0, requests_per_minute_per_user: 0,",
        "         refuse_duplicates: false}",
        "aws:",
        "  region: us-east-1",
        f'  instance_arn: "{INSTANCE}"',
        f'  identity_store_id: "{STORE_ID}"',
        "auth:",
        "  tokens:",
    ]
    for user, (_, groups) in USERS.items():
        lines.append(f'    - {{name: {user}, sha256: "{sha256(token(user))}", '
                     f'groups: [{", ".join(groups)}]}}')
    lines += ["audit:", f'  checkpoint_key_file: "{key_file}"', "  checkpoint_interval: 1s"]
    if store_url:
        lines.append(f'store: "{store_url}"')
    return "\n".join(lines) + "\n"


def make_checkpoint_key(folder):
    path = os.path.join(folder, "audit-key.pem")
    p = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f"openssl genpkey failed (run scripts/setup.sh): {p.stderr}")
    os.chmod(path, 0o600)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(base, method, path, tok=None, body=None, timeout=15):
    """One call; (status, JSON body or None). Status 0: no answer (refused, reset, timed out)."""
    if base is None:
        return 0, None
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if tok:
        req.add_header("Authorization", "Bearer " + tok)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout) as resp:
            text = resp.read().decode()
            return resp.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, {"_raw": text}
    except (urllib.error.URLError, ConnectionError, OSError, ValueError):
        return 0, None


class Emulator(harness.Emulator):
    """harness.Emulator with the crash suite's seed and key pair, plus the ground-truth reads
    (history) and fault injection the suites use."""

    def __init__(self, folder):
        super().__init__(folder, seed=emulator_seed(), access_key_id=ACCESS_KEY,
                         secret_access_key=SECRET_KEY)

    def env(self):
        """harness.Emulator.env() without PG* variables: a broker's store comes from its config
        only."""
        return {k: v for k, v in super().env().items() if not k.startswith("PG")}

    def get(self, path):
        status, body = http(self.url, "GET", path, timeout=30)
        if status != 200:
            raise RuntimeError(f"emulator {path}: HTTP {status}")
        return body

    def state(self):
        return self.get("/_emulator/state")

    def history(self):
        return self.get("/_emulator/history")

    def set_faults(self, **faults):
        status, body = http(self.url, "POST", "/_emulator/faults", body=faults)
        if status != 200:
            raise RuntimeError(f"emulator faults: HTTP {status} {body}")
        return body


class Broker:
    """One `jit serve --config` on a fixed loopback port, restarted on the same port after a
    SIGKILL. Keeps the windows during which it was ready (ready_at, killed_at)."""

    def __init__(self, name, config_path, data_dir, env, preexec_fn=None):
        self.name = name
        self.preexec_fn = preexec_fn  # run in the child before exec (e.g. resource limits)
        self.config_path = config_path
        self.data_dir = data_dir
        os.makedirs(data_dir, exist_ok=True)
        self.env = env
        self.port = free_port()
        self.log_path = os.path.join(os.path.dirname(data_dir), f"broker-{name}.log")
        self.proc = None
        self.url = None          # set while it is believed up (clients read it)
        self.windows = []        # [ready_at, killed_at or None]
        self.starts = 0
        self.pids = []
        self._log = None

    def start(self, timeout=30):
        """Starts it and waits for /readyz; returns the wall time it became ready."""
        self.starts += 1
        if self._log is None:
            self._log = open(self.log_path, "ab")
        self._log.write(f"=== crash suite: start {self.starts} of broker {self.name}\n".encode())
        self._log.flush()
        for attempt in range(3):
            self.proc = subprocess.Popen(
                [JIT, "serve", "--config", self.config_path, "--listen",
                 f"127.0.0.1:{self.port}", "--data", self.data_dir],
                stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL, text=True,
                env=self.env, preexec_fn=self.preexec_fn)
            line = self.proc.stdout.readline()
            if "listening on" in line:
                break
            self.proc.wait(10)
            if attempt == 2:
                raise RuntimeError(f"broker {self.name} did not start: {self.read_log()[-3000:]}")
            time.sleep(0.2)  # the port may still be held for a moment
        self.pids.append(self.proc.pid)
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if http(base, "GET", "/readyz", timeout=5)[0] == 200:
                ready = time.time()
                self.url = base
                self.windows.append([ready, None])
                return ready
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker {self.name} exited: {self.read_log()[-3000:]}")
            time.sleep(0.02)
        raise RuntimeError(f"broker {self.name} never became ready")

    def kill(self):
        """SIGKILL: no clean-up of any kind. Returns the wall time of the kill."""
        self.url = None
        at = time.time()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if self.windows and self.windows[-1][1] is None:
            self.windows[-1][1] = at
        return at

    def stop(self):
        self.url = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc and self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if self.windows and self.windows[-1][1] is None:
            self.windows[-1][1] = time.time()

    def close(self):
        self.stop()
        if self._log:
            self._log.close()
            self._log = None

    def read_log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def up_at(self, t):
        return any(a <= t and (b is None or t < b) for a, b in self.windows)

    def ready_after(self, t):
        """When it was next ready at or after `t` (t itself when it was up then)."""
        if self.up_at(t):
            return t
        later = [a for a, _ in self.windows if a >= t]
        return min(later) if later else None


class Load:
    """Keeps the lifecycle busy from `workers` threads: auto-approved grants, grants that an
    approver approves (and some left to time out), break-glass, a few extensions and early
    revokes; durations of a few seconds. `targets()` gives the base URLs to choose from (those
    believed up; a call to a broker that dies meanwhile simply gets no answer). Every call and
    its answer is recorded; 2xx answers are what the brokers acknowledged."""

    def __init__(self, seed, targets, workers=2, pause=(0.4, 0.9), durations=(2, 6)):
        self.rng = random.Random(seed)
        self.targets = targets
        self.workers = workers
        self.pause = pause
        self.durations = durations
        self.calls = []           # dicts: what, t0, t1, status, target, ...
        self.acked = {}           # request id -> what the 201 said and what we asked
        self.acked_approvals = []  # (request id, approver)
        self.acked_revokes = []   # (request id, who, answered at)
        self.acked_extends = []   # (request id, new expires_at)
        # Every request an extension was sent for, answered or not: an extend whose answer was
        # lost to a kill may have committed, and then the stored duration is longer.
        self.tried_extends = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []

    def start(self):
        for i in range(self.workers):
            rng = random.Random(self.rng.getrandbits(64))
            t = threading.Thread(target=self._run, args=(rng,), name=f"load-{i}", daemon=True)
            self._threads.append(t)
            t.start()

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(60)

    def _call(self, rng, what, method, path, user, body=None):
        targets = self.targets()
        base = rng.choice(targets) if targets else None
        t0 = time.time()
        status, answer = http(base, method, path, token(user), body)
        t1 = time.time()
        with self._lock:
            self.calls.append({"what": what, "t0": t0, "t1": t1, "status": status,
                               "target": base, "user": user, "path": path})
        return status, answer, t1

    def _submit(self, rng, user, account, ps, reason="crash suite"):
        seconds = rng.randint(*self.durations)
        body = {"account": account, "permission_set": ps, "duration": f"{seconds}s",
                "reason": reason}
        status, answer, at = self._call(rng, "submit", "POST", "/v1/requests", user, body)
        if status == 201 and answer and "id" in answer:
            with self._lock:
                self.acked[answer["id"]] = {"user": user, "account": ACCOUNTS[account],
                                            "ps": ps, "seconds": seconds, "answer": answer,
                                            "at": at}
            return answer["id"]
        return None

    def _recent(self, rng, pred):
        with self._lock:
            ids = [rid for rid, a in self.acked.items() if pred(a)]
        return rng.choice(ids[-8:]) if ids else None

    def _run(self, rng):
        while not self._stop.is_set():
            roll = rng.random()
            user = rng.choice(ENGINEERS)
            if roll < 0.42:
                self._submit(rng, user, rng.choice(list(ACCOUNTS)), "ReadOnly")
            elif roll < 0.67:
                rid = self._submit(rng, user, "prod", "Admin")
                if rid and rng.random() < 0.85:
                    self._stop.wait(rng.uniform(0, 1.0))
                    approver = rng.choice(APPROVERS)
                    status, _, _ = self._call(rng, "approve", "POST",
                                              f"/v1/requests/{rid}/approve", approver,
                                              {"comment": "crash suite"})
                    if status == 200:
                        with self._lock:
                            self.acked_approvals.append((rid, approver))
            elif roll < 0.77:
                self._submit(rng, "carol", rng.choice(list(ACCOUNTS)), "BreakGlass")
            elif roll < 0.82:
                rid = self._recent(rng, lambda a: a["ps"] == "ReadOnly")
                if rid:
                    owner = self.acked[rid]["user"]
                    with self._lock:
                        self.tried_extends.add(rid)
                    status, answer, _ = self._call(rng, "extend", "POST",
                                                   f"/v1/requests/{rid}/extend", owner,
                                                   {"duration": f"{rng.randint(1, 3)}s"})
                    if status == 200 and answer:
                        with self._lock:
                            self.acked_extends.append((rid, answer.get("expires_at")))
            else:
                rid = self._recent(rng, lambda a: True)
                if rid:
                    who = rng.choice([self.acked[rid]["user"], "carol"])
                    status, _, at = self._call(rng, "revoke", "POST",
                                               f"/v1/requests/{rid}/revoke", who,
                                               {"reason": "crash suite early revoke"})
                    if status == 200:
                        with self._lock:
                            self.acked_revokes.append((rid, who, at))
            self._stop.wait(rng.uniform(*self.pause))

    def summary(self):
        by = {}
        for c in self.calls:
            key = (c["what"], c["status"])
            by[key] = by.get(key, 0) + 1
        return by


# ---- reading what the brokers hold --------------------------------------------------------

def all_requests(base):
    """Every request in the store, through the API (carol is an admin), with its history."""
    out = {}
    cursor = ""
    for _ in range(1000):
        path = "/v1/requests?limit=500" + (f"&cursor={cursor}" if cursor else "")
        status, page = http(base, "GET", path, token("carol"), timeout=30)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {page}")
        for r in page["items"]:
            out[r["id"]] = r
        cursor = page.get("next_cursor") or ""
        if not cursor:
            break
    for rid in list(out):
        status, full = http(base, "GET", f"/v1/requests/{rid}", token("carol"), timeout=30)
        if status != 200:
            raise RuntimeError(f"GET /v1/requests/{rid}: {status} {full}")
        out[rid] = full
    return out


def wait_quiet(base, emulator, timeout):
    """Waits until every request is in a final state and the emulator holds no assignment.
    Returns (requests, seconds waited); raises AssertionError naming what is left."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        status, page = http(base, "GET", "/v1/requests?limit=500", token("carol"), timeout=30)
        open_ = [r for r in (page or {}).get("items", []) if r["state"] not in TERMINAL]
        assignments = emulator.state()["assignments"]
        if status == 200 and not open_ and not assignments and not page.get("next_cursor"):
            return all_requests(base), time.monotonic() - start
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not quiet after {timeout}s: {len(open_)} open requests "
                f"({[(r['id'], r['state']) for r in open_][:10]}), "
                f"assignments {assignments[:5]}")
        time.sleep(0.25)


def audit_verify(base):
    """`jit audit verify --output json` against a broker: (exit code, report or None, stderr)."""
    code, out, err = cli(base, token("carol"), "--output", "json", "audit", "verify")
    try:
        report = json.loads(out)
    except ValueError:
        report = None
    return code, report, err


# ---- the checks -----------------------------------------------------------------------------

def _t(text):
    return parse_time(text) if text else None


def event_times(history, action):
    return [_t(e["at"]) for e in history if e["action"] == action]


def check_acknowledged(load, requests):
    """Every acknowledged answer is in the store, and says the same: problems as strings."""
    problems = []
    for rid, a in load.acked.items():
        r = requests.get(rid)
        if r is None:
            problems.append(f"{rid}: acknowledged with 201 but not in the store")
            continue
        # The duration is compared only where no extension was sent: one whose answer a kill
        # cut off may still have committed (found by a run: stored 5s, acknowledged 3s).
        extended = rid in load.tried_extends or any(x[0] == rid for x in load.acked_extends)
        stored = (r["requester"], r["account"]["id"], r["permission_set"]["name"],
                  None if extended else r["duration_seconds"])
        asked = (a["user"], a["account"], a["ps"], None if extended else a["seconds"])
        if stored != asked:
            problems.append(f"{rid}: stored as {r['requester']} {r['account']} "
                            f"{r['permission_set']} {r['duration_seconds']}s, not as acknowledged "
                            f"{a}")
    for rid, approver in load.acked_approvals:
        h = requests.get(rid, {}).get("history", [])
        if not any(e["action"] == "request.approval" and e["actor"] == approver for e in h):
            problems.append(f"{rid}: approval by {approver} acknowledged but not in its history")
    for rid, who, _ in load.acked_revokes:
        h = requests.get(rid, {}).get("history", [])
        if not any(e["action"] == "request.revoked" and e["actor"] == who for e in h):
            problems.append(f"{rid}: revoke by {who} acknowledged but not in its history")
    for rid, expires in load.acked_extends:
        h = requests.get(rid, {}).get("history", [])
        if not any(e["action"] == "request.extended" for e in h):
            problems.append(f"{rid}: extension acknowledged but not in its history")
        r = requests.get(rid)
        if r and expires and _t(r["expires_at"]) < _t(expires) - 0.001:
            problems.append(f"{rid}: acknowledged expiry {expires} but stored {r['expires_at']}")
    return problems


ONCE = ["request.created", "request.approved", "grant.started", "grant.succeeded",
        "request.activated", "request.expired", "request.revoked", "revoke.started",
        "revoke.succeeded", "request.ended", "request.timed_out", "request.failed"]
ORDER = ["request.created", "request.approved", "grant.succeeded", "request.activated",
         "request.ended"]


def check_histories(requests, operations_may_fail=False):
    """Each request's history is one consistent path through the state machine. With
    `operations_may_fail` (the emulator ends some creates and deletes FAILED), a delete may be
    started again after a failed one."""
    once = [a for a in ONCE if not (operations_may_fail and a == "revoke.started")]
    problems = []
    for rid, r in requests.items():
        h = r["history"]
        actions = [e["action"] for e in h]
        seqs = [e["seq"] for e in h]
        if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
            problems.append(f"{rid}: history out of order: {seqs}")
        for a in once:
            if actions.count(a) > 1:
                problems.append(f"{rid}: {a} {actions.count(a)} times: {actions}")
        if actions.count("request.created") != 1:
            problems.append(f"{rid}: no request.created: {actions}")
        pos = [actions.index(a) for a in ORDER if a in actions]
        if pos != sorted(pos):
            problems.append(f"{rid}: steps out of order: {actions}")
        ended_by = [a for a in ("request.expired", "request.revoked") if a in actions]
        if len(ended_by) > 1:
            problems.append(f"{rid}: both expired and revoked: {actions}")
        state = r["state"]
        need = {"ended": "request.ended", "timed_out": "request.timed_out",
                "failed": "request.failed", "denied": "request.denied",
                "cancelled": "request.cancelled"}.get(state)
        if need and need not in actions:
            problems.append(f"{rid}: {state} without {need}: {actions}")
        if state == "ended" and "request.activated" in actions and not ended_by:
            problems.append(f"{rid}: ended without expiry or revocation: {actions}")
        if "request.activated" in actions and state == "ended":
            if not r.get("activated_at") or not r.get("expires_at"):
                problems.append(f"{rid}: active once but no activated_at/expires_at")
    return problems


def presence_intervals(history, seeded=()):
    """From the emulator's history: for each triple, [(added_at, removed_at or None)]."""
    out = {}
    present = {tuple(k): 0.0 for k in seeded}
    events = sorted((e for e in history["events"] if e["phase"] == "settled"),
                    key=lambda e: (e["at_ms"], e["seq"]))
    for e in events:
        key = (e["PrincipalId"], e["AccountId"], e["PermissionSetArn"])
        if e["effect"] == "added":
            present[key] = e["at_ms"] / 1000.0
        elif e["effect"] == "removed":
            out.setdefault(key, []).append((present.pop(key, None), e["at_ms"] / 1000.0))
    for key, since in present.items():
        out.setdefault(key, []).append((since, None))
    return out


def entitlement(r):
    """(start, end) of the access a request was entitled to, or None when it never had any.
    For grants revoked before they were active: (None, revoked at)."""
    h = r["history"]
    revoked = event_times(h, "request.revoked")
    activated = _t(r.get("activated_at"))
    if activated is None:
        if revoked and ("grant.succeeded" in [e["action"] for e in h]):
            return None, revoked[0]
        return None
    end = _t(r.get("expires_at"))
    if revoked and revoked[0] < end:
        end = revoked[0]
    return activated, end


def check_ground_truth(requests, history, final_assignments, reference):
    """Compares the store with the emulator's history. `reference(t)` says from when a
    revocation due at `t` could be expected to run (t, or the next moment a broker was ready).
    Returns (problems, lags): lags are (request id or triple, raw lag, lag after readiness)."""
    problems = []
    if final_assignments:
        problems.append(f"assignments left at the end: {final_assignments}")
    by_triple = {}
    for r in requests.values():
        key = (USERS[r["requester"]][0], r["account"]["id"], r["permission_set"]["arn"])
        by_triple.setdefault(key, []).append(r)
    counts = {(t["PrincipalId"], t["AccountId"], t["PermissionSetArn"]): t
              for t in history["triples"]}
    if history.get("dropped"):
        problems.append(f"the emulator dropped {history['dropped']} history events")

    # No grant applied twice: every assignment that appeared was created by exactly one
    # recorded grant (grant.succeeded), and every one that went away by one recorded
    # revocation.
    granted = {}
    revoked = {}
    for key, rs in by_triple.items():
        for r in rs:
            acts = [e["action"] for e in r["history"]]
            granted[key] = granted.get(key, 0) + acts.count("grant.succeeded")
            revoked[key] = revoked.get(key, 0) + acts.count("revoke.succeeded")
    for key, c in counts.items():
        if c["creates_failed"] or c["deletes_failed"]:
            problems.append(f"{key}: failed operations at the emulator: {c}")
        if c["added"] != granted.get(key, 0):
            problems.append(f"{key}: the emulator added the assignment {c['added']} times, jit "
                            f"recorded {granted.get(key, 0)} grants that created it")
        if c["removed"] != revoked.get(key, 0):
            problems.append(f"{key}: the emulator removed the assignment {c['removed']} times, "
                            f"jit recorded {revoked.get(key, 0)} revocations that deleted it")
    for key, n in granted.items():
        if n and key not in counts:
            problems.append(f"{key}: jit recorded {n} grants the emulator never saw")

    # No assignment alive past its expiry: each time an assignment went away, measure it
    # against the latest entitlement among the grants that relied on it.
    intervals = presence_intervals(history)
    lags = []
    for key, spans in intervals.items():
        rs = by_triple.get(key, [])
        ents = [(r, entitlement(r)) for r in rs]
        ents = [(r, e) for r, e in ents if e is not None]
        for added, removed in spans:
            if removed is None:
                continue  # reported above as left at the end
            users = [(r, e) for r, e in ents
                     if (e[0] is not None and added - 0.01 <= e[0] <= removed + 0.01)
                     or (e[0] is None and any(
                         added - 0.01 <= t <= removed + 0.01
                         for t in event_times(r["history"], "grant.succeeded")))]
            if not users:
                problems.append(f"{key}: present {added:.3f}..{removed:.3f} with no grant "
                                f"relying on it")
                continue
            r, (_, end) = max(users, key=lambda x: x[1][1])
            raw = removed - end
            ref = reference(end)
            after_ready = removed - ref if ref is not None else None
            lags.append((r["id"], raw, after_ready))
            if raw < -0.01:
                problems.append(f"{r['id']}: assignment removed {-raw:.3f}s before the "
                                f"entitlement ended")
        # Access never ends early: every activated grant's window lies inside one span.
        for r, (start, end) in ents:
            if start is None:
                continue
            if not any(a - 0.01 <= start and (b is None or end <= b + 0.01) for a, b in spans):
                problems.append(f"{r['id']}: entitled {start:.3f}..{end:.3f} but the assignment "
                                f"was not present all that time: {spans}")
    for key, rs in by_triple.items():
        for r in rs:
            if entitlement(r) and entitlement(r)[0] is not None and key not in intervals:
                problems.append(f"{r['id']}: active but the emulator never held {key}")
    return problems, lags


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p * (len(s) - 1))))]


# ---- one whole run ------------------------------------------------------------------------

def crash_seed():
    text = os.environ.get("JIT_CRASH_SEED", "")
    if text:
        return int(text)
    return random.SystemRandom().randrange(1 << 32)


def crash_kills(default):
    text = os.environ.get("JIT_CRASH_KILLS", "")
    return int(text) if text else default


def timing_scale():
    """JIT_TIMING_SCALE (default 1): how much slower than the real bound a revocation may be in
    this build. The sanitizer build sets 2 (tests/CMakeLists.txt): under ASan and UBSan the
    broker runs two to three times slower, beside three other tests on two cores, and that run
    is there to find memory errors; the debug build checks the real bound."""
    text = os.environ.get("JIT_TIMING_SCALE", "")
    return float(text) if text else 1.0


def report_and_check(test, name, load, requests, emulator, reference, tolerance, verify_urls):
    """The checks every crash run ends with; prints the numbers; fails `test` on a problem.
    Returns the numbers (a dict) for the caller to add to and print. `tolerance` is scaled by
    timing_scale()."""
    scale = timing_scale()
    if scale != 1.0:
        print(f"{name}: revocation bound {tolerance:.1f}s x {scale:g} (JIT_TIMING_SCALE) = "
              f"{tolerance * scale:.1f}s", flush=True)
        tolerance *= scale
    history = emulator.history()
    state = emulator.state()
    problems = []
    problems += check_acknowledged(load, requests)
    problems += check_histories(requests)
    truth, lags = check_ground_truth(requests, history, state["assignments"], reference)
    problems += truth
    states = {}
    for r in requests.values():
        states[r["state"]] = states.get(r["state"], 0) + 1
    if states.get("failed"):
        failed = [(r["id"], r["failure_reason"]) for r in requests.values()
                  if r["state"] == "failed"]
        problems.append(f"{states['failed']} requests failed: {failed[:5]}")
    raw = [x[1] for x in lags]
    after = [x[2] for x in lags if x[2] is not None]
    worst = max(lags, key=lambda x: x[2] if x[2] is not None else -1) if lags else None
    delayed = [x for x in lags if x[2] is not None and x[1] - x[2] > 0.001]
    counts = history["triples"]
    numbers = {
        "requests": len(requests),
        "acknowledged": len(load.acked),
        "approvals_acked": len(load.acked_approvals),
        "revokes_acked": len(load.acked_revokes),
        "extends_acked": len(load.acked_extends),
        "states": states,
        "creates": sum(t["create_calls"] for t in counts),
        "assignments_added": sum(t["added"] for t in counts),
        "creates_repeated": sum(t["creates_succeeded"] - t["added"] for t in counts),
        "deletes_repeated": sum(t["deletes_succeeded"] - t["removed"] for t in counts),
        "committed_unacknowledged": len(set(requests) - set(load.acked)),
        "deletes": sum(t["delete_calls"] for t in counts),
        "assignments_removed": sum(t["removed"] for t in counts),
        "removals_measured": len(lags),
        "revocations_due_while_down": len(delayed),
        "lag_raw_max_s": max(raw) if raw else None,
        "lag_raw_p50_s": percentile(raw, 0.5),
        "lag_after_ready_max_s": max(after) if after else None,
        "lag_after_ready_p95_s": percentile(after, 0.95),
        "worst": worst[0] if worst else None,
        "calls": {f"{k[0]}:{k[1]}": v for k, v in sorted(load.summary().items())},
    }
    for url in verify_urls:
        code, rep, err = audit_verify(url)
        if code != 0 or not rep or not rep.get("ok"):
            problems.append(f"jit audit verify at {url}: exit {code}: {err.strip()} {rep}")
            continue
        if not rep.get("checkpoints"):
            problems.append(f"jit audit verify at {url}: no checkpoints were checked: {rep}")
        numbers.setdefault("audit", []).append(
            {"events": rep.get("events"), "checkpoints": rep.get("checkpoints"),
             "warnings": rep.get("warnings")})
    print(f"\n{name}: " + json.dumps(numbers, indent=None, sort_keys=True), flush=True)
    test.assertEqual(problems, [], f"{name}: {len(problems)} problems")
    test.assertIsNotNone(numbers["lag_after_ready_max_s"], "no revocation was measured")
    test.assertLess(numbers["lag_after_ready_max_s"], tolerance,
                    f"{name}: an assignment outlived its expiry by "
                    f"{numbers['lag_after_ready_max_s']:.2f}s after a broker was ready "
                    f"({numbers['worst']})")
    return numbers
