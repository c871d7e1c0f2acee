#include "store/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/check.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "core/strings.h"
#include "model/chain.h"
#include "store/codec.h"

namespace jit::store {
namespace {

using Json = nlohmann::json;

// Advisory lock keys (per database). Every write transaction holds kWriteLock from its first
// statement to its end; opening a store holds kMigrationLock while it migrates.
constexpr std::int64_t kWriteLock = 0x6a69745772697465;      // "jitWrite"
constexpr std::int64_t kMigrationLock = 0x6a69744d69677261;  // "jitMigra"

// ---------------------------------------------------------------------------------------------
// Schema. Each step moves the schema one version up; they run in order, in one transaction, at
// open. Never edit a step that has shipped: add one. The tables match SQLite's (sqlite_store.cc)
// column for column, in PostgreSQL's types.
constexpr std::string_view kMigrations[] = {
    // 1: the first schema.
    R"sql(
CREATE TABLE requests (
  id TEXT COLLATE "C" PRIMARY KEY,
  requester TEXT COLLATE "C" NOT NULL,
  state TEXT COLLATE "C" NOT NULL,
  created_at_ms BIGINT NOT NULL,
  version BIGINT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX requests_by_requester ON requests (requester, id);
CREATE INDEX requests_by_state ON requests (state, id);

CREATE TABLE audit_events (
  seq BIGINT PRIMARY KEY,
  at_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  request_id TEXT COLLATE "C" NOT NULL,
  severity TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  CONSTRAINT audit_events_one_successor UNIQUE (prev_hash)
);
CREATE INDEX audit_events_by_request ON audit_events (request_id, seq);
CREATE FUNCTION jit_audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION jit_audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION jit_audit_events_append_only();

CREATE TABLE jobs (
  id TEXT COLLATE "C" PRIMARY KEY,
  kind TEXT COLLATE "C" NOT NULL,
  request_id TEXT COLLATE "C" NOT NULL,
  due_at_ms BIGINT NOT NULL,
  first_due_at_ms BIGINT NOT NULL,
  attempts INTEGER NOT NULL,
  lease_owner TEXT NOT NULL,
  lease_until_ms BIGINT,
  last_error TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE INDEX jobs_by_due ON jobs (due_at_ms, id);
CREATE INDEX jobs_by_request ON jobs (request_id);

CREATE TABLE ledger (
  principal_id TEXT COLLATE "C" NOT NULL,
  account_id TEXT COLLATE "C" NOT NULL,
  permission_set_arn TEXT COLLATE "C" NOT NULL,
  origin TEXT NOT NULL,
  state TEXT NOT NULL,
  holders TEXT NOT NULL,
  operation_id TEXT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (principal_id, account_id, permission_set_arn)
);
)sql",
    // 2: claims in claim order through an index (ClaimDueJobs): revocations and the other jobs
    // each have an index of their own in due order, so that a claim reads the due jobs it takes
    // (and the leased ones before them) instead of sorting every due job.
    R"sql(
CREATE INDEX jobs_revocations_by_due ON jobs (due_at_ms, id) WHERE kind = 'revoke';
CREATE INDEX jobs_others_by_due ON jobs (due_at_ms, id) WHERE kind <> 'revoke';
)sql",
    // 3: a ledger entry's holders as rows, one per holder, so that a grant or a revocation adds
    // or removes one row instead of rewriting a JSON list of every holder (10,000 holders: a
    // 165 KB value per transition). seq is the order holders were added; the migration keeps
    // each list's order and drops repeats. ledger.holders goes; ledger.holder_count counts the
    // rows.
    R"sql(
CREATE TABLE ledger_holders (
  principal_id TEXT COLLATE "C" NOT NULL,
  account_id TEXT COLLATE "C" NOT NULL,
  permission_set_arn TEXT COLLATE "C" NOT NULL,
  request_id TEXT COLLATE "C" NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (principal_id, account_id, permission_set_arn, request_id)
);
ALTER TABLE ledger ADD COLUMN holder_count BIGINT NOT NULL DEFAULT 0;
INSERT INTO ledger_holders (principal_id, account_id, permission_set_arn, request_id)
  SELECT l.principal_id, l.account_id, l.permission_set_arn, h.value
  FROM ledger AS l CROSS JOIN LATERAL jsonb_array_elements_text(l.holders::jsonb)
    WITH ORDINALITY AS h(value, n)
  ORDER BY l.principal_id, l.account_id, l.permission_set_arn, h.n
  ON CONFLICT DO NOTHING;
UPDATE ledger SET holder_count = (
  SELECT count(*) FROM ledger_holders AS h WHERE h.principal_id = ledger.principal_id AND
  h.account_id = ledger.account_id AND h.permission_set_arn = ledger.permission_set_arn);
ALTER TABLE ledger DROP COLUMN holders;
)sql",
    // 4: keyed records (Tx::GetRecord ...): small documents modules keep beside the requests.
    // Keys collate as bytes ("C"), the order ListRecords promises.
    R"sql(
CREATE TABLE records (
  kind TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (kind, key)
);
)sql",
};

constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

// ---------------------------------------------------------------------------------------------
// Errors.

// libpq's messages on one line (they end in a newline and may hold several lines: a hint, a
// detail), for logs and one-line CLI errors.
std::string OneLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\n') {
      out += s[i];
      continue;
    }
    while (i + 1 < s.size() && (s[i + 1] == '\t' || s[i + 1] == ' ')) ++i;
    out += "; ";
  }
  return out;
}

// Maps a failed statement to a Status. SQLSTATE classes: 40 (serialization failure, deadlock)
// lost a race; 08 (connection), 53 (resources: too many connections, disk full), 57 (shutdown,
// cannot connect now, statement timeout), 55P03 (lock timeout), 25006 (read-only: a standby),
// 25P03 (idle-in-transaction timeout), 58 (I/O) are "try again later". Anything else is a bug.
Status FromPg(PGconn* conn, const PGresult* res, std::string_view what) {
  std::string message(what);
  message += ": ";
  const char* text = res != nullptr ? PQresultErrorMessage(res) : nullptr;
  message += OneLine(text != nullptr && *text != '\0' ? text : PQerrorMessage(conn));
  const char* state_c = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view state = state_c != nullptr ? state_c : "";
  if (PQstatus(conn) == CONNECTION_BAD) return UnavailableError("connection lost: " + message);
  if (state.empty()) {
    // libpq failed before the server said anything: nothing is known of the connection.
    return UnavailableError(std::move(message));
  }
  std::string_view cls = state.substr(0, 2);
  if (state == "40003") return UnavailableError(std::move(message));  // outcome unknown
  if (cls == "40") return AbortedError(std::move(message));
  if (cls == "08" || cls == "53" || cls == "57" || cls == "58" || state == "55P03" ||
      state == "25006" || state == "25P03") {
    return UnavailableError(std::move(message));
  }
  if (state == "22021" || state == "22P05") return InvalidArgumentError(std::move(message));
  if (state == "23505") return AlreadyExistsError(std::move(message));  // unique violation
  return InternalError(std::move(message));
}

// ---------------------------------------------------------------------------------------------
// Statements.

