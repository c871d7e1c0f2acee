#include "core/log.h"

#include <spdlog/details/log_msg.h>

#include <array>
#include <chrono>
#include <ctime>

namespace jit::logging {
namespace {

thread_local std::vector<Field> tl_fields;

// JSON string contents for `s`: quotes, backslashes and control characters escaped, bytes that
// are not UTF-8 replaced by U+FFFD.
void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      constexpr std::string_view kHex = "0123456789abcdef";
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          out += R"(\u00)";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
      }
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      std::size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
      bool ok = len > 0 && i + len <= s.size();
      for (std::size_t k = 1; ok && k < len; ++k) {
        ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      }
      if (ok) {
        out.append(s.substr(i, len));
        i += len;
      } else {
        out += "\xEF\xBF\xBD";
        ++i;
      }
    }
  }
  out += '"';
}

std::string Timestamp(const spdlog::details::log_msg& msg, bool iso) {
  auto t = std::chrono::system_clock::to_time_t(msg.time);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 40> buf{};
  (void)std::strftime(buf.data(), buf.size(), iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
  std::array<char, 48> out{};
  (void)std::snprintf(out.data(), out.size(), iso ? "%s.%03dZ" : "%s.%03d", buf.data(),
                      static_cast<int>(ms.count()));
  return out.data();
}

std::string_view LevelName(spdlog::level::level_enum l) {
  auto sv = spdlog::level::to_string_view(l);
  return {sv.data(), sv.size()};
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"ts\":\"" + Timestamp(msg, true) + "\",\"level\":";
    AppendJsonString(line, LevelName(msg.level));
    line += ",\"logger\":";
    AppendJsonString(line, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    line += ",\"msg\":";
    AppendJsonString(line, std::string_view(msg.payload.data(), msg.payload.size()));
    for (const Field& f : CurrentFields()) {
      if (f.key == "ts" || f.key == "level" || f.key == "logger" || f.key == "msg") continue;
      line += ',';
      AppendJsonString(line, f.key);
      line += ':';
      AppendJsonString(line, f.value);
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "[" + Timestamp(msg, false) + "] [" + std::string(LevelName(msg.level)) +
                       "] " + std::string(msg.payload.data(), msg.payload.size());
    for (const Field& f : CurrentFields()) {
      bool quote = f.value.empty() || f.value.find_first_of(" \"=\t\n") != std::string::npos;
      line += " " + f.key + "=";
      if (quote) {
        AppendJsonString(line, f.value);
      } else {
        line += f.value;
      }
    }
    line += "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }
};

}  // namespace

ScopedFields::ScopedFields(std::vector<Field> fields) : added_(fields.size()) {
  for (Field& f : fields) tl_fields.push_back(std::move(f));
}

ScopedFields::~ScopedFields() { tl_fields.resize(tl_fields.size() - added_); }

std::vector<Field> CurrentFields() {
  std::vector<Field> out;
  for (std::size_t i = 0; i < tl_fields.size(); ++i) {
    bool shadowed = false;
    for (std::size_t j = i + 1; j < tl_fields.size() && !shadowed; ++j) {
      shadowed = tl_fields[j].key == tl_fields[i].key;
    }
    if (!shadowed) out.push_back(tl_fields[i]);
  }
  return out;
}

std::unique_ptr<spdlog::formatter> NewJsonFormatter() { return std::make_unique<JsonFormatter>(); }
std::unique_ptr<spdlog::formatter> NewTextFormatter() { return std::make_unique<TextFormatter>(); }

}  // namespace jit::logging
