#include "config/reader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>
#include <fstream>
#include <set>
#include <sstream>

#include "core/duration.h"
#include "core/strings.h"

namespace jit::config {
namespace {

// Edit distance, for "did you mean" hints. Inputs are short keys and names.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Walks the documents of a YAML stream without building them, noting where each starts and
// where its first node is. See CheckOneDocument.
class DocumentMarks final : public YAML::EventHandler {
 public:
  YAML::Mark start;       // of the document being read
  YAML::Mark first_node;  // its first node; start when it has none
  void OnDocumentStart(const YAML::Mark& mark) override {
    start = mark;
    first_node = mark;
    seen_node_ = false;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (!seen_node_) first_node = mark;
    seen_node_ = true;
  }
  bool seen_node_ = false;
};

// OK when `text` holds at most one YAML document. YAML::LoadAll cannot be used to find out: on
// some malformed input (",", ", b", ",]") yaml-cpp 0.7's parser reports an empty document
// without consuming the token, again and again, and LoadAll loops for ever, allocating as it
// goes (yaml-cpp issue 1040, fixed upstream after 0.8.0; found by fuzz/config_fuzzer). A
// document that starts where the one before started is that loop: a syntax error. Throws what
// the parser throws (YAML::Exception).
Status CheckOneDocument(const std::string& text, const std::string& file) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentMarks marks;
  std::optional<YAML::Mark> previous;
  for (int docs = 0; parser.HandleNextDocument(marks); ++docs) {
    if (previous && marks.start.pos == previous->pos) {
      return InvalidArgumentError(file + ":" + std::to_string(marks.start.line + 1) +
                                  ": not valid YAML at column " +
                                  std::to_string(marks.start.column + 1));
    }
    if (docs == 1) {
      // YAML::Load would read the first and silently drop the rest.
      return InvalidArgumentError(file + ":" + std::to_string(marks.first_node.line + 1) +
                                  ": the file holds more than one YAML document");
    }
    previous = marks.start;
  }
  return OkStatus();
}

}  // namespace

// --- Node ---------------------------------------------------------------------------------

Node::Node() : node_(std::make_shared<const YAML::Node>()) {}
Node::Node(const YAML::Node& node) : node_(std::make_shared<const YAML::Node>(node)) {}

bool Node::IsNull() const { return node_->IsNull(); }
bool Node::IsScalar() const { return node_->IsScalar(); }
bool Node::IsSequence() const { return node_->IsSequence(); }
bool Node::IsMap() const { return node_->IsMap(); }
std::string Node::Scalar() const { return node_->IsScalar() ? node_->Scalar() : std::string(); }

std::vector<Node> Node::Items() const {
  std::vector<Node> out;
  if (!node_->IsSequence()) return out;
  for (const YAML::Node& item : *node_) out.emplace_back(item);
  return out;
}

std::vector<std::pair<Node, Node>> Node::Entries() const {
  std::vector<std::pair<Node, Node>> out;
  if (!node_->IsMap()) return out;
  for (auto it = node_->begin(); it != node_->end(); ++it) {
    // Copies: `it->first` lives in a proxy that dies at the end of the full expression.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    out.emplace_back(Node(key), Node(value));
  }
  return out;
}

int Node::Line(int fallback) const {
  int line = node_->Mark().line;
  return line >= 0 ? line + 1 : fallback;
}

// --- Fields, Hint -------------------------------------------------------------------------

