"""Monitoring as files (issue 13): every metric that deploy/prometheus/jit-rules.yaml and
deploy/grafana/jit.json name is one that a broker's /metrics serves, every recording rule they
name is defined, and docs/OPERATIONS.md's metrics table lists exactly the metrics served."""

import os
import re
import subprocess
import tempfile
import unittest
import urllib.request

from harness import JIT, Server, http, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = os.path.join(ROOT, "deploy", "prometheus", "jit-rules.yaml")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "jit.json")
OPERATIONS = os.path.join(ROOT, "docs", "OPERATIONS.md")

# A metric (jit_...) or a recording rule (jit:..., the Prometheus convention for rules) named
# anywhere in a file: expressions, descriptions, legends.
NAME = re.compile(r"\bjit[_:][a-zA-Z0-9_:]*[a-zA-Z0-9_]")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

# The dev policy with a checkpoint every second, so that a checkpoint is written (and its
# timestamp served) within the test.
CONFIG = """\
admins: {groups: [admins]}
auditors: {groups: [auditors]}
accounts:
  - {id: "222222222222", name: prod, tags: [prod]}
permission_sets:
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222", max_duration: 1h}
rules:
  - name: prod-admin
    requesters: {groups: [engineers]}
    accounts: {names: [prod]}
    permission_sets: [Admin]
    max_duration: 1h
    min_duration: 5s
    reason: required
    approval: {approvers: {groups: [approvers]}, required: 1, timeout: 15m}
audit:
  checkpoint_key_file: KEY
  checkpoint_interval: 1s
"""


def parse_exposition(text):
    """The Prometheus text format: ({family: type} from the TYPE lines, {family: [sample lines]})."""
    types = {}
    samples = {}
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)$", line)
        if m:
            types[m.group(1)] = m.group(2)
            continue
        if not line or line.startswith("#"):
            continue
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        samples.setdefault(family_of(name, types), []).append(line)
    return types, samples


def family_of(name, types):
    """The family a sample or a referenced name belongs to: a histogram's _bucket, _sum and
    _count are its family's."""
    if name in types:
        return name
    for suffix in HISTOGRAM_SUFFIXES:
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) == "histogram":
            return base
    return name


def recording_rules(rules_text):
    """The names the rules file defines with `record:`."""
    return set(re.findall(r"^\s*(?:-\s*)?record:\s*['\"]?([a-zA-Z0-9_:]+)", rules_text, re.M))


def unserved(text, types, served, recorded):
    """The names `text` mentions that are neither a served family (with samples) nor a recording
    rule of `recorded`, with why, sorted."""
    problems = set()
    for name in NAME.findall(text):
        if ":" in name:
            if name not in recorded:
                problems.add(f"{name}: no such recording rule in jit-rules.yaml")
        elif family_of(name, types) not in served:
            problems.add(f"{name}: not served by /metrics")
    return sorted(problems)


def documented_metrics(markdown):
    """The metric names of the table in the "## Metrics" section (first column, `jit_...`)."""
    section = re.search(r"^## Metrics\n(.*?)(?=^## )", markdown, re.S | re.M)
    if not section:
        return set()
    return set(re.findall(r"^\| `(jit_[a-z0-9_]+)", section.group(1), re.M))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class ExtractionTest(unittest.TestCase):
    """The checks below can fail: a made-up name is caught."""

    TYPES = {"jit_revoke_lag_seconds": "histogram", "jit_ready": "gauge",
             "jit_requests_total": "counter"}
    SERVED = {"jit_revoke_lag_seconds", "jit_ready", "jit_requests_total"}

    def test_a_made_up_metric_is_reported(self):
        text = 'expr: rate(jit_requests_total[5m]) > 0 and jit_made_up_total > 1'
        self.assertEqual(unserved(text, self.TYPES, self.SERVED, set()),
                         ["jit_made_up_total: not served by /metrics"])

    def test_histogram_series_belong_to_their_family_and_other_suffixes_do_not(self):
        text = ('{"expr": "histogram_quantile(0.99, rate(jit_revoke_lag_seconds_bucket[5m]))'
                ' / jit_revoke_lag_seconds_count + jit_ready_count"}')
        self.assertEqual(unserved(text, self.TYPES, self.SERVED, set()),
                         ["jit_ready_count: not served by /metrics"])

    def test_recording_rules_must_be_defined(self):
        rules = "groups:\n  - rules:\n      - record: jit:revoke_lag_seconds:p99_5m\n"
        text = "jit:revoke_lag_seconds:p99_5m > 5 and jit:made_up:ratio > 0"
        self.assertEqual(unserved(text, self.TYPES, self.SERVED, recording_rules(rules)),
                         ["jit:made_up:ratio: no such recording rule in jit-rules.yaml"])

    def test_a_served_family_without_samples_is_not_served(self):
        self.assertEqual(unserved("jit_ready == 0", self.TYPES, {"jit_requests_total"}, set()),
                         ["jit_ready: not served by /metrics"])

    def test_parse_exposition_maps_histogram_series_to_their_family(self):
        types, samples = parse_exposition(
            "# HELP a_seconds x\n# TYPE a_seconds histogram\n"
            'a_seconds_bucket{le="+Inf"} 1\na_seconds_sum 0.5\na_seconds_count 1\n'
            "# TYPE b gauge\n# TYPE c_total counter\nc_total 0\n")
        self.assertEqual(types, {"a_seconds": "histogram", "b": "gauge", "c_total": "counter"})
        self.assertEqual(sorted(samples), ["a_seconds", "c_total"])

    def test_documented_metrics_are_read_from_the_metrics_table_only(self):
        doc = ("## Metrics\n\n| metric | type | what |\n| --- | --- | --- |\n"
               "| `jit_ready` | gauge | x |\n| `jit_made_up_total{a}` | counter | y |\n\n"
               "## Logs\n\n| `jit_not_a_metric_row` | x |\n")
        self.assertEqual(documented_metrics(doc), {"jit_ready", "jit_made_up_total"})


