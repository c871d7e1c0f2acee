"""A throwaway PostgreSQL 15 server for cross-process tests (the Python twin of
src/store/postgres_test_server.h).

initdb into a fresh temporary folder, postgres on a free port of 127.0.0.1 (listen_addresses =
127.0.0.1, its unix socket inside that folder, fsync off), trust authentication for loopback
only. Roles: the superuser "postgres" (the test's own set-up) and "jit", a plain role that owns
the databases create_database() makes, as a broker's role would. PostgreSQL refuses to run as
root: when the test runs as root, initdb, pg_ctl and postgres run as the "postgres" system user
of Debian's package, and the folder is handed to it. A system cluster is never touched.

A missing PostgreSQL raises RuntimeError saying to run scripts/setup.sh (the test fails; it is
never skipped). A watchdog stops the server and removes the folder if the test process dies.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile

BINDIR = os.environ.get("JIT_PG_BINDIR") or "/usr/lib/postgresql/15/bin"


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self):
        self.dir = None
        self.port = None
        self.running = False

    def _as_server_user(self, argv):
        return (["runuser", "-u", "postgres", "--"] + argv) if os.geteuid() == 0 else argv

    def _run(self, argv, check=True):
        p = subprocess.run(self._as_server_user(argv), capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({p.returncode}): {p.stdout}{p.stderr}"
                               + self._server_log())
        return p

    def _server_log(self):
        try:
            with open(os.path.join(self.dir, "server.log"), encoding="utf-8",
                      errors="replace") as f:
                return "\nserver.log:\n" + f.read()[-2000:]
        except OSError:
            return ""

    def start(self):
        for tool in ("initdb", "pg_ctl", "postgres"):
            path = os.path.join(BINDIR, tool)
            if not os.access(path, os.X_OK):
                raise RuntimeError(f"PostgreSQL 15 is not installed ({path} is missing): "
                                   "run scripts/setup.sh")
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root but there is no 'postgres' system user to "
                                   "run PostgreSQL as: run scripts/setup.sh") from None
        self.dir = tempfile.mkdtemp(prefix="jit-pg-")
        if os.geteuid() == 0:
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        data = os.path.join(self.dir, "data")
        stop = " ".join(self._as_server_user(
            [os.path.join(BINDIR, "pg_ctl"), "-D", data, "-m", "immediate", "stop"]))
        # Backgrounded by the shell, which exits at once: nothing is left for us to wait on.
        subprocess.run(
            ["sh", "-c", f"(while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
                         f"if [ -d '{self.dir}' ]; then {stop}; rm -rf '{self.dir}'; fi) &"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, check=True)
        self._run([os.path.join(BINDIR, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
                   "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"])
        # Loopback only, and the socket in our folder; nothing else may connect.
        with open(os.path.join(data, "pg_hba.conf"), "w", encoding="utf-8") as f:
            f.write("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        error = None
        for _ in range(3):
            self.port = _free_port()
            try:
                self._start_postmaster()
                error = None
                break
            except RuntimeError as e:
                error = e
        if error:
            raise error
        self.psql("postgres", "CREATE ROLE jit LOGIN")
        return self

    def _start_postmaster(self):
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                f"-c unix_socket_directories={self.dir} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run([os.path.join(BINDIR, "pg_ctl"), "-D", os.path.join(self.dir, "data"), "-l",
                   os.path.join(self.dir, "server.log"), "-w", "-t", "30", "-o", opts, "start"])
        self.running = True

    def create_database(self, name):
        """Makes database `name` owned by "jit"; returns the URL a broker opens."""
        self.psql("postgres", f"CREATE DATABASE {name} OWNER jit")
        return self.url(name)

    def url(self, database):
        return f"postgres://jit@127.0.0.1:{self.port}/{database}"

    def psql(self, database, sql, user="postgres", field_sep="\x1f", record_sep="\x1e"):
        """Runs `sql`; returns the rows as lists of strings (unaligned, tuples only)."""
        p = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
             str(self.port), "-U", user, "-d", database, "-At", "-F", field_sep, "-R",
             record_sep, "-c", sql],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if not k.startswith("PG")})
        if p.returncode != 0:
            raise RuntimeError(f"psql failed: {p.stderr}")
        out = p.stdout
        if out.endswith("\n"):
            out = out[:-1]
        return [r.split(field_sep) for r in out.split(record_sep) if r != ""]

    def stop(self, mode="fast"):
        if self.running:
            self._run([os.path.join(BINDIR, "pg_ctl"), "-D", os.path.join(self.dir, "data"),
                       "-m", mode, "-w", "stop"], check=False)
            self.running = False

    def restart(self):
        if not self.running:
            self._start_postmaster()

    def close(self):
        if self.dir:
            self.stop("immediate")
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