// Parameters of one statement, as text (NULL when absent). Text PostgreSQL cannot keep (a NUL
// byte, malformed UTF-8) is refused here, before anything reaches the server, so that it never
// aborts the transaction it is part of.
class Params {
 public:
  Params& Add(std::string_view v) {
    if (v.find('\0') != std::string_view::npos) {
      Fail("text with a NUL byte cannot be stored");
    } else if (!IsUtf8(v)) {
      Fail("text that is not UTF-8 cannot be stored");
    }
    values_.emplace_back(std::string(v));
    return *this;
  }
  Params& Add(std::int64_t v) {
    values_.emplace_back(std::to_string(v));
    return *this;
  }
  Params& Add(Time t) { return Add(ToUnixMillis(t)); }
  Params& Add(const std::optional<Time>& t) {
    if (t.has_value()) return Add(*t);
    values_.emplace_back(std::nullopt);
    return *this;
  }

  const Status& status() const { return status_; }
  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const auto& v : values_) out.push_back(v.has_value() ? v->c_str() : nullptr);
    return out;
  }

 private:
  void Fail(std::string why) {
    if (status_.ok()) {
      status_ = InvalidArgumentError(std::move(why) + " (parameter " +
                                     std::to_string(values_.size() + 1) + ")");
    }
  }

  std::vector<std::optional<std::string>> values_;
  Status status_;
};

// A statement's result; owns the PGresult.
class Rows {
 public:
  explicit Rows(PGresult* res) : res_(res) {}
  ~Rows() {
    if (res_ != nullptr) PQclear(res_);
  }
  Rows(Rows&& o) noexcept : res_(o.res_) { o.res_ = nullptr; }
  Rows& operator=(Rows&&) = delete;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  int size() const { return PQntuples(res_); }
  bool IsNull(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }
  std::string Text(int row, int col) const {
    return {PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col))};
  }
  // The column as an integer; 0 when it is not one (cannot happen for our BIGINT columns).
  std::int64_t Int(int row, int col) const {
    const char* p = PQgetvalue(res_, row, col);
    const char* end = p + PQgetlength(res_, row, col);
    std::int64_t v = 0;
    std::from_chars(p, end, v);
    return v;
  }
  Time TimeAt(int row, int col) const { return FromUnixMillis(Int(row, col)); }
  std::optional<Time> OptionalTime(int row, int col) const {
    return IsNull(row, col) ? std::nullopt : std::optional<Time>(TimeAt(row, col));
  }
  // Rows an INSERT, UPDATE or DELETE touched.
  std::int64_t affected() const {
    const char* n = PQcmdTuples(res_);
    std::int64_t v = 0;
    if (n != nullptr) std::from_chars(n, n + std::char_traits<char>::length(n), v);
    return v;
  }
  std::string_view command() const { return PQcmdStatus(res_); }

 private:
  PGresult* res_;
};

// One server connection. Not thread-safe: one thread at a time (the pools see to it).
class Conn {
 public:
  static Result<std::unique_ptr<Conn>> Open(const PostgresOptions& o) {
    const std::string connect_timeout =
        std::to_string(std::max<std::int64_t>(1, (o.connect_timeout.count() + 999) / 1000));
    // Ours first: values in the URL (expanded from dbname) win over them.
    const std::array<const char*, 9> keys = {"connect_timeout",
                                             "application_name",
                                             "keepalives",
                                             "keepalives_idle",
                                             "keepalives_interval",
                                             "keepalives_count",
                                             "tcp_user_timeout",
                                             "dbname",
                                             nullptr};
    const std::string tcp_user_timeout =
        std::to_string(std::max<std::int64_t>(1000, o.statement_timeout.count()));
    const std::array<const char*, 9> values = {
        connect_timeout.c_str(),  "jit",         "1",    "5", "2", "3",
        tcp_user_timeout.c_str(), o.url.c_str(), nullptr};
    PGconn* raw = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
    auto conn = std::unique_ptr<Conn>(new Conn(raw));  // owns raw even when it failed
    if (raw == nullptr) return UnavailableError("postgres: out of memory");
    if (PQstatus(raw) != CONNECTION_OK) {
      return UnavailableError("cannot connect to " + RedactPostgresUrl(o.url) + ": " +
                              OneLine(PQerrorMessage(raw)));
    }
    std::string setup = "SET statement_timeout = " + std::to_string(o.statement_timeout.count()) +
                        "; SET lock_timeout = " + std::to_string(o.lock_timeout.count()) +
                        "; SET idle_in_transaction_session_timeout = " +
                        std::to_string(o.idle_in_transaction_timeout.count()) +
                        "; SET client_encoding = 'UTF8'"
                        "; SET default_transaction_isolation = 'read committed'";
    JIT_RETURN_IF_ERROR(conn->Exec(setup));
    return conn;
  }

  ~Conn() {
    if (conn_ != nullptr) PQfinish(conn_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // True when the connection can no longer be used (lost, or left in an unknown state).
  bool broken() const {
    return broken_ || PQstatus(conn_) != CONNECTION_OK ||
           PQtransactionStatus(conn_) != PQTRANS_IDLE;
  }
  bool lost() const { return PQstatus(conn_) != CONNECTION_OK; }
  void MarkBroken() { broken_ = true; }

  // Runs one or more statements without parameters.
  Status Exec(const std::string& sql) {
    PGresult* res = PQexec(conn_, sql.c_str());
    Rows rows(res);
    ExecStatusType st = PQresultStatus(res);
    if (res == nullptr || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)) {
      return FromPg(conn_, res, "'" + sql.substr(0, 48) + "'");
    }
    return OkStatus();
  }

  // Runs one statement with parameters ($1, $2, ...).
  Result<Rows> Query(std::string_view sql, const Params& params) {
    if (!params.status().ok()) return params.status();
    std::vector<const char*> values = params.pointers();
    std::string text(sql);
    PGresult* res = PQexecParams(conn_, text.c_str(), params.size(), nullptr, values.data(),
                                 nullptr, nullptr, /*resultFormat=*/0);
    Rows rows(res);
    ExecStatusType st = PQresultStatus(res);
    if (res == nullptr || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)) {
      return FromPg(conn_, res, "'" + text.substr(0, 48) + "'");
    }
    return rows;
  }
  Result<Rows> Query(std::string_view sql) { return Query(sql, Params()); }

  // Runs COMMIT. OK only when the server committed; a transaction that had failed is rolled
  // back by COMMIT, which is an error here.
  Status Commit() {
    PGresult* res = PQexec(conn_, "COMMIT");
    Rows rows(res);
    ExecStatusType st = PQresultStatus(res);
    if (res == nullptr || st != PGRES_COMMAND_OK) {
      Status s = FromPg(conn_, res, "commit");
      MarkBroken();
      if (s.code() == StatusCode::kUnavailable) {
        return UnavailableError("the commit's outcome is unknown: " + s.message());
      }
      return s;
    }
    if (rows.command() != "COMMIT") {
      MarkBroken();
      return InternalError("the transaction had failed and was rolled back");
    }
    return OkStatus();
  }

  void Rollback() {
    if (lost()) return;
    if (!Exec("ROLLBACK").ok()) MarkBroken();
  }

 private:
  explicit Conn(PGconn* conn) : conn_(conn) {}

  PGconn* conn_;
  bool broken_ = false;
};

