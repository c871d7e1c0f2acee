"""The documents name only what exists (issue 13, "Done when").

For README.md, RUNBOOK.md and every docs/*.md:
  1. every `jit <verb> [<subverb>]` command written in a code span or a code block is one the
     binary has (the tree comes from `jit --help` and `jit <verb> --help`, recursively, from
     their "Subcommands:" sections), and every flag written after such a command is one its
     --help lists, or a global flag;
  2. every `jit_...` metric name is served by /metrics of a dev broker that has taken one
     request through its life (histograms also as _bucket, _sum, _count);
  3. every `Jit...` alert name is an alert of deploy/prometheus/jit-rules.yaml, and every alert
     there has its `### Name` section in RUNBOOK.md (and its runbook_url points at it);
  4. every relative link points to a file that exists (and to a heading that exists, when it
     names one in a Markdown file).

Run: cd tests && JIT_BINARY=../build/debug/jit python3 -m unittest -v docs_test
"""

import glob
import os
import re
import shlex
import subprocess
import time
import unittest
import urllib.request

import harness

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = os.path.join(ROOT, "deploy", "prometheus", "jit-rules.yaml")

# Words that look like metric or alert names but are something else; each says what it is.
NOT_METRICS = {
    "jit_approve", "jit_deny",        # Slack button action ids (docs/NOTIFY.md)
    "jit_owner", "jit_app",           # PostgreSQL roles in examples (docs/HA.md)
    "jit_session", "jit_login",       # web UI cookie names (docs/UI.md)
    "jit_register_gtest",             # a CMake function (docs/BUILD.md)
    "jit_test_http",                  # a CMake library (docs/BUILD.md)
}
NOT_ALERTS = {
    "JitRevokedSessions",             # the Sid of an IAM policy statement (docs/AWS.md)
    "JitIdentityCenter",              # the inline policy of the role (deploy/cloudformation/jit.yaml)
    "JitCutoff",                      # the Sid prefix of session cut-off statements (docs/AWS.md)
    "JitRegionGuardrail",             # the Sid of permission sets' region guardrail (docs/AWS.md)
}

# Flags every command takes (the root's options); those that take a value.
GLOBAL_VALUE_FLAGS = {"--server", "--token", "--output", "-o"}

# Words that may stand before `jit` in a shell command: they run the next word.
WRAPPERS = {"sudo", "runuser", "xargs", "exec", "time", "nice", "env", "timeout", "watch"}
WRAPPER_VALUE_FLAGS = {"-u", "-g", "-n"}  # sudo -u USER, runuser -u USER, nice -n N

WORD = re.compile(r"^[a-z][a-z0-9-]*$")


def documents():
    paths = [os.path.join(ROOT, "README.md"), os.path.join(ROOT, "RUNBOOK.md")]
    paths += sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    return [p for p in paths if os.path.exists(p)]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def rel(path):
    return os.path.relpath(path, ROOT)


# ---- Extraction (pure) --------------------------------------------------------------------

def split_code(text):
    """(code, prose): code is a list of (line number, kind, text) with kind "block" for each
    line of a fenced code block and "span" for each inline `code span` outside blocks; prose is
    the text with fenced blocks blanked out (line numbers kept)."""
    code, prose_lines = [], []
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip()
        if fence is None and (stripped.startswith("```") or stripped.startswith("~~~")):
            fence = stripped[:3]
            prose_lines.append("")
            continue
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            else:
                code.append((number, "block", line))
            prose_lines.append("")
            continue
        prose_lines.append(line)
        for m in re.finditer(r"(`+)(.+?)\1", line):
            code.append((number, "span", m.group(2)))
    return code, "\n".join(prose_lines)


def _tokens(segment):
    try:
        return shlex.split(segment, posix=True)
    except ValueError:
        return segment.split()


def jit_invocations(snippet, kind):
    """The argument lists of the `jit` commands in one code-block line or code span: each is
    the list of words after `jit`. A `jit` counts only where a shell command starts (after
    environment assignments and wrappers such as sudo or xargs), so that prose in comments and
    paths such as /var/lib/jit do not."""
    if kind == "block":
        if snippet.lstrip().startswith("#"):
            return []
        snippet = re.sub(r"(^|\s)#.*$", "", snippet)  # a trailing comment
    found = []
    for segment in re.split(r"\|\||&&|\||;|\$\(|\)|`", snippet):
        words = _tokens(segment.strip())
        i = 0
        while i < len(words):
            w = words[i]
            if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w):
                i += 1
            elif w in WRAPPERS:
                i += 1
                while i < len(words) and (words[i].startswith("-") or re.match(r"^\d+[a-z]?$", words[i])):
                    i += 2 if words[i] in WRAPPER_VALUE_FLAGS else 1
            elif w == "$":
                i += 1
            else:
                break
        if i < len(words) and (words[i] == "jit" or words[i].endswith("/jit")):
            found.append(words[i + 1:])
    return found


