#include "store/open.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string_view>
#include <system_error>

#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace jit::store {

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

Status DataDirLock::Acquire(const std::filesystem::path& dir) {
  std::string path = (dir / "jit.lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return UnavailableError("cannot open " + path);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    return FailedPreconditionError("another jit server is using " + dir.string());
  }
  return OkStatus();
}

Result<std::string> SqlitePath(const std::string& store_url, const std::filesystem::path& data) {
  if (store_url.empty()) return (data / "jit.db").string();
  constexpr std::string_view kPrefix = "sqlite://";
  if (store_url.rfind(kPrefix, 0) == 0) {
    std::string path = store_url.substr(kPrefix.size());
    if (path.empty()) return InvalidArgumentError("store: '" + store_url + "' names no file");
    return path;
  }
  return InvalidArgumentError("store: '" + RedactPostgresUrl(store_url) +
                              "' is neither sqlite:///PATH nor postgres://USER@HOST:PORT/DB");
}

Result<OpenedStore> OpenStore(const std::string& store_url, const std::filesystem::path& data,
                              Clock& clock) {
  OpenedStore out;
  if (IsPostgresUrl(store_url)) {
    PostgresOptions pg;
    pg.url = store_url;
    JIT_ASSIGN_OR_RETURN(out.store, OpenPostgresStore(pg, clock));
    out.shared = true;
    return out;
  }
  JIT_ASSIGN_OR_RETURN(std::string path, SqlitePath(store_url, data));
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  if (ec) return UnavailableError("cannot create " + data.string() + ": " + ec.message());
  out.lock = std::make_unique<DataDirLock>();
  JIT_RETURN_IF_ERROR(out.lock->Acquire(data));
  SqliteOptions sqlite;
  sqlite.path = path;
  JIT_ASSIGN_OR_RETURN(out.store, OpenSqliteStore(sqlite, clock));
  // One process owns this database (the lock above): leases of a dead predecessor are void.
  JIT_RETURN_IF_ERROR(out.store->ReleaseAllLeases());
  return out;
}

}  // namespace jit::store