const Field* Fields::Get(std::string_view key) const {
  for (const Field& f : fields_) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

std::string Hint(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = (word.size() <= 3 ? 1 : 2) + 1;  // beyond that hints are noise
  for (const std::string& c : candidates) {
    std::size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

// --- Reader -------------------------------------------------------------------------------

void Reader::Error(int line, const std::string& what) {
  errors_.emplace_back(line, EscapeForTerminal(what));
}

Status Reader::Finish() const {
  if (errors_.empty()) return OkStatus();
  std::vector<std::pair<int, std::string>> sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string message;
  for (const auto& [line, what] : sorted) {
    if (!message.empty()) message += '\n';
    message += file_name_ + ":" + std::to_string(line) + ": " + what;
  }
  return InvalidArgumentError(std::move(message));
}

std::optional<Fields> Reader::Map(const Node& node, int line, const std::string& what,
                                  const std::vector<std::string>& allowed) {
  if (!node.IsMap()) {
    Error(line, what + " must be a map");
    return std::nullopt;
  }
  Fields fields;
  std::set<std::string> seen;
  for (const auto& [key, value] : node.Entries()) {
    int key_line = key.Line(line);
    if (!key.IsScalar()) {
      Error(key_line, "a key in " + what + " must be a plain name");
      continue;
    }
    std::string name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      if (what == "a rule" && name == "regions") {
        // Silently ignoring a region restriction would widen access. Regions are enforced by
        // the permission set's inline policy, so they belong to its definition.
        Error(key_line,
              "'regions' is not a key of a rule: restrict regions in the permission set's "
              "'definition: regions: [...]' (docs/POLICY.md \"Permission set definitions\")");
      } else {
        Error(key_line, "unknown key '" + name + "' in " + what + Hint(name, allowed));
      }
      continue;
    }
    if (!seen.insert(name).second) {
      Error(key_line, "duplicate key '" + name + "' in " + what);
      continue;
    }
    fields.all().push_back({name, value, key_line});
  }
  return fields;
}

std::optional<Fields> Reader::Map(const Field& f, const std::vector<std::string>& allowed) {
  return Map(f.value, f.line, "'" + f.key + "'", allowed);
}

std::optional<std::string> Reader::String(const Field& f) {
  if (!f.value.IsScalar()) {
    Error(f.line, "'" + f.key + "' must be a string");
    return std::nullopt;
  }
  return f.value.Scalar();
}

std::optional<std::string> Reader::RequiredString(const Fields& fields, std::string_view key,
                                                  int line, const std::string& what) {
  const Field* f = fields.Get(key);
  if (f == nullptr) {
    Error(line, what + " has no '" + std::string(key) + "'");
    return std::nullopt;
  }
  std::optional<std::string> s = String(*f);
  if (s && s->empty()) {
    Error(f->line, "'" + f->key + "' must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<std::vector<Named>> Reader::Names(const Field& f) {
  if (!f.value.IsSequence()) {
    Error(f.line, "'" + f.key + "' must be a list of names");
    return std::nullopt;
  }
  std::vector<Named> out;
  bool ok = true;
  for (const Node& item : f.value.Items()) {
    int line = item.Line(f.line);
    if (!item.IsScalar() || item.Scalar().empty()) {
      Error(line, "'" + f.key + "' must be a list of names");
      ok = false;
      continue;
    }
    out.push_back({item.Scalar(), line});
  }
  if (!ok) return std::nullopt;
  return out;
}

std::vector<std::string> Reader::NameList(const Field* f) {
  std::vector<std::string> out;
  if (f == nullptr) return out;
  if (auto names = Names(*f)) {
    for (Named& n : *names) out.push_back(std::move(n.value));
  }
  return out;
}

std::optional<bool> Reader::Bool(const Field& f) {
  bool b = false;
  if (!f.value.IsScalar() || !YAML::convert<bool>::decode(YAML::Node(f.value.Scalar()), b)) {
    Error(f.line, "'" + f.key + "' must be true or false");
    return std::nullopt;
  }
  return b;
}

std::optional<int> Reader::Int(const Field& f, int min, int max) {
  std::string s = f.value.Scalar();
  bool digits = !s.empty() && s.size() <= 9 &&
                std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  int n = digits ? std::stoi(s) : -1;
  if (!digits || n < min || n > max) {
    Error(f.line, "'" + f.key + "' must be a whole number from " + std::to_string(min) + " to " +
                      std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<Duration> Reader::PositiveDuration(const Field& f) {
  if (!f.value.IsScalar()) {
    Error(f.line, "'" + f.key + "' must be a duration such as 15m or 1h30m");
    return std::nullopt;
  }
  Result<Duration> d = ParseDuration(f.value.Scalar());
  if (!d.ok()) {
    Error(f.line, "'" + f.key + "': " + d.error().message());
    return std::nullopt;
  }
  if (d->count() <= 0) {
    Error(f.line, "'" + f.key + "' must be longer than 0s");
    return std::nullopt;
  }
  return *d;
}

std::optional<Duration> Reader::DurationIn(const Field& f, Duration min, Duration max,
                                           const std::string& message) {
  Result<Duration> d = f.value.IsScalar() ? ParseDuration(f.value.Scalar())
                                          : Result<Duration>(InvalidArgumentError(""));
  if (!d.ok() || *d < min || *d > max) {
    Error(f.line, message);
    return std::nullopt;
  }
  return *d;
}

// --- documents ----------------------------------------------------------------------------

Status ReadDocument(std::string_view text, std::string_view file_name,
                    const std::vector<std::string>& allowed,
                    const std::function<void(const Fields&, Reader&)>& read) {
  std::string file(file_name.empty() ? "config" : file_name);
  try {
    std::string copy(text);
    JIT_RETURN_IF_ERROR(CheckOneDocument(copy, file));
    Node root(YAML::Load(copy));
    Reader reader(file);
    if (root.IsNull()) {
      reader.Error(1, "the config is empty; expected a map of settings such as accounts and rules");
      return reader.Finish();
    }
    std::optional<Fields> top = reader.Map(root, root.Line(1), "the config", allowed);
    if (top) read(*top, reader);
    return reader.Finish();
  } catch (const YAML::Exception& e) {
    int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
    return InvalidArgumentError(file + ":" + std::to_string(line) + ": " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(file + ":1: cannot read the config: " + e.what());
  }
}

Result<std::string> ReadConfigText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read config file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return NotFoundError("cannot read config file " + path);
  return text.str();
}

}  // namespace jit::config
