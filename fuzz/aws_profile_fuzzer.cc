// Fuzzes the shared AWS credentials and config files (src/aws/credentials.h): the INI parser
// and profile resolution, from file contents only (aws::ProfileFromIni and
// aws::SharedConfigCredentials; no environment, no files, no network, no metadata calls).
// Input: one byte, then the credentials file's text, 0x00, the config file's text. The byte
// picks the profile ("default", "dev" or "prod eu") and whether each file is there at all.
// What must hold (a violation aborts): a malformed file is InvalidArgument
// "credentials:LINE: ..." (or "config:LINE: ...") on one line, LINE within the file; a
// profile's settings have non-empty lower-case keys without '=' and neither keys nor values
// have white space around them or line breaks; written back as INI they parse to the same
// settings; credentials come out only with both keys set, the credentials file winning; other
// outcomes are NotFound or InvalidArgument; nothing crashes.

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"

namespace {

using jit::aws::ProfileSettings;

[[noreturn]] void Fail(const std::string& why) {
  (void)std::fprintf(stderr, "aws_profile_fuzzer: %s\n", why.c_str());
  std::abort();
}

bool Space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

void CheckError(const jit::Status& s, const std::string& path, std::string_view text) {
  if (s.code() != jit::StatusCode::kInvalidArgument) {
    Fail("a malformed file is not InvalidArgument: " + s.ToString());
  }
  const std::string& m = s.message();
  if (m.rfind(path + ":", 0) != 0) Fail("the error names no file: " + m);
  std::size_t i = path.size() + 1;
  std::size_t digits = i;
  while (i < m.size() && m[i] >= '0' && m[i] <= '9') ++i;
  if (i == digits || i + 2 > m.size() || m[i] != ':') Fail("the error names no line: " + m);
  if (m.find('\n') != std::string::npos) Fail("the error spans lines: " + m);
  std::size_t line = std::stoul(m.substr(digits, i - digits));
  std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  if (line == 0 || line > lines) Fail("the error's line is not in the file: " + m);
}

void CheckSettings(const ProfileSettings& settings) {
  for (const auto& [k, v] : settings) {
    if (k.empty()) Fail("an empty key");
    if (k.find_first_of("=\n") != std::string::npos || v.find('\n') != std::string::npos) {
      Fail("a key or value holds '=' or a line break: " + k);
    }
    if (Space(k.front()) || Space(k.back()) ||
        (!v.empty() && (Space(v.front()) || Space(v.back())))) {
      Fail("white space around the key or value of " + k);
    }
    for (char c : k) {
      if (std::tolower(static_cast<unsigned char>(c)) != static_cast<unsigned char>(c)) {
        Fail("a key is not lower-case: " + k);
      }
    }
  }
}

// The profile's settings written back as a file of the same kind parse to the same settings.
void CheckRoundTrip(const ProfileSettings& settings, const std::string& profile, bool config) {
  std::string text =
      "[" + (config && profile != "default" ? "profile " + profile : profile) + "]\n";
  for (const auto& [k, v] : settings) text += k + " = " + v + "\n";
  auto again = jit::aws::ProfileFromIni(text, "again", profile, config);
  if (!again.has_value()) Fail("written-back settings do not parse: " + again.error().ToString());
  if (!again->has_value() || **again != settings) Fail("written-back settings differ");
}

// False when the file is malformed (the shared-config source then stops with that error).
bool Load(std::string_view text, const std::string& path, const std::string& profile, bool config,
          std::optional<ProfileSettings>& out) {
  auto settings = jit::aws::ProfileFromIni(text, path, profile, config);
  if (!settings.has_value()) {
    CheckError(settings.error(), path, text);
    return false;
  }
  if (*settings) {
    CheckSettings(**settings);
    CheckRoundTrip(**settings, profile, config);
  }
  out = *std::move(settings);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const std::string kProfiles[] = {"default", "dev", "prod eu"};
  const std::string& profile = kProfiles[(data[0] & 0x3) % 3];
  const bool have_credentials = (data[0] & 0x4) == 0;
  const bool have_config = (data[0] & 0x8) == 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t split = rest.find('\0');
  std::string_view credentials_text = rest.substr(0, split);
  std::string_view config_text =
      split == std::string_view::npos ? std::string_view() : rest.substr(split + 1);

  std::optional<ProfileSettings> from_credentials;
  std::optional<ProfileSettings> from_config;
  bool loaded = true;
  if (have_credentials) {
    loaded = Load(credentials_text, "credentials", profile, false, from_credentials) && loaded;
  }
  if (have_config) loaded = Load(config_text, "config", profile, true, from_config) && loaded;
  if (!loaded) return 0;

  auto creds = jit::aws::SharedConfigCredentials(from_credentials, from_config, profile);
  if (!creds.has_value()) {
    jit::StatusCode code = creds.error().code();
    if (code != jit::StatusCode::kNotFound && code != jit::StatusCode::kInvalidArgument) {
      Fail("an unexpected error: " + creds.error().ToString());
    }
    return 0;
  }
  if (creds->access_key_id.empty() || creds->secret_access_key.empty()) {
    Fail("credentials without both keys");
  }
  auto pick = [&](const char* key) {
    for (const auto* file : {&from_credentials, &from_config}) {
      if (*file) {
        auto it = (*file)->find(key);
        if (it != (*file)->end()) return it->second;
      }
    }
    return std::string();
  };
  if (creds->access_key_id != pick("aws_access_key_id") ||
      creds->secret_access_key != pick("aws_secret_access_key") ||
      creds->session_token != pick("aws_session_token")) {
    Fail("the credentials are not the files' settings, the credentials file first");
  }
  return 0;
}