// A few connections shared by threads. Thread-safe.
class Pool {
 public:
  // A connection borrowed from the pool; given back (or closed, when broken) when it goes away.
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Conn> conn, bool reused)
        : pool_(pool), conn_(std::move(conn)), reused_(reused) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Return(std::move(conn_));
    }
    Conn& operator*() { return *conn_; }
    Conn* operator->() { return conn_.get(); }
    // True when it had been used before (and so may have died while idle).
    bool reused() const { return reused_; }

   private:
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
    bool reused_;
  };

  Pool(const PostgresOptions& options, int max, std::string name)
      : options_(options), max_(max), name_(std::move(name)) {}

  // A connection: an idle one unless `fresh`, else a new one while fewer than `max` are open;
  // otherwise waits up to pool_wait. Unavailable when none comes or a new one cannot connect.
  Result<Lease> Acquire(bool fresh = false) {
    {
      MutexLock lock(&mu_);
      if (fresh) {
        // A dead one was seen: its idle siblings likely died with it (a server restart).
        open_ -= static_cast<int>(idle_.size());
        idle_.clear();
      }
      for (;;) {
        if (!idle_.empty()) {
          std::unique_ptr<Conn> conn = std::move(idle_.back());
          idle_.pop_back();
          return Lease(this, std::move(conn), /*reused=*/true);
        }
        if (open_ < max_) {
          ++open_;
          break;
        }
        const auto deadline = std::chrono::steady_clock::now() + options_.pool_wait;
        while (idle_.empty() && open_ >= max_ && cv_.WaitUntil(mu_, deadline)) {
        }
        if (idle_.empty() && open_ >= max_) {
          return UnavailableError("postgres: all " + std::to_string(max_) + " " + name_ +
                                  " connections are busy");
        }
      }
    }
    Result<std::unique_ptr<Conn>> conn = Conn::Open(options_);
    if (!conn.ok()) {
      {
        MutexLock lock(&mu_);
        --open_;
      }
      cv_.Signal();
      return conn.error();
    }
    return Lease(this, std::move(conn).value(), /*reused=*/false);
  }

 private:
  void Return(std::unique_ptr<Conn> conn) {
    {
      MutexLock lock(&mu_);
      if (conn->broken()) {
        --open_;
      } else {
        idle_.push_back(std::move(conn));
      }
    }
    cv_.Signal();
    // A broken conn is closed here, outside the lock, when `conn` goes away.
  }

  const PostgresOptions& options_;
  const int max_;
  const std::string name_;
  Mutex mu_;
  CondVar cv_;
  std::vector<std::unique_ptr<Conn>> idle_ GUARDED_BY(mu_);
  int open_ GUARDED_BY(mu_) = 0;  // idle and lent out
};

// ---------------------------------------------------------------------------------------------
// Rows.

constexpr std::string_view kRequestColumns = "id, requester, state, version, data";

Result<model::Request> RequestFromRow(const Rows& rows, int i) {
  model::Request r;
  r.id = rows.Text(i, 0);
  JIT_RETURN_IF_ERROR(DecodeRequestData(rows.Text(i, 4), r));
  // The indexed columns are the truth; the JSON holds the rest.
  r.requester = rows.Text(i, 1);
  std::optional<model::RequestState> state = model::ParseRequestState(rows.Text(i, 2));
  if (!state.has_value()) return InternalError("request " + r.id + " has an unknown state");
  r.state = *state;
  r.version = rows.Int(i, 3);
  return r;
}

constexpr std::string_view kJobColumns =
    "id, kind, request_id, due_at_ms, first_due_at_ms, attempts, lease_owner, lease_until_ms, "
    "last_error, payload, created_at_ms";

Result<model::Job> JobFromRow(const Rows& rows, int i) {
  model::Job j;
  j.id = rows.Text(i, 0);
  std::optional<model::JobKind> kind = model::ParseJobKind(rows.Text(i, 1));
  if (!kind.has_value()) return InternalError("job " + j.id + " has an unknown kind");
  j.kind = *kind;
  j.request_id = rows.Text(i, 2);
  j.due_at = rows.TimeAt(i, 3);
  j.first_due_at = rows.TimeAt(i, 4);
  j.attempts = static_cast<int>(rows.Int(i, 5));
  j.lease_owner = rows.Text(i, 6);
  j.lease_until = rows.OptionalTime(i, 7);
  j.last_error = rows.Text(i, 8);
  j.payload = rows.Text(i, 9);
  j.created_at = rows.TimeAt(i, 10);
  return j;
}

Result<std::vector<model::Job>> JobsFrom(const Rows& rows) {
  std::vector<model::Job> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    JIT_ASSIGN_OR_RETURN(model::Job j, JobFromRow(rows, i));
    out.push_back(std::move(j));
  }
  return out;
}

constexpr std::string_view kAuditColumns =
    "seq, at_ms, actor, action, request_id, severity, details, prev_hash, hash";

model::AuditEvent AuditFromRow(const Rows& rows, int i) {
  model::AuditEvent e;
  e.seq = rows.Int(i, 0);
  e.at = rows.TimeAt(i, 1);
  e.actor = rows.Text(i, 2);
  e.action = rows.Text(i, 3);
  e.request_id = rows.Text(i, 4);
  e.severity = rows.Text(i, 5);
  e.details = rows.Text(i, 6);
  e.prev_hash = rows.Text(i, 7);
  e.hash = rows.Text(i, 8);
  return e;
}

// The columns of a ledger entry read from `ledger`: the sixth is the holders as a JSON list,
// oldest first (aggregated from ledger_holders in seq order, in the same statement).
constexpr std::string_view kLedgerColumns =
    "principal_id, account_id, permission_set_arn, origin, state, "
    "COALESCE((SELECT json_agg(h.request_id ORDER BY h.seq)::text FROM ledger_holders AS h "
    "WHERE h.principal_id = ledger.principal_id AND h.account_id = ledger.account_id AND "
    "h.permission_set_arn = ledger.permission_set_arn), '[]'), operation_id, updated_at_ms";
// The same without the holders: the sixth column is their number.
constexpr std::string_view kLedgerHeadColumns =
    "principal_id, account_id, permission_set_arn, origin, state, holder_count, operation_id, "
    "updated_at_ms";
constexpr std::string_view kLedgerKeyMatches =
    "principal_id = $1 AND account_id = $2 AND permission_set_arn = $3";

// Row i of kLedgerColumns or (holders = false) of kLedgerHeadColumns.
Result<model::LedgerEntry> LedgerFromRow(const Rows& rows, int i, bool holders = true) {
  model::LedgerEntry e;
  e.principal_id = rows.Text(i, 0);
  e.account_id = rows.Text(i, 1);
  e.permission_set_arn = rows.Text(i, 2);
  std::optional<model::LedgerOrigin> origin = model::ParseLedgerOrigin(rows.Text(i, 3));
  std::optional<model::LedgerState> state = model::ParseLedgerState(rows.Text(i, 4));
  if (!origin.has_value() || !state.has_value()) {
    return InternalError("ledger entry for " + e.principal_id + " has an unknown origin/state");
  }
  e.origin = *origin;
  e.state = *state;
  if (!holders) {
    e.operation_id = rows.Text(i, 6);
    e.updated_at = rows.TimeAt(i, 7);
    return e;
  }
  try {
    e.holders = Json::parse(rows.Text(i, 5)).get<std::vector<std::string>>();
  } catch (const Json::exception& ex) {
    return InternalError("ledger entry for " + e.principal_id + " is damaged: " + ex.what());
  }
  e.operation_id = rows.Text(i, 6);
  e.updated_at = rows.TimeAt(i, 7);
  return e;
}