def parse_help(text):
    """(subcommands, flags) of one --help text: the names in its "Subcommands:" section and the
    long and short option names in its "Options:" section."""
    subs, flags = set(), set()
    section = None
    for line in text.split("\n"):
        if re.match(r"^\S.*:\s*$", line):
            section = line.strip().rstrip(":")
            continue
        if not line.strip():
            continue
        if section == "Subcommands":
            m = re.match(r"^\s+([a-z][a-z0-9-]*)(\s|$)", line)
            if m:
                subs.add(m.group(1))
        elif section == "Options":
            m = re.match(r"^\s+(-[^\s]+)", line)
            if m:
                for name in m.group(1).split(","):
                    name = name.split("=")[0]
                    if re.match(r"^--?[A-Za-z][A-Za-z0-9-]*$", name):
                        flags.add(name)
    return subs, flags


class CommandTree:
    """The command tree: for each command path (a tuple of words, () the root) its subcommands
    and flags. `help_of(path)` returns the --help text of that path."""

    def __init__(self, help_of):
        self.nodes = {}
        pending = [()]
        while pending:
            path = pending.pop()
            subs, flags = parse_help(help_of(path))
            self.nodes[path] = (subs, flags)
            pending += [path + (s,) for s in sorted(subs)]
        self.global_flags = self.nodes[()][1]

    def check(self, args):
        """Problems with `jit ARGS...`: an unknown command or subcommand, or a flag its command
        does not list. Words that are not command-like (placeholders, ids, `...`) end the path."""
        i = 0
        while i < len(args) and args[i].startswith("-"):  # global flags before the verb
            flag = args[i].split("=")[0]
            if flag not in self.global_flags:
                return ["unknown global flag %s" % flag]
            i += 2 if flag in GLOBAL_VALUE_FLAGS and "=" not in args[i] else 1
        path = ()
        while i < len(args):
            subs = self.nodes[path][0]
            word = args[i]
            if not subs or not WORD.match(word):
                break
            if word not in subs:
                return ["unknown command: jit %s" % " ".join(path + (word,))]
            path += (word,)
            i += 1
        if not path:
            return []
        flags = self.nodes[path][1] | self.global_flags
        problems = []
        for word in args[i:]:
            flag = word.split("=")[0]
            if re.match(r"^--[A-Za-z][A-Za-z0-9-]*$", flag) or re.match(r"^-[A-Za-z]$", flag):
                if flag not in flags:
                    problems.append("jit %s has no flag %s" % (" ".join(path), flag))
        return problems


def metric_names(text):
    return {m for m in re.findall(r"(?<![A-Za-z0-9_])jit_[a-z_]+[a-z]", text)
            if m not in NOT_METRICS}


def alert_names(text):
    return {m for m in re.findall(r"(?<![A-Za-z0-9_])Jit[A-Z][A-Za-z]+", text)
            if m not in NOT_ALERTS}


def served_metric_names(exposition):
    """Names a Prometheus text exposition serves, histograms also by their series names."""
    names, histograms = set(), set()
    for line in exposition.split("\n"):
        m = re.match(r"^# TYPE (\S+) (\S+)", line)
        if m:
            names.add(m.group(1))
            if m.group(2) == "histogram":
                histograms.add(m.group(1))
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", line)
        if m:
            names.add(m.group(1))
    for h in histograms:
        names |= {h + "_bucket", h + "_sum", h + "_count"}
    return names


def rule_alerts(rules_text):
    return set(re.findall(r"^\s*(?:-\s*)?alert:\s*[\"']?([A-Za-z0-9_]+)", rules_text, re.M))


def runbook_urls(rules_text):
    return re.findall(r"runbook_url:\s*[\"']?([^\s\"']+)", rules_text)


def heading_slugs(text):
    """GitHub's anchors of a Markdown file's headings (outside code blocks)."""
    _, prose = split_code(text)
    slugs = set()
    for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", prose, re.M):
        s = m.group(1).strip().lower()
        s = re.sub(r"[^\w\- ]", "", s)
        slugs.add(s.replace(" ", "-"))
    return slugs


def runbook_sections(text):
    _, prose = split_code(text)
    return set(re.findall(r"^### (Jit[A-Za-z]+)\s*$", prose, re.M))


