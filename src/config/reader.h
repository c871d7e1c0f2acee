#pragma once
// Reading the config file (YAML) for the parsers of its sections, without their including
// yaml-cpp: a Node is one value of the file with its line, a Reader collects problems as
// "FILE:LINE: what is wrong" (one line per problem, in file order, control characters escaped)
// and offers typed getters that report a wrong value on its key's line.
//
// Each module parses its own section (notify::ParseChannels, policy::ParsePolicy, ...);
// config/config.h puts them together. A section parser never stops at the first problem: it
// reports what it finds through the Reader and goes on, so that one run shows every mistake.
//
// Not thread-safe: one Reader per parse.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace YAML {
class Node;
}

namespace jit::config {

// One value of the file. Copies share the value. A default Node is null.
class Node {
 public:
  Node();
  explicit Node(const YAML::Node& node);

  bool IsNull() const;
  bool IsScalar() const;
  bool IsSequence() const;
  bool IsMap() const;
  // The text of a scalar, as written (an unquoted 012 keeps its zero); "" for other nodes.
  std::string Scalar() const;
  // The items of a sequence, in file order; empty for other nodes.
  std::vector<Node> Items() const;
  // The keys and values of a map, in file order; empty for other nodes.
  std::vector<std::pair<Node, Node>> Entries() const;
  // The 1-based line the node starts on, or `fallback` when it has no position.
  int Line(int fallback) const;

 private:
  std::shared_ptr<const YAML::Node> node_;  // never null
};

// A string from a list, with the line it stands on.
struct Named {
  std::string value;
  int line = 0;
};

// One `key: value` of a map.
struct Field {
  std::string key;
  Node value;
  int line = 0;  // of the key; problems with the value are reported here
};

// The fields of one map, in file order.
class Fields {
 public:
  // The field named `key`, or null.
  const Field* Get(std::string_view key) const;
  std::vector<Field>& all() { return fields_; }
  const std::vector<Field>& all() const { return fields_; }

 private:
  std::vector<Field> fields_;
};

// " (did you mean 'x'?)" when one of `candidates` is close to `word`, else "".
std::string Hint(std::string_view word, const std::vector<std::string>& candidates);

// Collects the problems of one file and reads typed values, reporting each wrong one.
class Reader {
 public:
  explicit Reader(std::string_view file_name) : file_name_(file_name) {}

  // Records a problem. `what` may quote the file's own text: control characters in it are
  // escaped, so that each problem stays on one line (a key holding a newline broke "one line
  // per problem" and could forge lines of `jit config check` output; found by
  // fuzz/config_fuzzer).
  void Error(int line, const std::string& what);
  bool HasErrors() const { return !errors_.empty(); }
  // OK without problems; otherwise InvalidArgument with one "FILE:LINE: what" line per
  // problem, sorted by line (problems on one line in the order they were found).
  Status Finish() const;
  const std::string& file_name() const { return file_name_; }

  // --- typed getters; each reports its own problem and returns nullopt on one ------------

  // The fields of a map. Reports a non-map ("WHAT must be a map"), keys that are not plain
  // names, duplicate keys and keys not in `allowed` (with a "did you mean" hint).
  std::optional<Fields> Map(const Node& node, int line, const std::string& what,
                            const std::vector<std::string>& allowed);
  // Map() of a field's value, named "'KEY'".
  std::optional<Fields> Map(const Field& f, const std::vector<std::string>& allowed);
  // A scalar ("'KEY' must be a string").
  std::optional<std::string> String(const Field& f);
  // A required string: present ("WHAT has no 'KEY'" on `line`), a scalar and not empty.
  std::optional<std::string> RequiredString(const Fields& fields, std::string_view key, int line,
                                            const std::string& what);
  // A list of non-empty strings ("'KEY' must be a list of names").
  std::optional<std::vector<Named>> Names(const Field& f);
  // Names() without lines; empty when `f` is null or wrong.
  std::vector<std::string> NameList(const Field* f);
  // true/false, yes/no, on/off as YAML 1.1 spells them.
  std::optional<bool> Bool(const Field& f);
  // A whole number in [min, max].
  std::optional<int> Int(const Field& f, int min, int max);
  // A duration longer than 0s ("15m").
  std::optional<Duration> PositiveDuration(const Field& f);
  // A duration in [min, max]; otherwise `message` on the field's line.
  std::optional<Duration> DurationIn(const Field& f, Duration min, Duration max,
                                     const std::string& message);

 private:
  std::string file_name_;
  std::vector<std::pair<int, std::string>> errors_;
};

// Parses `text` (one YAML document; a second one, or a syntax error, is a "FILE:LINE: ..."
// InvalidArgument), checks that it is a map with keys from `allowed` ("the config must be a
// map", unknown keys) and calls `read` with its fields in file order, then returns the
// Reader's verdict. An empty file is an error ("the config is empty; ...").
// yaml-cpp's exceptions, also those thrown while `read` walks the tree, become
// InvalidArgument here. `file_name` empty: "config".
Status ReadDocument(std::string_view text, std::string_view file_name,
                    const std::vector<std::string>& allowed,
                    const std::function<void(const Fields&, Reader&)>& read);

// Reads a whole file for ReadDocument. NotFound "cannot read config file PATH" when it cannot.
Result<std::string> ReadConfigText(const std::string& path);

}  // namespace jit::config