// ClaimDueJobs' statement, before the RETURNING list: $1 now, $2 the most rows, $3 the owner,
// $4 the lease's end. Each CTE names its partial index's condition word for word
// (`kind = 'revoke'`, `kind <> 'revoke'`) and orders by the index's columns, so that the
// planner can walk jobs_revocations_by_due (resp. jobs_others_by_due) in claim order and stop
// at the limit instead of sorting every due job.
constexpr std::string_view kClaimSql =
    "WITH revocations AS (SELECT id FROM jobs WHERE kind = 'revoke' AND due_at_ms <= $1 AND "
    "(lease_owner = '' OR lease_until_ms IS NULL OR lease_until_ms <= $1) "
    "ORDER BY due_at_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED), "
    "others AS (SELECT id FROM jobs WHERE kind <> 'revoke' AND due_at_ms <= $1 AND "
    "(lease_owner = '' OR lease_until_ms IS NULL OR lease_until_ms <= $1) "
    "ORDER BY due_at_ms, id LIMIT GREATEST($2 - (SELECT count(*) FROM revocations), 0) "
    "FOR UPDATE SKIP LOCKED), "
    "due AS (SELECT id FROM revocations UNION ALL SELECT id FROM others) "
    "UPDATE jobs SET lease_owner = $3, lease_until_ms = $4 FROM due "
    "WHERE jobs.id = due.id RETURNING ";

std::string Sql(std::string_view a, std::string_view b = {}, std::string_view c = {},
                std::string_view d = {}) {
  std::string s(a);
  s += b;
  s += c;
  s += d;
  return s;
}

// A text[] literal for ANY($n): {"a","b"} with " and \ escaped.
std::string ArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

Time Ms(Time t) { return FromUnixMillis(ToUnixMillis(t)); }

// The store this thread is running a transaction of, to catch re-entry (which would wait for
// a connection or the write lock that this very thread holds).
thread_local const void* tl_in_transaction = nullptr;

// The Tx of one Transact: statements on one connection, inside BEGIN ... COMMIT, holding the
// write lock. The first error from the server poisons it (PostgreSQL refuses every later
// statement of a failed transaction): later calls return that error, and so does Transact.
class PgTx final : public Tx {
 public:
  PgTx(Conn& conn, Clock& clock) : conn_(conn), clock_(clock) {}

  const Status& poisoned() const { return poisoned_; }
  std::vector<model::Job> TakePutJobs() { return std::move(put_jobs_); }

  Result<model::Request> GetRequest(std::string_view id) override {
    JIT_ASSIGN_OR_RETURN(
        Rows rows,
        Query(Sql("SELECT ", kRequestColumns, " FROM requests WHERE id = $1"), Params().Add(id)));
    if (rows.size() == 0) return NotFoundError("no request " + std::string(id));
    return RequestFromRow(rows, 0);
  }

  Result<std::vector<model::Request>> OpenRequestsOf(std::string_view requester) override {
    // Every transaction holds the write lock (the advisory lock), so no other submission can
    // insert between this read and this transaction's commit.
    JIT_ASSIGN_OR_RETURN(Rows rows,
                         Query(Sql("SELECT ", kRequestColumns,
                                   " FROM requests WHERE requester = $1 AND state IN ('pending', "
                                   "'approved', 'active') ORDER BY id"),
                               Params().Add(requester)));
    std::vector<model::Request> out;
    for (int i = 0; i < rows.size(); ++i) {
      JIT_ASSIGN_OR_RETURN(model::Request r, RequestFromRow(rows, i));
      out.push_back(std::move(r));
    }
    return out;
  }

  Status InsertRequest(const model::Request& r) override {
    if (r.id.empty()) return InvalidArgumentError("request id is empty");
    JIT_ASSIGN_OR_RETURN(std::string data, EncodeRequestData(r));
    // ON CONFLICT DO NOTHING: a taken id must not fail (and so poison) the transaction.
    JIT_ASSIGN_OR_RETURN(
        Rows rows,
        Query("INSERT INTO requests (id, requester, state, created_at_ms, version, data) "
              "VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (id) DO NOTHING",
              Params()
                  .Add(r.id)
                  .Add(r.requester)
                  .Add(model::RequestStateName(r.state))
                  .Add(r.created_at)
                  .Add(data)));
    if (rows.affected() != 1) return AlreadyExistsError("request " + r.id);
    return OkStatus();
  }

  Status UpdateRequest(model::Request& r) override {
    JIT_ASSIGN_OR_RETURN(std::string data, EncodeRequestData(r));
    JIT_ASSIGN_OR_RETURN(
        Rows rows, Query("UPDATE requests SET requester = $2, state = $3, created_at_ms = $4, "
                         "version = version + 1, data = $5 WHERE id = $1 AND version = $6",
                         Params()
                             .Add(r.id)
                             .Add(r.requester)
                             .Add(model::RequestStateName(r.state))
                             .Add(r.created_at)
                             .Add(data)
                             .Add(r.version)));
    if (rows.affected() == 1) {
      ++r.version;
      return OkStatus();
    }
    // Nothing changed: tell "absent" from "someone else changed it".
    JIT_ASSIGN_OR_RETURN(Rows probe,
                         Query("SELECT version FROM requests WHERE id = $1", Params().Add(r.id)));
    if (probe.size() == 0) return NotFoundError("no request " + r.id);
    return AbortedError("request " + r.id + " changed (version " + std::to_string(probe.Int(0, 0)) +
                        ", not " + std::to_string(r.version) + ")");
  }

