#pragma once
// Logging with context: fields (the HTTP request id, the jit request id, ...) that a scope sets
// for every line logged on its thread, and the two line formats of `jit serve`: JSON lines
// (one object per line, for log pipelines) and text for people.

#include <spdlog/formatter.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace jit::logging {

struct Field {
  std::string key;    // [a-z_]+
  std::string value;  // any text; escaped by the formatters
};

// Adds `fields` to every line logged on this thread while it lives (nested scopes add to the
// outer ones; a key set again shadows the outer value). Not movable.
class ScopedFields {
 public:
  // Use braces: `ScopedFields f{{"request_id", id}};`.
  ScopedFields(std::initializer_list<Field> fields) : ScopedFields(std::vector<Field>(fields)) {}
  explicit ScopedFields(std::vector<Field> fields);
  ~ScopedFields();
  ScopedFields(const ScopedFields&) = delete;
  ScopedFields& operator=(const ScopedFields&) = delete;

 private:
  std::size_t added_;
};

// The fields in force on this thread, outermost first, with shadowed keys removed.
std::vector<Field> CurrentFields();

// {"ts":"2026-12-01T10:00:00.123Z","level":"info","logger":"jit","msg":"...", <fields>}.
// Text that is not UTF-8 is replaced, control characters are escaped: one line per message.
std::unique_ptr<spdlog::formatter> NewJsonFormatter();
// "[2026-12-01 10:00:00.123] [info] msg key=value ..." (values with blanks or quotes quoted).
std::unique_ptr<spdlog::formatter> NewTextFormatter();

}  // namespace jit::logging