class MetricsServedTest(unittest.TestCase):
    """One request goes through its life in a dev broker, so that every histogram and labelled
    series has samples; then /metrics is scraped once for every check."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="jit-monitoring-")
        key = os.path.join(cls.dir.name, "audit-key.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                       capture_output=True)
        config = os.path.join(cls.dir.name, "jit.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(CONFIG.replace("KEY", key))
        data = os.path.join(cls.dir.name, "data")
        os.makedirs(data)
        cls.server = Server(data_dir=data, extra_args=["--config", config])
        try:
            cls.server.start()
            cls.metrics = cls.run_one_request()
        except Exception:
            cls.server.close()
            cls.dir.cleanup()
            raise
        cls.types, cls.samples = parse_exposition(cls.metrics)

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.close()
        cls.dir.cleanup()
        assert code == 0, f"server exited with {code} on SIGTERM"

    @classmethod
    def run_one_request(cls):
        """Requested, approved, active, expired, ended; returns /metrics once a checkpoint
        covers it."""
        url = cls.server.url
        status, req = http(url, "POST", "/v1/requests", token="dev-alice",
                           body={"account": "prod", "permission_set": "Admin", "duration": "5s",
                                 "reason": "monitoring test"})
        assert status == 201, (status, req)
        status, body = http(url, "POST", f"/v1/requests/{req['id']}/approve", token="dev-bob",
                            body={})
        assert status == 200, (status, body)

        def ended():
            status, r = http(url, "GET", f"/v1/requests/{req['id']}", token="dev-alice")
            return status == 200 and r["state"] == "ended"

        assert wait_for(ended, 20), "the request never ended"

        def scrape_with_checkpoint():
            text = scrape(url)
            return text if "\njit_audit_last_checkpoint_timestamp_seconds " in text else None

        text = wait_for(scrape_with_checkpoint, 10, interval=0.2)
        assert text, "no audit checkpoint was written within 10 s"
        return text

    def served(self):
        return set(self.samples)

    def test_every_metric_the_rules_name_is_served(self):
        text = read(RULES)
        self.assertEqual(unserved(text, self.types, self.served(), recording_rules(text)), [])

    def test_every_metric_the_dashboard_names_is_served(self):
        recorded = recording_rules(read(RULES))
        self.assertEqual(unserved(read(DASHBOARD), self.types, self.served(), recorded), [])

    def test_the_files_name_the_new_health_metrics(self):
        # So that the checks above are about something: both files use what issue 13 added.
        names = set(NAME.findall(read(RULES))) | set(NAME.findall(read(DASHBOARD)))
        for name in ("jit_ready", "jit_store_available", "jit_audit_checkpoint_failures_total",
                     "jit_audit_verification_failures_total",
                     "jit_audit_last_checkpoint_timestamp_seconds",
                     "jit_revoke_lag_seconds_bucket", "jit_provider_calls_total"):
            self.assertIn(name, names)

    def test_operations_md_lists_exactly_the_metrics_served(self):
        documented = documented_metrics(read(OPERATIONS))
        declared = set(self.types)
        self.assertEqual(sorted(documented - declared), [], "documented but not served")
        self.assertEqual(sorted(declared - documented), [], "served but not documented")

    def test_histograms_and_labelled_series_have_samples(self):
        for family in ("jit_approval_seconds", "jit_revoke_lag_seconds"):
            self.assertIn(f"{family}_count 1", self.samples[family])
        calls = "\n".join(self.samples["jit_provider_calls_total"])
        for op in ("CreateAccountAssignment", "DeleteAccountAssignment"):
            self.assertIn(f'operation="{op}",outcome="ok"', calls)
        self.assertIn('jit_requests_total{state="ended"} 1', self.samples["jit_requests_total"])

    def test_health_metrics_say_ready_and_name_the_build(self):
        self.assertEqual(self.samples["jit_ready"], ["jit_ready 1"])
        self.assertEqual(self.samples["jit_store_available"], ["jit_store_available 1"])
        self.assertEqual(self.samples["jit_audit_checkpoint_failures_total"],
                         ["jit_audit_checkpoint_failures_total 0"])
        self.assertEqual(self.samples["jit_audit_verification_failures_total"],
                         ["jit_audit_verification_failures_total 0"])
        # The same version and commit as `jit --version` prints.
        version = subprocess.run([JIT, "--version"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        m = re.fullmatch(r"jit (\S+) \(commit (\S+)\)", version)
        self.assertIsNotNone(m, version)
        self.assertEqual(self.samples["jit_build_info"],
                         [f'jit_build_info{{version="{m.group(1)}",commit="{m.group(2)}"}} 1'])


def scrape(url):
    """GET /metrics as text (harness.http reads JSON)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url + "/metrics", timeout=10) as resp:
        return resp.read().decode()


if __name__ == "__main__":
    unittest.main()