  Result<model::AuditEvent> AppendAudit(model::AuditEvent e) override {
    if (!head_.has_value()) {
      // The write lock is held, and under READ COMMITTED this reads the latest commit: the
      // head cannot move until this transaction ends.
      JIT_ASSIGN_OR_RETURN(Rows rows,
                           Query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1"));
      head_ = rows.size() == 0 ? std::make_pair(std::int64_t{0}, std::string(model::kGenesisHash))
                               : std::make_pair(rows.Int(0, 0), rows.Text(0, 1));
    }
    if (e.at == Time()) e.at = clock_.Now();
    e.at = Ms(e.at);
    e.seq = head_->first + 1;
    e.prev_hash = head_->second;
    e.hash = model::ChainHash(e);
    Result<Rows> inserted = Query(Sql("INSERT INTO audit_events (", kAuditColumns,
                                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
                                  Params()
                                      .Add(e.seq)
                                      .Add(e.at)
                                      .Add(e.actor)
                                      .Add(e.action)
                                      .Add(e.request_id)
                                      .Add(e.severity)
                                      .Add(e.details)
                                      .Add(e.prev_hash)
                                      .Add(e.hash));
    if (!inserted.ok()) {
      if (inserted.error().code() == StatusCode::kAlreadyExists) {
        // Another writer appended without the lock (an older binary?): never fork; retry.
        poisoned_ = AbortedError("the audit chain moved: " + inserted.error().message());
        return poisoned_;
      }
      return inserted.error();
    }
    head_ = std::make_pair(e.seq, e.hash);
    return e;
  }

  Status PutJob(const model::Job& j) override {
    if (j.id.empty()) return InvalidArgumentError("job id is empty");
    JIT_ASSIGN_OR_RETURN(
        Rows rows,
        Query(Sql("INSERT INTO jobs (", kJobColumns,
                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                  "ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, "
                  "request_id = EXCLUDED.request_id, due_at_ms = EXCLUDED.due_at_ms, "
                  "first_due_at_ms = EXCLUDED.first_due_at_ms, attempts = EXCLUDED.attempts, "
                  "lease_owner = EXCLUDED.lease_owner, lease_until_ms = EXCLUDED.lease_until_ms, "
                  "last_error = EXCLUDED.last_error, payload = EXCLUDED.payload, "
                  "created_at_ms = EXCLUDED.created_at_ms"),
              Params()
                  .Add(j.id)
                  .Add(model::JobKindName(j.kind))
                  .Add(j.request_id)
                  .Add(j.due_at)
                  .Add(j.first_due_at)
                  .Add(static_cast<std::int64_t>(j.attempts))
                  .Add(j.lease_owner)
                  .Add(j.lease_until)
                  .Add(j.last_error)
                  .Add(j.payload)
                  .Add(j.created_at)));
    (void)rows;
    // Report the job as stored (times to the millisecond).
    model::Job stored = j;
    stored.due_at = Ms(j.due_at);
    stored.first_due_at = Ms(j.first_due_at);
    stored.created_at = Ms(j.created_at);
    if (j.lease_until.has_value()) stored.lease_until = Ms(*j.lease_until);
    auto it = std::find_if(put_jobs_.begin(), put_jobs_.end(),
                           [&](const model::Job& p) { return p.id == j.id; });
    if (it != put_jobs_.end()) {
      *it = std::move(stored);
    } else {
      put_jobs_.push_back(std::move(stored));
    }
    return OkStatus();
  }

  Status DeleteJob(std::string_view id) override {
    JIT_ASSIGN_OR_RETURN(Rows rows, Query("DELETE FROM jobs WHERE id = $1", Params().Add(id)));
    (void)rows;
    // A job put and deleted in the same transaction never existed as far as others know.
    std::erase_if(put_jobs_, [&](const model::Job& p) { return p.id == id; });
    return OkStatus();
  }

  Result<std::vector<model::Job>> JobsForRequest(std::string_view request_id) override {
    // FOR UPDATE: a claim by another process (which does not take the write lock) cannot
    // change these rows between this read and this transaction's writes.
    JIT_ASSIGN_OR_RETURN(Rows rows, Query(Sql("SELECT ", kJobColumns,
                                              " FROM jobs WHERE request_id = $1 "
                                              "ORDER BY due_at_ms, id FOR UPDATE"),
                                          Params().Add(request_id)));
    return JobsFrom(rows);
  }

  Result<std::optional<model::LedgerEntry>> GetLedger(
      std::string_view principal_id, std::string_view account_id,
      std::string_view permission_set_arn) override {
    JIT_ASSIGN_OR_RETURN(Rows rows,
                         Query(Sql("SELECT ", kLedgerColumns,
                                   " FROM ledger WHERE principal_id = $1 AND account_id = $2 AND "
                                   "permission_set_arn = $3"),
                               Params().Add(principal_id).Add(account_id).Add(permission_set_arn)));
    if (rows.size() == 0) return std::optional<model::LedgerEntry>();
    JIT_ASSIGN_OR_RETURN(model::LedgerEntry e, LedgerFromRow(rows, 0));
    return std::optional<model::LedgerEntry>(std::move(e));
  }

  Status PutLedger(const model::LedgerEntry& e) override {
    JIT_RETURN_IF_ERROR(PutLedgerHead(e));
    JIT_ASSIGN_OR_RETURN(
        Rows cleared,
        Query(Sql("WITH cleared AS (DELETE FROM ledger_holders WHERE ", kLedgerKeyMatches,
                  ") UPDATE ledger SET holder_count = 0 WHERE ", kLedgerKeyMatches),
              KeyParams(e.principal_id, e.account_id, e.permission_set_arn)));
    (void)cleared;
    for (const std::string& id : e.holders) {
      JIT_RETURN_IF_ERROR(AddLedgerHolder(e.principal_id, e.account_id, e.permission_set_arn, id));
    }
    return OkStatus();
  }

  Status DeleteLedger(std::string_view principal_id, std::string_view account_id,
                      std::string_view permission_set_arn) override {
    JIT_ASSIGN_OR_RETURN(
        Rows rows, Query(Sql("WITH holders AS (DELETE FROM ledger_holders WHERE ",
                             kLedgerKeyMatches, ") DELETE FROM ledger WHERE ", kLedgerKeyMatches),
                         KeyParams(principal_id, account_id, permission_set_arn)));
    (void)rows;
    return OkStatus();
  }

  Result<std::optional<LedgerHead>> GetLedgerHead(std::string_view principal_id,
                                                  std::string_view account_id,
                                                  std::string_view permission_set_arn) override {
    JIT_ASSIGN_OR_RETURN(Rows rows, Query(Sql("SELECT ", kLedgerHeadColumns, " FROM ledger WHERE ",
                                              kLedgerKeyMatches),
                                          KeyParams(principal_id, account_id, permission_set_arn)));
    if (rows.size() == 0) return std::optional<LedgerHead>();
    LedgerHead head;
    JIT_ASSIGN_OR_RETURN(head.entry, LedgerFromRow(rows, 0, /*holders=*/false));
    head.holder_count = rows.Int(0, 5);
    return std::optional<LedgerHead>(std::move(head));
  }

  Status PutLedgerHead(const model::LedgerEntry& e) override {
    JIT_ASSIGN_OR_RETURN(
        Rows rows,
        Query("INSERT INTO ledger (principal_id, account_id, permission_set_arn, origin, state, "
              "holder_count, operation_id, updated_at_ms) VALUES ($1, $2, $3, $4, $5, 0, $6, $7) "
              "ON CONFLICT (principal_id, account_id, permission_set_arn) DO UPDATE SET "
              "origin = EXCLUDED.origin, state = EXCLUDED.state, "
              "operation_id = EXCLUDED.operation_id, updated_at_ms = EXCLUDED.updated_at_ms",
              KeyParams(e.principal_id, e.account_id, e.permission_set_arn)
                  .Add(model::LedgerOriginName(e.origin))
                  .Add(model::LedgerStateName(e.state))
                  .Add(e.operation_id)
                  .Add(e.updated_at)));
    (void)rows;
    return OkStatus();
  }

  Result<bool> IsLedgerHolder(std::string_view principal_id, std::string_view account_id,
                              std::string_view permission_set_arn,
                              std::string_view request_id) override {
    JIT_ASSIGN_OR_RETURN(
        Rows rows,
        Query(Sql("SELECT 1 FROM ledger_holders WHERE ", kLedgerKeyMatches, " AND request_id = $4"),
              KeyParams(principal_id, account_id, permission_set_arn).Add(request_id)));
    return rows.size() != 0;
  }

  // One statement: the insert happens only when the entry exists, and the count follows it.
  Status AddLedgerHolder(std::string_view principal_id, std::string_view account_id,
                         std::string_view permission_set_arn,
                         std::string_view request_id) override {
    if (request_id.empty()) return InvalidArgumentError("ledger holder id is empty");
    JIT_ASSIGN_OR_RETURN(
        Rows rows,
        Query(Sql("WITH added AS (INSERT INTO ledger_holders (principal_id, account_id, "
                  "permission_set_arn, request_id) SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 "
                  "FROM ledger WHERE ",
                  kLedgerKeyMatches,
                  ") ON CONFLICT DO NOTHING RETURNING 1) UPDATE ledger SET holder_count = "
                  "holder_count + (SELECT count(*) FROM added) WHERE ",
                  std::string(kLedgerKeyMatches) + " RETURNING 1"),
              KeyParams(principal_id, account_id, permission_set_arn).Add(request_id)));
    if (rows.size() == 0) return NotFoundError("no ledger entry for " + std::string(principal_id));
    return OkStatus();
  }

  Status RemoveLedgerHolder(std::string_view principal_id, std::string_view account_id,
                            std::string_view permission_set_arn,
                            std::string_view request_id) override {
    JIT_ASSIGN_OR_RETURN(
        Rows rows,
        Query(Sql("WITH removed AS (DELETE FROM ledger_holders WHERE ", kLedgerKeyMatches,
                  " AND request_id = $4 RETURNING 1) UPDATE ledger SET holder_count = "
                  "holder_count - (SELECT count(*) FROM removed) WHERE ",
                  std::string(kLedgerKeyMatches) + " AND EXISTS (SELECT 1 FROM removed)"),
              KeyParams(principal_id, account_id, permission_set_arn).Add(request_id)));
    (void)rows;
    return OkStatus();
  }

  Result<std::optional<std::string>> GetRecord(std::string_view kind,
                                               std::string_view key) override {
    JIT_RETURN_IF_ERROR(CheckRecord(kind, key));
    JIT_ASSIGN_OR_RETURN(Rows rows, Query("SELECT value FROM records WHERE kind = $1 AND key = $2",
                                          Params().Add(kind).Add(key)));
    if (rows.size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(rows.Text(0, 0));
  }

  Status PutRecord(std::string_view kind, std::string_view key, std::string_view value) override {
    JIT_RETURN_IF_ERROR(CheckRecord(kind, key, value));
    JIT_ASSIGN_OR_RETURN(Rows rows, Query("INSERT INTO records (kind, key, value) VALUES ($1, $2, "
                                          "$3) ON CONFLICT (kind, key) DO UPDATE SET value = "
                                          "EXCLUDED.value",
                                          Params().Add(kind).Add(key).Add(value)));
    (void)rows;
    return OkStatus();
  }

  Result<bool> InsertRecord(std::string_view kind, std::string_view key,
                            std::string_view value) override {
    JIT_RETURN_IF_ERROR(CheckRecord(kind, key, value));
    JIT_ASSIGN_OR_RETURN(Rows rows, Query("INSERT INTO records (kind, key, value) VALUES ($1, $2, "
                                          "$3) ON CONFLICT DO NOTHING RETURNING 1",
                                          Params().Add(kind).Add(key).Add(value)));
    return rows.size() != 0;
  }

  Result<std::vector<std::pair<std::string, std::string>>> ListRecords(
      std::string_view kind, std::string_view key_prefix) override {
    JIT_RETURN_IF_ERROR(CheckRecordPrefix(kind, key_prefix));
    // Keys collate as bytes: those with the prefix follow it in one run (starts_with keeps
    // the scan to that run).
    JIT_ASSIGN_OR_RETURN(Rows rows, Query("SELECT key, value FROM records WHERE kind = $1 AND key "
                                          ">= $2 AND starts_with(key, $2) ORDER BY key",
                                          Params().Add(kind).Add(key_prefix)));
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(static_cast<std::size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) out.emplace_back(rows.Text(i, 0), rows.Text(i, 1));
    return out;
  }

  Status DeleteRecord(std::string_view kind, std::string_view key) override {
    JIT_RETURN_IF_ERROR(CheckRecord(kind, key));
    JIT_ASSIGN_OR_RETURN(Rows rows, Query("DELETE FROM records WHERE kind = $1 AND key = $2",
                                          Params().Add(kind).Add(key)));
    (void)rows;
    return OkStatus();
  }

 private:
  static Params KeyParams(std::string_view principal_id, std::string_view account_id,
                          std::string_view permission_set_arn) {
    Params params;
    params.Add(principal_id).Add(account_id).Add(permission_set_arn);
    return params;
  }

  // Runs a statement of this transaction. Input refused before sending leaves the transaction
  // usable; an error from the server poisons it.
  Result<Rows> Query(std::string_view sql, const Params& params = Params()) {
    if (!poisoned_.ok()) return poisoned_;
    if (!params.status().ok()) return params.status();
    Result<Rows> rows = conn_.Query(sql, params);
    if (!rows.ok()) poisoned_ = rows.error();
    return rows;
  }

  Conn& conn_;
  Clock& clock_;
  Status poisoned_;
  std::optional<std::pair<std::int64_t, std::string>> head_;  // last seq and hash, once read
  std::vector<model::Job> put_jobs_;  // in order of first put; last put of each id wins
};

// ---------------------------------------------------------------------------------------------
// The engine.

class PostgresStore final : public Store {
 public:
  PostgresStore(PostgresOptions options, Clock& clock)
      : options_(std::move(options)),
        clock_(clock),
        writers_(options_, options_.write_connections, "write"),
        readers_(options_, options_.read_connections, "read") {}

  Status Transact(const std::function<Status(Tx&)>& fn) override {
    JIT_CHECK(tl_in_transaction != this);  // Transact or a Store call inside fn: a bug
    const std::string begin =
        "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" +
        std::to_string(kWriteLock) + ")";
    for (bool fresh = false;; fresh = true) {
      JIT_ASSIGN_OR_RETURN(Pool::Lease conn, writers_.Acquire(fresh));
      Status began = conn->Exec(begin);
      if (began.ok()) return Finish(conn, fn);
      // An idle connection that had died (a server restart): nothing ran; once more on a new
      // one. Otherwise (the lock timed out, the server is down) the caller retries later.
      bool dead_idle = conn.reused() && conn->lost();
      conn->Rollback();
      if (!dead_idle || fresh) return began;
    }
  }

  Result<model::Request> GetRequest(std::string_view id) override {
    return Read<model::Request>([&](Conn& c) -> Result<model::Request> {
      JIT_ASSIGN_OR_RETURN(Rows rows,
                           c.Query(Sql("SELECT ", kRequestColumns, " FROM requests WHERE id = $1"),
                                   Params().Add(id)));
      if (rows.size() == 0) return NotFoundError("no request " + std::string(id));
      return RequestFromRow(rows, 0);
    });
  }

  Result<RequestPage> ListRequests(const RequestFilter& filter) override {
    if (filter.limit < 1 || filter.limit > 500) {
      return InvalidArgumentError("limit must be 1..500, not " + std::to_string(filter.limit));
    }
    if (!filter.cursor.empty() && !IsWellFormedId(filter.cursor, "req_")) {
      return InvalidArgumentError("malformed cursor");
    }
    return Read<RequestPage>([&](Conn& c) -> Result<RequestPage> {
      // Ids sort by creation time, so "older than the cursor" is "id below the cursor". One row
      // more than asked tells whether another page follows. The key columns are COLLATE "C":
      // byte order, as in SQLite, whatever the database's locale.
      JIT_ASSIGN_OR_RETURN(
          Rows rows,
          c.Query(Sql("SELECT ", kRequestColumns,
                      " FROM requests WHERE ($1 = '' OR state = $1) AND ($2 = '' OR requester = $2)"
                      " AND ($3 = '' OR id < $3) ORDER BY id DESC "
                      "LIMIT $4"),
                  Params()
                      .Add(filter.state.has_value() ? model::RequestStateName(*filter.state) : "")
                      .Add(filter.requester)
                      .Add(filter.cursor)
                      .Add(static_cast<std::int64_t>(filter.limit) + 1)));
      RequestPage page;
      for (int i = 0; i < rows.size(); ++i) {
        if (static_cast<int>(page.items.size()) == filter.limit) {
          page.next_cursor = page.items.back().id;
          break;
        }
        JIT_ASSIGN_OR_RETURN(model::Request r, RequestFromRow(rows, i));
        page.items.push_back(std::move(r));
      }
      return page;
    });
  }

  Result<std::vector<model::AuditEvent>> ListAudit(std::int64_t after_seq, int limit,
                                                   std::string_view request_id) override {
    if (limit < 1 || limit > 1000) {
      return InvalidArgumentError("limit must be 1..1000, not " + std::to_string(limit));
    }
    return Read<std::vector<model::AuditEvent>>(
        [&](Conn& c) -> Result<std::vector<model::AuditEvent>> {
          JIT_ASSIGN_OR_RETURN(
              Rows rows,
              c.Query(
                  Sql("SELECT ", kAuditColumns,
                      " FROM audit_events WHERE seq > $1 AND "
                      "($2 = '' OR request_id = $2) ORDER BY seq LIMIT $3"),
                  Params().Add(after_seq).Add(request_id).Add(static_cast<std::int64_t>(limit))));
          std::vector<model::AuditEvent> out;
          out.reserve(static_cast<std::size_t>(rows.size()));
          for (int i = 0; i < rows.size(); ++i) out.push_back(AuditFromRow(rows, i));
          return out;
        });
  }

  Result<std::vector<model::Job>> ListJobs() override {
    return Read<std::vector<model::Job>>([&](Conn& c) -> Result<std::vector<model::Job>> {
      JIT_ASSIGN_OR_RETURN(
          Rows rows, c.Query(Sql("SELECT ", kJobColumns, " FROM jobs ORDER BY due_at_ms, id")));
      return JobsFrom(rows);
    });
  }

  Result<std::vector<model::Job>> ListJobsDueBefore(Time before, int limit) override {
    if (limit < 1 || limit > 10000) {
      return InvalidArgumentError("limit must be 1..10000, not " + std::to_string(limit));
    }
    return Read<std::vector<model::Job>>([&](Conn& c) -> Result<std::vector<model::Job>> {
      JIT_ASSIGN_OR_RETURN(
          Rows rows,
          c.Query(Sql("SELECT ", kJobColumns,
                      " FROM jobs WHERE due_at_ms <= $1 ORDER BY due_at_ms, id LIMIT $2"),
                  Params().Add(before).Add(static_cast<std::int64_t>(limit))));
      return JobsFrom(rows);
    });
  }

  Result<std::vector<model::Job>> ClaimDueJobs(Time now, std::string_view owner, Time lease_until,
                                               int limit) override {
    if (owner.empty()) return InvalidArgumentError("lease owner is empty");
    if (limit < 1) return InvalidArgumentError("limit must be at least 1");
    // One statement, no write lock: rows another claimer (or a transaction's JobsForRequest)
    // holds are skipped, and a row whose lease someone took meanwhile fails the re-check of
    // the WHERE clause, so no job is leased twice. Revocations first, then the rest for what
    // is left of the limit: each an index scan in claim order (kClaimSql).
    Result<std::vector<model::Job>> claimed =
        Read<std::vector<model::Job>>([&](Conn& c) -> Result<std::vector<model::Job>> {
          JIT_ASSIGN_OR_RETURN(Rows rows, c.Query(Sql(kClaimSql, QualifiedJobColumns()),
                                                  Params()
                                                      .Add(now)
                                                      .Add(static_cast<std::int64_t>(limit))
                                                      .Add(owner)
                                                      .Add(lease_until)));
          return JobsFrom(rows);
        });
    if (!claimed.ok()) return claimed;
    // RETURNING keeps no order: revocations first, then by due time, as the contract says.
    std::sort(claimed->begin(), claimed->end(), [](const model::Job& a, const model::Job& b) {
      bool ar = a.kind == model::JobKind::kRevoke;
      bool br = b.kind == model::JobKind::kRevoke;
      if (ar != br) return ar;
      if (a.due_at != b.due_at) return a.due_at < b.due_at;
      return a.id < b.id;
    });
    return claimed;
  }

  Result<std::vector<std::string>> RenewLeases(std::string_view owner,
                                               const std::vector<std::string>& ids,
                                               Time lease_until) override {
    if (owner.empty()) return InvalidArgumentError("lease owner is empty");
    std::vector<std::string> renewed;
    if (ids.empty()) return renewed;
    return Read<std::vector<std::string>>([&](Conn& c) -> Result<std::vector<std::string>> {
      JIT_ASSIGN_OR_RETURN(Rows rows,
                           c.Query("UPDATE jobs SET lease_until_ms = $3 "
                                   "WHERE id = ANY ($1::text[]) AND lease_owner = $2 RETURNING id",
                                   Params().Add(ArrayLiteral(ids)).Add(owner).Add(lease_until)));
      std::vector<std::string> out;
      out.reserve(static_cast<std::size_t>(rows.size()));
      for (int i = 0; i < rows.size(); ++i) out.push_back(rows.Text(i, 0));
      std::sort(out.begin(), out.end());
      return out;
    });
  }

  Status ReleaseAllLeases() override {
    return Read<bool>([&](Conn& c) -> Result<bool> {
             JIT_ASSIGN_OR_RETURN(Rows rows,
                                  c.Query("UPDATE jobs SET lease_owner = '', lease_until_ms = NULL "
                                          "WHERE lease_owner <> '' OR lease_until_ms IS NOT NULL"));
             (void)rows;
             return true;
           })
        .error();
  }

  Result<std::vector<model::LedgerEntry>> ListLedger() override {
    return Read<std::vector<model::LedgerEntry>>(
        [&](Conn& c) -> Result<std::vector<model::LedgerEntry>> {
          JIT_ASSIGN_OR_RETURN(
              Rows rows,
              c.Query(Sql("SELECT ", kLedgerColumns,
                          " FROM ledger ORDER BY principal_id, account_id, permission_set_arn")));
          std::vector<model::LedgerEntry> out;
          for (int i = 0; i < rows.size(); ++i) {
            JIT_ASSIGN_OR_RETURN(model::LedgerEntry e, LedgerFromRow(rows, i));
            out.push_back(std::move(e));
          }
          return out;
        });
  }

  Status Ping() override {
    return Read<bool>([&](Conn& c) -> Result<bool> {
             JIT_ASSIGN_OR_RETURN(Rows rows, c.Query("SELECT pg_is_in_recovery()"));
             if (rows.size() == 1 && rows.Text(0, 0) == "t") {
               return UnavailableError("the database is read-only (a standby in recovery)");
             }
             return true;
           })
        .error();
  }

  void SetJobListener(JobListener* listener) override {
    MutexLock lock(&listener_mu_);
    listener_ = listener;
  }

 private:
  static std::string QualifiedJobColumns() {
    std::string out;
    std::string_view cols = kJobColumns;
    std::size_t start = 0;
    while (start < cols.size()) {
      std::size_t comma = cols.find(',', start);
      std::string_view col = cols.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
      if (!out.empty()) out += ", ";
      out += "jobs.";
      out += col;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return out;
  }

  // Runs fn inside the begun transaction on `conn`, then commits or rolls back.
  Status Finish(Pool::Lease& conn, const std::function<Status(Tx&)>& fn) {
    PgTx tx(*conn, clock_);
    tl_in_transaction = this;
    Status s = fn(tx);
    tl_in_transaction = nullptr;
    if (s.ok() && !tx.poisoned().ok()) {
      // fn went on after a failed statement: never commit what is left of it.
      s = tx.poisoned();
    }
    if (!s.ok()) {
      conn->Rollback();
      return s;
    }
    JIT_RETURN_IF_ERROR(conn->Commit());
    std::vector<model::Job> jobs = tx.TakePutJobs();
    if (!jobs.empty()) {
      MutexLock lock(&listener_mu_);
      if (listener_ != nullptr) listener_->OnJobsCommitted(jobs);
    }
    return OkStatus();
  }

  // Runs `fn` on a read connection. When a pooled connection turns out dead (the server was
  // restarted), runs it once more on a new one. Every caller's fn may run twice: reads, and
  // writes whose repetition is harmless (a claim whose first try did commit leaves jobs leased
  // to us that nobody runs until the lease runs out; renewing or releasing twice is the same).
  template <typename T>
  Result<T> Read(const std::function<Result<T>(Conn&)>& fn) {
    JIT_CHECK(tl_in_transaction != this);
    Result<T> out = UnavailableError("postgres: no connection");
    bool retry = false;
    {
      JIT_ASSIGN_OR_RETURN(Pool::Lease conn, readers_.Acquire());
      out = fn(*conn);
      retry = !out.ok() && conn.reused() && conn->lost();
    }
    if (!retry) return out;
    JIT_ASSIGN_OR_RETURN(Pool::Lease fresh, readers_.Acquire(/*fresh=*/true));
    return fn(*fresh);
  }

  const PostgresOptions options_;
  Clock& clock_;
  Pool writers_;
  Pool readers_;

  // Held while the listener is called, so that SetJobListener(nullptr) returning means no
  // call is under way.
  Mutex listener_mu_;
  JobListener* listener_ GUARDED_BY(listener_mu_) = nullptr;
};

// Brings the schema to kSchemaVersion in one transaction, under the migration lock, so that
// replicas starting together migrate once and the others wait and find it done.
Status Migrate(Conn& conn, const std::string& where) {
  JIT_RETURN_IF_ERROR(
      conn.Exec("BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")"));
  auto fail = [&](Status s) {
    conn.Rollback();
    return s;
  };
  // Looked up first, so that a role that may not CREATE (the schema made by an owner role)
  // can still open a current database.
  Result<Rows> exists = conn.Query("SELECT to_regclass('schema_version') IS NOT NULL");
  if (!exists.ok()) return fail(exists.error());
  int version = 0;
  if (exists->Text(0, 0) == "t") {
    Result<Rows> current = conn.Query("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!current.ok()) return fail(current.error());
    version = static_cast<int>(current->Int(0, 0));
  } else {
    Status s = conn.Exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    if (!s.ok()) return fail(s.WithContext("cannot create the schema in " + where));
  }
  if (version > kSchemaVersion) {
    return fail(FailedPreconditionError(where + " has schema version " + std::to_string(version) +
                                        "; this binary knows up to " +
                                        std::to_string(kSchemaVersion)));
  }
  for (int v = version + 1; v <= kSchemaVersion; ++v) {
    Status s = conn.Exec(std::string(kMigrations[v - 1]));
    if (!s.ok()) return fail(s.WithContext("schema step " + std::to_string(v)));
  }
  if (version != kSchemaVersion) {
    Status s =
        conn.Exec("DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (" +
                  std::to_string(kSchemaVersion) + ")");
    if (!s.ok()) return fail(s);
  }
  return conn.Commit();
}

}  // namespace

Status PostgresOptions::Validate() const {
  if (!IsPostgresUrl(url)) {
    return InvalidArgumentError("store: '" + RedactPostgresUrl(url) +
                                "' is not a postgres:// or postgresql:// URL");
  }
  if (url.find('\0') != std::string::npos) return InvalidArgumentError("store URL has a NUL");
  if (write_connections < 1 || write_connections > 64 || read_connections < 1 ||
      read_connections > 64) {
    return InvalidArgumentError("postgres pools must have 1..64 connections each");
  }
  for (Duration d :
       {pool_wait, connect_timeout, lock_timeout, statement_timeout, idle_in_transaction_timeout}) {
    if (d <= Duration(0)) return InvalidArgumentError("postgres timeouts must be positive");
  }
  return OkStatus();
}

int PostgresSchemaVersion() { return kSchemaVersion; }

std::string PostgresClaimStatementForTesting() { return Sql(kClaimSql, "jobs.id"); }

bool IsPostgresUrl(std::string_view url) {
  return url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
}

std::string RedactPostgresUrl(std::string_view url) {
  std::string out(url);
  std::size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    std::size_t start = scheme + 3;
    std::size_t end = out.find_first_of("/?#", start);
    if (end == std::string::npos) end = out.size();
    std::size_t at = out.rfind('@', end);
    if (at != std::string::npos && at >= start) {
      std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... among the query parameters.
  std::size_t q = out.find('?');
  while (q != std::string::npos) {
    std::size_t key = q + 1;
    if (out.compare(key, 9, "password=") == 0) {
      std::size_t value = key + 9;
      std::size_t end = out.find('&', value);
      out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
    }
    q = out.find('&', key);
  }
  return out;
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options, Clock& clock) {
  JIT_RETURN_IF_ERROR(options.Validate());
  {
    // libpq's own parser: a malformed URL is the caller's mistake, not an outage.
    char* err = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(options.url.c_str(), &err);
    if (parsed == nullptr) {
      std::string why = err != nullptr ? OneLine(err) : "out of memory";
      PQfreemem(err);
      return InvalidArgumentError("store: '" + RedactPostgresUrl(options.url) +
                                  "' is not a valid PostgreSQL URL: " + RedactPostgresUrl(why));
    }
    PQconninfoFree(parsed);
  }
  JIT_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn, Conn::Open(options));
  JIT_RETURN_IF_ERROR(Migrate(*conn, RedactPostgresUrl(options.url)));
  return std::unique_ptr<Store>(new PostgresStore(options, clock));
}

}  // namespace jit::store
