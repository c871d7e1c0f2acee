"""Issue #13, deliverable 1: the Debian package. Builds it with CPack from the build folder that
ctest runs in (the `jit` binary of that build: the debug one in CI, the release one for a
release; docs/PACKAGE.md), checks its contents, modes, control data and maintainer scripts,
verifies the systemd unit with `systemd-analyze verify`, and starts the unpacked binary with the
packaged example config (pointed at a temporary data folder, a loopback port and a
`jit emulator`) until it serves a grant and has told systemd READY=1.

Needs: JIT_BINARY (the build's jit), JIT_BUILD_DIR (its build folder, with CPackConfig.cmake),
JIT_CPACK (cpack); dpkg-deb, dpkg-shlibdeps and file (scripts/setup.sh installs them) and
systemd-analyze."""

import hashlib
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Emulator, Server, http, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD_DIR = os.environ.get("JIT_BUILD_DIR", os.path.join(ROOT, "build", "debug"))
CPACK = os.environ.get("JIT_CPACK", "cpack")
TOKEN = "pkg-" + "0123456789abcdef" * 2  # made up for this test; only its hash is configured
CI_BOT_ID = "c1b00000-0000-4000-8000-000000000006"
EXAMPLE_ZERO_HASH = "0" * 64


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\(jit VERSION ([0-9.]+)", f.read())
    return m.group(1)


def run(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, timeout=600,
                          **kw).stdout


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="jit-package-")
        d = cls.dir.name
        out = os.path.join(d, "out")
        # -B keeps CPack's staging folder and the package out of the build folder, so that
        # nothing else running in it sees them.
        run(CPACK, "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake"), "-B", out)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(out, debs[0])
        cls.root = os.path.join(d, "root")
        run("dpkg-deb", "-x", cls.deb, cls.root)
        cls.control = os.path.join(d, "control")
        run("dpkg-deb", "-e", cls.deb, cls.control)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_file_name_and_control_carry_the_project_version(self):
        version = project_version()
        self.assertRegex(os.path.basename(self.deb), r"^jit_" + re.escape(version) + r"-1_\w+\.deb$")
        info = run("dpkg-deb", "-I", self.deb)
        self.assertRegex(info, r"(?m)^ Package: jit$")
        self.assertRegex(info, r"(?m)^ Version: " + re.escape(version) + "-1$")
        depends = re.search(r"(?m)^ Depends: (.*)$", info).group(1)
        # What the binary links (dpkg-shlibdeps) and what the maintainer scripts run.
        for lib in ("libc6", "libssl3", "libcurl4", "libsqlite3-0", "libpq5", "libyaml-cpp0.7",
                    "libstdc++6", "adduser"):
            self.assertRegex(depends, r"(^|, )" + re.escape(lib) + r"( |,|$)", depends)

    def test_contents_and_modes(self):
        listing = run("dpkg-deb", "-c", self.deb)
        files = {}
        for line in listing.splitlines():
            perms, owner, _size, _date, _time, path = line.split(None, 5)
            files[path] = (perms, owner)
        expected = {
            "./usr/bin/jit": "-rwxr-xr-x",
            "./lib/systemd/system/jit.service": "-rw-r--r--",
            "./etc/jit/config.yaml": "-rw-r-----",  # not world-readable; postinst: root:jit
            "./etc/default/jit": "-rw-r-----",
            "./usr/share/doc/jit/PACKAGE.md": "-rw-r--r--",
        }
        for path, perms in expected.items():
            self.assertIn(path, files, listing)
            self.assertEqual(files[path], (perms, "root/root"), path)
        regular = sorted(p for p, (perms, _) in files.items() if not perms.startswith("d"))
        self.assertEqual(regular, sorted(expected), "unexpected files in the package")
        for path, (perms, owner) in files.items():
            self.assertEqual(owner, "root/root", path)
            self.assertNotIn("w", perms[5] + perms[8], path)  # nothing group/world-writable

    def test_conffiles_and_maintainer_scripts(self):
        with open(os.path.join(self.control, "conffiles"), encoding="utf-8") as f:
            self.assertEqual(sorted(f.read().split()), ["/etc/default/jit", "/etc/jit/config.yaml"])
        for name in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.control, name)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o755, name)
            with open(path, encoding="utf-8") as f:
                self.assertTrue(f.readline().startswith("#!/bin/sh"), name)
            subprocess.run(["sh", "-n", path], check=True)
            if shutil.which("dash"):
                subprocess.run(["dash", "-n", path], check=True)
        with open(os.path.join(self.control, "postinst"), encoding="utf-8") as f:
            postinst = f.read()
        self.assertIn("adduser --system", postinst)
        self.assertIn("chmod 0640", postinst)

    def test_unit_verifies_and_is_hardened(self):
        with open(os.path.join(self.root, "lib/systemd/system/jit.service"), encoding="utf-8") as f:
            unit = f.read()
        settings = {}
        for line in unit.splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                settings.setdefault(key, []).append(value)
        self.assertEqual(settings["ExecStart"],
                         ["/usr/bin/jit serve --config /etc/jit/config.yaml --data /var/lib/jit"])
        self.assertEqual(settings["ExecReload"], ["/bin/kill -HUP $MAINPID"])
        for key, value in {"Type": "notify", "User": "jit", "StateDirectory": "jit",
                           "EnvironmentFile": "-/etc/default/jit", "NoNewPrivileges": "yes",
                           "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                           "PrivateDevices": "yes", "CapabilityBoundingSet": "",
                           "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
                           "MemoryDenyWriteExecute": "yes", "LockPersonality": "yes",
                           "RestrictNamespaces": "yes", "UMask": "0077",
                           "LimitNOFILE": "65536"}.items():
            self.assertIn(value, settings.get(key, []), key)
        self.assertIn("@system-service", settings["SystemCallFilter"])

        # systemd-analyze verify checks that ExecStart's binary exists: verify a copy that runs
        # the unpacked one (the unit's name must stay jit.service).
        folder = os.path.join(self.dir.name, "unit")
        os.makedirs(folder, exist_ok=True)
        binary = os.path.join(self.root, "usr/bin/jit")
        copy = os.path.join(folder, "jit.service")
        with open(copy, "w", encoding="utf-8") as f:
            f.write(unit.replace("/usr/bin/jit", binary))
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", copy],
                           capture_output=True, text=True, timeout=120)
        # Offline, systemd-analyze may warn about the system it runs on; any line about our unit
        # is a finding.
        ours = [line for line in (p.stdout + p.stderr).splitlines() if "jit.service" in line]
        self.assertEqual((p.returncode, ours), (0, []), p.stdout + p.stderr)

        # The bar: `systemd-analyze security` rates the unit "OK" or better, that is an
        # exposure below 4.0 (--threshold counts tenths; 1.2 when this was written).
        p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=39",
                            copy], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        m = re.search(r"Overall exposure level for jit\.service: ([0-9.]+) (\w+)", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        self.assertIn(m.group(2), ("SAFE", "OK"), m.group(0))
        self.assertLess(float(m.group(1)), 4.0, m.group(0))

    def test_version_names_the_commit(self):
        out = run(os.path.join(self.root, "usr/bin/jit"), "--version").strip()
        self.assertRegex(out, r"^jit " + re.escape(project_version()) +
                         r" \(commit ([0-9a-f]{12}|unknown)\)$")

    def test_example_config_passes_the_check(self):
        binary = os.path.join(self.root, "usr/bin/jit")
        config = os.path.join(self.root, "etc/jit/config.yaml")
        p = subprocess.run([binary, "config", "check", config], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_unpacked_binary_and_example_config_serve_a_grant(self):
        d = tempfile.mkdtemp(prefix="serve-", dir=self.dir.name)
        binary = os.path.join(self.root, "usr/bin/jit")
        with open(os.path.join(self.root, "etc/jit/config.yaml"), encoding="utf-8") as f:
            example = f.read()
        # The example's placeholder token hash, replaced by that of this test's token; the
        # rest (ids, ARNs, rules) as packaged.
        self.assertEqual(example.count(EXAMPLE_ZERO_HASH), 1)
        config = os.path.join(d, "config.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(example.replace(EXAMPLE_ZERO_HASH, hashlib.sha256(TOKEN.encode()).hexdigest()))
        instance = re.search(r'instance_arn: "([^"]+)"', example).group(1)
        store_id = re.search(r'identity_store_id: "([^"]+)"', example).group(1)
        seed = {
            "instance": {"arn": instance, "identity_store_id": store_id,
                         "owner_account_id": "111111111111", "name": "jit-package-test"},
            "accounts": [{"id": a, "name": n} for a, n in
                         re.findall(r'\{id: "(\d{12})", name: (\w+)', example)],
            "permission_sets": [{"name": n, "arn": a, "session_duration": "PT1H"} for n, a in
                                re.findall(r'\{name: (\w+), arn: "([^"]+)"', example)],
            "users": [{"user_name": "ci-bot", "user_id": CI_BOT_ID, "display_name": "CI bot",
                       "emails": ["ci-bot@example.com"]}],
        }
        emulator = Emulator(d, seed=seed)
        self.addCleanup(emulator.close)

        # systemd's notify socket, as a unit of Type=notify gets it.
        notify_path = os.path.join(d, "notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        self.addCleanup(notify.close)
        env = emulator.env()
        env["NOTIFY_SOCKET"] = notify_path

        data = os.path.join(d, "data")
        os.makedirs(data)
        saved, harness.JIT = harness.JIT, binary  # Server runs harness.JIT
        try:
            server = Server(data_dir=data, dev=False, extra_args=["--config", config], env=env)
            server.start()
        finally:
            harness.JIT = saved
        self.addCleanup(server.close)

        # READY=1 arrives, and by then /readyz answers 200.
        notify.settimeout(30)
        self.assertEqual(notify.recv(256), b"READY=1")
        self.assertEqual(http(server.url, "GET", "/readyz")[0], 200)

        status, r = http(server.url, "POST", "/v1/requests", token=TOKEN,
                         body={"account": "sandbox", "permission_set": "ReadOnly",
                               "duration": "30m", "reason": "package test"})
        self.assertEqual(status, 201, r)
        path = "/v1/requests/" + r["id"]
        state = lambda: http(server.url, "GET", path, token=TOKEN)[1]["state"]  # noqa: E731
        self.assertTrue(wait_for(lambda: state() == "active", 15), state())
        self.assertIn(CI_BOT_ID,
                      [a["PrincipalId"] for a in emulator.state()["assignments"]])

        self.assertEqual(server.stop(), 0, server.read_log())
        notify.settimeout(5)
        self.assertEqual(notify.recv(256), b"STOPPING=1")


if __name__ == "__main__":
    unittest.main()