def relative_links(prose):
    """(line number, target) of every Markdown link that is not absolute (no scheme)."""
    links = []
    for number, line in enumerate(prose.split("\n"), 1):
        line = re.sub(r"(`+).+?\1", "", line)  # links are not written inside code spans
        for m in re.finditer(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", line):
            target = m.group(1)
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                continue
            links.append((number, target))
    return links


def link_problems(doc_path, prose, read=read):
    problems = []
    for number, target in relative_links(prose):
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(doc_path), path)) if path else doc_path
        if not os.path.exists(full):
            problems.append("%s:%d: link to a missing file: %s" % (rel(doc_path), number, target))
            continue
        if anchor and full.endswith(".md") and anchor not in heading_slugs(read(full)):
            problems.append("%s:%d: link to a missing heading: %s" % (rel(doc_path), number, target))
    return problems


# ---- Unit tests of the extraction ----------------------------------------------------------

FAKE_HELP = {
    (): "Usage: jit\n\nOptions:\n  -h,--help  Help\n  --server TEXT  URL\n"
        "  -o,--output TEXT:{table,json}=table  Format\n\nSubcommands:\n"
        "  request  Ask\n  audit  The trail\n",
    ("request",): "Options:\n  -h,--help  Help\n  --for TEXT REQUIRED  How long\n"
                  "  --reason TEXT REQUIRED  Why\n",
    ("audit",): "Options:\n  -h,--help  Help\n\nSubcommands:\n  tail  Events\n",
    ("audit", "tail"): "Options:\n  -h,--help  Help\n  -f,--follow  Follow\n",
}


class ExtractionTest(unittest.TestCase):
    def setUp(self):
        self.tree = CommandTree(lambda path: FAKE_HELP[path])

    def problems(self, markdown):
        code, _ = split_code(markdown)
        out = []
        for _, kind, snippet in code:
            for args in jit_invocations(snippet, kind):
                out += self.tree.check(args)
        return out

    def test_the_tree_comes_from_the_subcommand_sections(self):
        self.assertEqual(set(self.tree.nodes), {(), ("request",), ("audit",), ("audit", "tail")})
        self.assertIn("--for", self.tree.nodes[("request",)][1])
        self.assertIn("-o", self.tree.global_flags)

    def test_real_commands_and_flags_pass(self):
        self.assertEqual(self.problems(
            "Run `jit request prod Admin --for 1h --reason x` or:\n\n```sh\n"
            "JIT_TOKEN=t jit -o json audit tail -f   # follow\n"
            "sudo -u jit /usr/bin/jit audit tail --follow | head\n"
            "jit ls -o json | xargs -rn1 jit request --for 1h\n```\n"), ["unknown command: jit ls"])

    def test_a_made_up_command_is_caught(self):
        self.assertEqual(self.problems("`jit frobnicate --now`"), ["unknown command: jit frobnicate"])
        self.assertEqual(self.problems("```\njit audit erase\n```"), ["unknown command: jit audit erase"])

    def test_a_made_up_flag_is_caught(self):
        self.assertEqual(self.problems("`jit request prod Admin --for 1h --colour red`"),
                         ["jit request has no flag --colour"])
        self.assertEqual(self.problems("```\njit audit tail --after=3\n```"),
                         ["jit audit tail has no flag --after"])
        self.assertEqual(self.problems("`jit --verbose request`"), ["unknown global flag --verbose"])

    def test_prose_paths_and_comments_are_not_commands(self):
        self.assertEqual(self.problems(
            "`/var/lib/jit` and `systemctl reload jit` and `jit <verb>` and `jit ...`\n"
            "```yaml\n# the jit broker's config\nuser: jit broker\n```\n"
            "```\nrm -r /var/lib/jit; deluser --system jit\njit: FailedPrecondition: x\n```\n"),
            [])

    def test_metric_names(self):
        text = "`jit_requests_total{state}` and jit_made_up_total, not `jit_approve` or JIT_TOKEN"
        self.assertEqual(metric_names(text), {"jit_requests_total", "jit_made_up_total"})
        served = served_metric_names(
            "# TYPE jit_revoke_lag_seconds histogram\njit_revoke_lag_seconds_bucket{le=\"1\"} 0\n"
            "# TYPE jit_requests_total counter\njit_requests_total{state=\"active\"} 1\n")
        self.assertIn("jit_revoke_lag_seconds_count", served)
        self.assertIn("jit_revoke_lag_seconds", served)
        self.assertNotIn("jit_made_up_total", served)

    def test_alert_names_and_rules(self):
        self.assertEqual(alert_names("### JitDown\nsee JitMadeUp, not JitRevokedSessions or Jit"),
                         {"JitDown", "JitMadeUp"})
        rules = "groups:\n- name: jit\n  rules:\n  - alert: JitDown\n    expr: up == 0\n" \
                "    annotations:\n      runbook_url: RUNBOOK.md#jitdown\n"
        self.assertEqual(rule_alerts(rules), {"JitDown"})
        self.assertEqual(runbook_urls(rules), ["RUNBOOK.md#jitdown"])
        self.assertEqual(runbook_sections("## On-call\n### JitDown\n```\n### JitNot\n```\n"), {"JitDown"})

    def test_links(self):
        prose = "[ok](README.md) [web](https://example.com/x.md) `[no](not/a/link.md)`\n" \
                "[bad](docs/NOPE.md) [anchor](RUNBOOK.md#nowhere-at-all) [self](#a-heading)\n"
        doc = os.path.join(ROOT, "README.md")
        problems = link_problems(doc, prose, read=lambda p: "# A heading\n")
        self.assertEqual(problems, [
            "README.md:2: link to a missing file: docs/NOPE.md",
            "README.md:2: link to a missing heading: RUNBOOK.md#nowhere-at-all",
        ])
        self.assertEqual(heading_slugs("## The figures: `jit report`\n### JitDown\n"),
                         {"the-figures-jit-report", "jitdown"})


