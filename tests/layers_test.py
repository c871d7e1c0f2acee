"""The include rules of docs/ARCHITECTURE.md "Layers", checked on the source tree.

Every module under src/ may include its own headers and those of the modules listed for it in
ALLOWED below, nothing else. Unit tests (*_test.cc) may also use what their module's tests
link (test fakes of other modules); they are checked against ALLOWED_IN_TESTS. A new module
must be added here, and to docs/ARCHITECTURE.md, before it can include anything.
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
    "aws": {"core"},
    "audit": {"core", "model"},
    "store": {"core", "model"},
    "policy": {"core", "model", "aws"},
    "provider": {"core", "model", "aws"},
    "notify": {"core", "model", "aws"},
    "auth": {"core", "model", "aws"},
    "emulator": {"core", "aws", "net"},
    "scheduler": {"core", "model", "store"},
    "workflow": {"core", "model", "store", "scheduler", "policy", "provider", "notify", "audit"},
    "api": {"core", "model", "net", "aws", "store", "audit", "policy", "auth", "notify",
            "provider", "scheduler", "workflow"},
    "cli": {"core", "model", "policy"},
    "app": None,  # the composition root may include every module
}

# What unit tests may include on top: fakes and servers of other modules that they run against.
ALLOWED_IN_TESTS = {
    "*": {"emulator", "store", "provider", "aws", "net", "audit", "policy", "scheduler",
          "workflow", "notify", "auth"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def modules():
    return sorted(d for d in os.listdir(SRC) if os.path.isdir(os.path.join(SRC, d)))


def violations():
    found = []
    for module in modules():
        allowed = ALLOWED.get(module, "unknown")
        for root, _, files in os.walk(os.path.join(SRC, module)):
            for name in files:
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.join(root, name)
                is_test = name.endswith("_test.cc") or name.startswith("test_") or \
                    "testing" in name
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for target in INCLUDE.findall(text):
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
