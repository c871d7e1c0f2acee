#include "store/postgres_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"

extern char** environ;  // NOLINT: POSIX

namespace jit::store::testing {
namespace {

constexpr std::string_view kDefaultBindir = "/usr/lib/postgresql/15/bin";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last lines of a log, for error messages.
std::string Tail(const std::string& text, std::size_t max = 1500) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

// Runs argv (argv[0] looked up in PATH) with stdout and stderr appended to `log`; returns the
// exit status, or -1 when it could not be run.
int Run(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// PostgreSQL will not run as root: run its programs as the package's "postgres" user then.
std::vector<std::string> AsServerUser(std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;
  std::vector<std::string> out = {"runuser", "-u", "postgres", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// A port of 127.0.0.1 that nobody listens on right now (0 when none could be found).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

Status Exec(const std::string& conninfo, std::string_view sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    Status s = UnavailableError(std::string("test server: ") + PQerrorMessage(conn));
    PQfinish(conn);
    return s;
  }
  PGresult* res = PQexec(conn, std::string(sql).c_str());
  Status s;
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    s = InternalError(std::string("test server: ") + PQerrorMessage(conn));
  }
  PQclear(res);
  PQfinish(conn);
  return s;
}

}  // namespace

Result<std::unique_ptr<PostgresTestServer>> PostgresTestServer::Start() {
  std::unique_ptr<PostgresTestServer> server(new PostgresTestServer());
  const char* env_bindir = std::getenv("JIT_PG_BINDIR");
  server->bindir_ = env_bindir != nullptr && *env_bindir != '\0' ? std::string(env_bindir)
                                                                 : std::string(kDefaultBindir);
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    std::string path = server->bindir_ + "/" + tool;
    if (::access(path.c_str(), X_OK) != 0) {
      return FailedPreconditionError("PostgreSQL 15 is not installed (" + path +
                                     " is missing): run scripts/setup.sh");
    }
  }
  if (::geteuid() == 0 && ::getpwnam("postgres") == nullptr) {
    return FailedPreconditionError(
        "running as root but there is no 'postgres' system user to run PostgreSQL as: run "
        "scripts/setup.sh");
  }

  std::string templ = (std::filesystem::temp_directory_path() / "jit-pg-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) return UnavailableError("cannot make a temp folder");
  server->dir_ = templ;
  if (::geteuid() == 0) {
    passwd* pw = ::getpwnam("postgres");
    if (::chown(server->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return UnavailableError("cannot hand " + server->dir_ + " to the postgres user");
    }
  }
  const std::string log = server->dir_ + "/commands.log";
  const std::string data = server->dir_ + "/data";

  // Stops the server and removes the folder once this process is gone, however it ended.
  {
    std::string pg_ctl = server->bindir_ + "/pg_ctl";
    std::string stop = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    stop += Quote(pg_ctl) + " -D " + Quote(data) + " -m immediate stop";
    std::string script = "while kill -0 " + std::to_string(::getpid()) +
                         " 2>/dev/null; do sleep 1; done; if [ -d " + Quote(server->dir_) +
                         " ]; then " + stop + "; rm -rf " + Quote(server->dir_) + "; fi";
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args = {const_cast<char*>("sh"), const_cast<char*>("-c"), script.data(),
                               nullptr};
    pid_t pid = 0;
    (void)posix_spawnp(&pid, "sh", &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }

  int rc =
      Run(AsServerUser({server->bindir_ + "/initdb", "-D", data, "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"}),
          log);
  if (rc != 0) return UnavailableError("initdb failed: " + Tail(ReadFile(log)));
  {
    // Loopback only, and the socket in our folder; nothing else may connect.
    std::ofstream hba(data + "/pg_hba.conf", std::ios::trunc);
    hba << "local all all trust\nhost all all 127.0.0.1/32 trust\n";
    if (!hba) return UnavailableError("cannot write pg_hba.conf");
  }
  Status started;
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port_ = FreePort();
    if (server->port_ == 0) return UnavailableError("no free port on 127.0.0.1");
    started = server->StartPostmaster();
    if (started.ok()) break;
  }
  if (!started.ok()) return started;
  JIT_RETURN_IF_ERROR(server->AdminExec("postgres", "CREATE ROLE jit LOGIN"));
  return server;
}

Status PostgresTestServer::StartPostmaster() {
  const std::string log = dir_ + "/commands.log";
  std::string opts = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) +
                     " -c unix_socket_directories=" + dir_ +
                     " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                     " -c max_connections=200 -c shared_buffers=32MB";
  int rc = Run(AsServerUser({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/server.log",
                             "-w", "-t", "30", "-o", opts, "start"}),
               log);
  if (rc != 0) {
    return UnavailableError("postgres did not start: " + Tail(ReadFile(dir_ + "/server.log")) +
                            Tail(ReadFile(log), 500));
  }
  running_ = true;
  return OkStatus();
}

PostgresTestServer::~PostgresTestServer() {
  if (dir_.empty()) return;
  if (running_) {
    (void)Run(AsServerUser({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "stop"}),
              "/dev/null");
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Result<std::string> PostgresTestServer::CreateDatabase() {
  std::string name = "jit_test_" + std::to_string(++next_db_);
  JIT_RETURN_IF_ERROR(AdminExec("postgres", "CREATE DATABASE " + name + " OWNER jit"));
  return name;
}

std::string PostgresTestServer::UrlFor(std::string_view database) const {
  return "postgres://jit@127.0.0.1:" + std::to_string(port_) + "/" + std::string(database);
}

Status PostgresTestServer::AdminExec(std::string_view database, std::string_view sql) {
  return ExecAs("postgres", database, sql);
}

Status PostgresTestServer::ExecAs(std::string_view user, std::string_view database,
                                  std::string_view sql) {
  return Exec(ConninfoFor(user, database), sql);
}

std::string PostgresTestServer::ConninfoFor(std::string_view user,
                                            std::string_view database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + std::string(user) +
         " connect_timeout=10 dbname=" + std::string(database);
}

Status PostgresTestServer::Stop() {
  if (!running_) return OkStatus();
  int rc =
      Run(AsServerUser({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "stop"}),
          dir_ + "/commands.log");
  if (rc != 0) return UnavailableError("pg_ctl stop failed");
  running_ = false;
  return OkStatus();
}

Status PostgresTestServer::Restart() {
  if (running_) return OkStatus();
  return StartPostmaster();
}

Result<PostgresTestServer*> SharedPostgresTestServer() {
  static Mutex mu;
  static std::unique_ptr<PostgresTestServer> server;  // stopped by its destructor at exit
  static Status failure;
  static bool tried = false;
  MutexLock lock(&mu);
  if (!tried) {
    tried = true;
    Result<std::unique_ptr<PostgresTestServer>> started = PostgresTestServer::Start();
    if (started.ok()) {
      server = std::move(started).value();
    } else {
      failure = started.error();
    }
  }
  if (server == nullptr) return failure;
  return server.get();
}

}  // namespace jit::store::testing