# ---- The documents against the binary, /metrics and the rules ----------------------------

class DocsTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        def help_of(path):
            p = subprocess.run([harness.JIT] + list(path) + ["--help"], capture_output=True,
                               text=True, timeout=30)
            return p.stdout
        cls.tree = CommandTree(help_of)
        cls.docs = {p: read(p) for p in documents()}

    def test_commands_and_flags_exist(self):
        problems = []
        for path, text in self.docs.items():
            code, _ = split_code(text)
            for number, kind, snippet in code:
                for args in jit_invocations(snippet, kind):
                    problems += ["%s:%d: %s" % (rel(path), number, p) for p in self.tree.check(args)]
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_the_runbook_and_the_operator_documents_exist(self):
        for name in ["RUNBOOK.md", "docs/OVERVIEW.md", "docs/SECURITY.md",
                     "docs/CUTOVER_CHECKLIST.md", "docs/ROLLBACK.md"]:
            self.assertIn(os.path.join(ROOT, name), self.docs, name)
            self.assertIn("(%s)" % name, self.docs[os.path.join(ROOT, "README.md")],
                          "README.md links " + name)

    def test_metrics_are_served(self):
        named = {}
        for path, text in self.docs.items():
            for m in metric_names(text):
                named.setdefault(m, []).append(rel(path))
        server = harness.Server().start()
        try:
            code, out, err = harness.cli(server.url, "dev-alice", "-o", "json", "request",
                                         "sandbox", "ReadOnly", "--for", "5s", "--reason",
                                         "docs test")
            self.assertEqual(code, 0, err)
            rid = __import__("json").loads(out)["id"]

            def ended():
                c, o, _ = harness.cli(server.url, "dev-alice", "-o", "json", "show", rid)
                return c == 0 and __import__("json").loads(o)["state"] == "ended"
            self.assertTrue(harness.wait_for(ended, 60, 0.2), "the request never ended")
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(server.url + "/metrics", timeout=30) as r:
                served = served_metric_names(r.read().decode())
        finally:
            server.close()
        missing = sorted("%s (in %s)" % (m, ", ".join(sorted(set(where))))
                         for m, where in named.items() if m not in served)
        self.assertEqual(missing, [], "named in the documents but not served by /metrics:\n"
                         + "\n".join(missing))

    def test_alerts_match_the_rules_and_the_runbook(self):
        self.assertTrue(os.path.exists(RULES), "missing " + rel(RULES))
        rules_text = read(RULES)
        alerts = rule_alerts(rules_text)
        self.assertTrue(alerts, "no alert in " + rel(RULES))
        problems = []
        for path, text in self.docs.items():
            for a in sorted(alert_names(text) - alerts):
                problems.append("%s names %s, which is not an alert of %s" % (rel(path), a, rel(RULES)))
        runbook = self.docs.get(os.path.join(ROOT, "RUNBOOK.md"), "")
        sections = runbook_sections(runbook)
        for a in sorted(alerts - sections):
            problems.append("RUNBOOK.md has no section '### %s'" % a)
        slugs = heading_slugs(runbook)
        for url in runbook_urls(rules_text):
            m = re.search(r"RUNBOOK\.md#([\w-]+)$", url)
            if not m or m.group(1) not in slugs:
                problems.append("runbook_url %s names no section of RUNBOOK.md" % url)
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_relative_links_point_to_files(self):
        problems = []
        for path, text in self.docs.items():
            _, prose = split_code(text)
            problems += link_problems(path, prose)
        self.assertEqual(problems, [], "\n" + "\n".join(problems))


if __name__ == "__main__":
    unittest.main()
