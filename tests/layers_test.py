"""The include rules of docs/ARCHITECTURE.md "Layers", checked on the source tree.

Every module under src/ may include its own headers and those of the modules listed for it in
ALLOWED below, nothing else. Unit tests (*_test.cc) may also use what their module's tests
link (test fakes of other modules); they are checked against ALLOWED_IN_TESTS. A new module
must be added here, and to docs/ARCHITECTURE.md, before it can include anything.

Two headers stand in a layer of their own, below the folder they are in: config/reader.h (the
low-level reader of the config file, "config_reader") and api/settings.h (the server: and ui:
sections, "api_settings"), so that the modules may parse their sections of the file while the
whole file (config/config.h) stays above them.
"""

import os
import re
import unittest

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# module -> the modules it may include (besides itself). Lowest first.
ALLOWED = {
    "core": set(),
    "model": {"core"},
    "net": {"core"},
    "config_reader": {"core"},
    "aws": {"core", "config_reader"},
    "audit": {"core", "model", "config_reader"},
    "store": {"core", "model", "config_reader"},
    "policy": {"core", "model", "aws", "config_reader"},
    "provider": {"core", "model", "aws"},
    "notify": {"core", "model", "aws", "config_reader"},
    # Ticket checks against Jira (rules' ticket_check).
    "tickets": {"core", "model", "aws", "config_reader"},
    "auth": {"core", "model", "aws", "config_reader"},
    "api_settings": {"core", "config_reader"},
    "emulator": {"core", "aws", "net"},
    # Threat findings (GuardDuty, Security Hub) as EventBridge delivers them, and their rules.
    "findings": {"core", "model", "config_reader"},
    # Permission sets as code: definitions from the config, plan and apply over the provider.
    "permsets": {"core", "model", "aws", "config_reader", "provider"},
    "scheduler": {"core", "model", "store"},
    "cutoff": {"core", "model", "store", "scheduler", "policy", "provider"},
    # Session activity: CloudTrail events of a grant through an assumed role (issue 17).
    "activity_settings": {"core", "config_reader"},
    "activity": {"core", "model", "store", "scheduler", "aws", "activity_settings"},
    "workflow": {"core", "model", "store", "scheduler", "policy", "provider", "notify", "audit",
                 "cutoff", "tickets", "findings"},
    # Accounts from AWS Organizations: resolves the sources, ends requests out of scope.
    "org": {"core", "model", "store", "scheduler", "policy", "provider", "workflow", "notify",
            "audit", "cutoff"},
    "api": {"core", "model", "net", "aws", "store", "audit", "policy", "auth", "notify",
            "provider", "scheduler", "workflow", "api_settings", "cutoff", "findings"},
    # The whole config file, put together from the modules' sections.
    "config": {"core", "model", "config_reader", "aws", "audit", "store", "policy", "notify",
               "auth", "api_settings", "permsets", "tickets", "findings", "activity_settings"},
    "cli": {"core", "model", "policy", "config"},
    "app": None,  # the composition root may include every module
}

# What unit tests may include on top: fakes and servers of other modules that they run against.
ALLOWED_IN_TESTS = {
    "*": {"emulator", "store", "provider", "aws", "net", "audit", "policy", "scheduler",
          "workflow", "notify", "auth", "config"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+/[^"]+)"', re.M)

# Files that form a layer of their own, by path under src/ without the extension (and _test).
SPLIT = {"config/reader": "config_reader", "api/settings": "api_settings",
         "activity/settings": "activity_settings"}


def layer_of(path_under_src):
    """The layer of a file or included header: its folder, or its entry in SPLIT."""
    stem = re.sub(r"(_test)?\.(h|cc)$", "", path_under_src)
    return SPLIT.get(stem, path_under_src.split("/")[0])


def modules():
    return sorted(d for d in os.listdir(SRC) if os.path.isdir(os.path.join(SRC, d)))


def violations():
    found = []
    for folder in modules():
        for root, _, files in os.walk(os.path.join(SRC, folder)):
            for name in files:
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.join(root, name)
                module = layer_of(os.path.relpath(path, SRC))
                allowed = ALLOWED.get(module, "unknown")
                is_test = name.endswith("_test.cc") or name.startswith("test_") or \
                    "testing" in name
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for header in INCLUDE.findall(text):
                    target = layer_of(header)
                    if target == module or allowed is None:
                        continue
                    if allowed == "unknown":
                        found.append(f"src/{module}: module missing from tests/layers_test.py")
                        break
                    if target in allowed:
                        continue
                    if is_test and target in ALLOWED_IN_TESTS["*"]:
                        continue
                    rel = os.path.relpath(path, os.path.join(SRC, ".."))
                    found.append(f"{rel} includes {target}/ (allowed: "
                                 f"{', '.join(sorted(allowed)) or 'nothing'})")
    return sorted(set(found))


class Layers(unittest.TestCase):
    def test_every_include_follows_the_layers(self):
        self.assertEqual(violations(), [])

    def test_the_checker_sees_a_violation(self):
        # A checker that finds nothing proves nothing: an upward include must be reported.
        saved = ALLOWED["store"]
        ALLOWED["store"] = {"core"}  # store includes model/: now a violation
        try:
            self.assertTrue(any(v.startswith("src/store/") for v in violations()))
        finally:
            ALLOWED["store"] = saved


if __name__ == "__main__":
    for v in violations():
        print(v)
