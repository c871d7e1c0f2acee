#include "aws/sigv4.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/crypto.h"
#include "core/encoding.h"
#include "core/strings.h"
#include "core/time_format.h"

namespace jit::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'; }

// Trims and folds inner runs of white space (including the line breaks of a folded header
// value) into one space, as the canonical header form requires.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Undoes %XX escapes; malformed escapes stay literal (they are then re-encoded as %25XX).
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexDigitValue(s[i + 1]);
      int lo = HexDigitValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// RFC 3986 remove_dot_segments plus collapsing of empty segments ("//").
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view seg = path.substr(pos, next - pos);
    bool last = next == path.size();
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      trailing_slash = last;
    } else if (seg == ".") {
      trailing_slash = last;
    } else if (seg.empty()) {
      trailing_slash = last && !segments.empty();
    } else {
      segments.push_back(seg);
      trailing_slash = false;
    }
    pos = next + 1;
  }
  std::string out;
  for (std::string_view seg : segments) {
    out.push_back('/');
    out.append(seg);
  }
  if (out.empty() || trailing_slash) out.push_back('/');
  return out;
}

// The canonical URI. The path in HttpRequest is the wire path, which the SDKs have already
// URI-encoded once; encoding it once more here is AWS's "encode twice" rule for non-S3
// services. The published vectors carry raw (unencoded) paths, so their canonical form shows a
// single encoding ("/example space/" -> "/example%20space/").
std::string CanonicalUri(std::string_view path, bool normalize) {
  std::string p = normalize ? NormalizePath(path) : std::string(path);
  if (p.empty()) p = "/";
  return UriEncode(p, /*keep_slash=*/true);
}

// Query pairs decoded, re-encoded, then sorted by key and then by value.
std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t pos = 0;
  while (pos < query.size()) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view part = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : part.substr(eq + 1);
    pairs.emplace_back(UriEncode(PercentDecode(key), false),
                       UriEncode(PercentDecode(value), false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

// "yyyymmddThhmmssZ".
std::string AmzDate(Time t) {
  std::string r = FormatRfc3339(t);  // 2015-08-30T12:36:00.000Z
  return r.substr(0, 4) + r.substr(5, 2) + r.substr(8, 2) + "T" + r.substr(11, 2) +
         r.substr(14, 2) + r.substr(17, 2) + "Z";
}

Result<Time> ParseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') {
    return InvalidArgumentError("malformed X-Amz-Date '" + std::string(s) + "'");
  }
  std::string rfc = std::string(s.substr(0, 4)) + "-" + std::string(s.substr(4, 2)) + "-" +
                    std::string(s.substr(6, 2)) + "T" + std::string(s.substr(9, 2)) + ":" +
                    std::string(s.substr(11, 2)) + ":" + std::string(s.substr(13, 2)) + "Z";
  return ParseRfc3339(rfc);
}

struct Canonical {
  std::string request;
  std::string signed_headers;  // "host;x-amz-date"
};

// Builds the canonical request over the headers whose lowercase names are in `names`
// (all headers when `names` is null).
Canonical BuildCanonicalRequest(const HttpRequest& req, const std::set<std::string>* names,
                                bool normalize_path, std::string_view payload_hash) {
  // Headers are sorted by lowercase name; repeated ones keep their order of appearance.
  std::map<std::string, std::vector<std::string>> headers;
  for (const auto& [name, value] : req.headers) {
    std::string lower = ToLower(name);
    if (names != nullptr && names->count(lower) == 0) continue;
    headers[lower].push_back(CanonicalHeaderValue(value));
  }
  Canonical c;
  c.request = req.method + "\n" + CanonicalUri(req.path, normalize_path) + "\n" +
              CanonicalQuery(req.query) + "\n";
  for (const auto& [name, values] : headers) {
    c.request += name;
    c.request.push_back(':');
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) c.request.push_back(',');
      c.request += values[i];
    }
    c.request.push_back('\n');
    if (!c.signed_headers.empty()) c.signed_headers.push_back(';');
    c.signed_headers += name;
  }
  c.request += "\n" + c.signed_headers + "\n" + std::string(payload_hash);
  return c;
}

std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  std::string k = HmacSha256("AWS4" + std::string(secret), date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" +
         Sha256Hex(canonical_request);
}

Status Incomplete(std::string m) {
  return UnauthenticatedError("IncompleteSignatureException: " + std::move(m));
}
Status InvalidSig(std::string m) {
  return UnauthenticatedError("InvalidSignatureException: " + std::move(m));
}

}  // namespace

std::optional<std::string> HttpRequest::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

void HttpRequest::SetHeader(std::string_view name, std::string value) {
  auto it = std::find_if(headers.begin(), headers.end(),
                         [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
  if (it == headers.end()) {
    headers.emplace_back(std::string(name), std::move(value));
    return;
  }
  it->second = std::move(value);
  headers.erase(std::remove_if(std::next(it), headers.end(),
                               [&](const auto& h) { return EqualsIgnoreCase(h.first, name); }),
                headers.end());
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xf]);
    }
  }
  return out;
}

Result<Signature> Sign(HttpRequest& req, const Credentials& creds, const SigningParams& params) {
  if (creds.Empty()) return InvalidArgumentError("sigv4: no credentials to sign with");
  if (params.region.empty()) return InvalidArgumentError("sigv4: no region");
  if (params.service.empty()) return InvalidArgumentError("sigv4: no service");
  if (!req.Header("host").has_value()) return InvalidArgumentError("sigv4: no Host header");
  if (req.method.empty()) return InvalidArgumentError("sigv4: no method");

  const std::string amz_date = AmzDate(params.time);
  const std::string date = amz_date.substr(0, 8);
  req.SetHeader("X-Amz-Date", amz_date);
  bool token_after = !creds.session_token.empty() && params.omit_session_token;
  if (!creds.session_token.empty() && !token_after) {
    req.SetHeader("X-Amz-Security-Token", creds.session_token);
  }
  const std::string payload_hash = Sha256Hex(req.body);
  if (params.sign_body) req.SetHeader("x-amz-content-sha256", payload_hash);
  // Authorization is never part of what is signed (a re-sign must not include the old one).
  std::erase_if(req.headers,
                [](const auto& h) { return EqualsIgnoreCase(h.first, "authorization"); });
  if (token_after) {
    std::erase_if(req.headers,
                  [](const auto& h) { return EqualsIgnoreCase(h.first, "x-amz-security-token"); });
  }

  Canonical canonical = BuildCanonicalRequest(req, nullptr, params.normalize_path, payload_hash);
  const std::string scope = date + "/" + params.region + "/" + params.service + "/aws4_request";
  Signature sig;
  sig.canonical_request = std::move(canonical.request);
  sig.string_to_sign = StringToSign(amz_date, scope, sig.canonical_request);
  std::string key = SigningKey(creds.secret_access_key, date, params.region, params.service);
  std::string raw = HmacSha256(key, sig.string_to_sign);
  sig.signature = Hex(raw);
  sig.authorization = std::string(kAlgorithm) + " Credential=" + creds.access_key_id + "/" + scope +
                      ", SignedHeaders=" + canonical.signed_headers +
                      ", Signature=" + sig.signature;
  req.SetHeader("Authorization", sig.authorization);
  if (token_after) req.SetHeader("X-Amz-Security-Token", creds.session_token);
  return sig;
}

Result<AuthorizationHeader> ParseAuthorization(std::string_view value) {
  std::string_view v = value;
  while (!v.empty() && IsSpace(v.front())) v.remove_prefix(1);
  if (v.substr(0, kAlgorithm.size()) != kAlgorithm) {
    return Incomplete("Authorization header must start with AWS4-HMAC-SHA256");
  }
  v.remove_prefix(kAlgorithm.size());
  if (v.empty() || !IsSpace(v.front())) {
    return Incomplete("Authorization header must start with AWS4-HMAC-SHA256");
  }
  std::optional<std::string> credential, signed_headers, signature;
  std::size_t pos = 0;
  while (pos <= v.size()) {
    std::size_t comma = v.find(',', pos);
    if (comma == std::string_view::npos) comma = v.size();
    std::string part = CanonicalHeaderValue(v.substr(pos, comma - pos));
    pos = comma + 1;
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    if (eq == std::string::npos) return Incomplete("malformed Authorization part '" + part + "'");
    std::string key = part.substr(0, eq);
    std::string val = part.substr(eq + 1);
    std::optional<std::string>* slot = key == "Credential"      ? &credential
                                       : key == "SignedHeaders" ? &signed_headers
                                       : key == "Signature"     ? &signature
                                                                : nullptr;
    if (slot == nullptr) return Incomplete("unknown Authorization part '" + key + "'");
    if (slot->has_value()) return Incomplete("repeated Authorization part '" + key + "'");
    *slot = std::move(val);
  }
  if (!credential) return Incomplete("Authorization header requires 'Credential' parameter");
  if (!signed_headers) {
    return Incomplete("Authorization header requires 'SignedHeaders' parameter");
  }
  if (!signature) return Incomplete("Authorization header requires 'Signature' parameter");

  AuthorizationHeader out;
  // Credential=<akid>/<date>/<region>/<service>/aws4_request
  std::vector<std::string> parts;
  std::size_t p = 0;
  while (true) {
    std::size_t slash = credential->find('/', p);
    parts.push_back(
        credential->substr(p, slash == std::string::npos ? std::string::npos : slash - p));
    if (slash == std::string::npos) break;
    p = slash + 1;
  }
  if (parts.size() != 5 || parts[4] != "aws4_request" || parts[0].empty() || parts[1].size() != 8 ||
      parts[2].empty() || parts[3].empty()) {
    return Incomplete("malformed credential scope '" + *credential + "'");
  }
  for (char c : parts[1]) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return Incomplete("malformed credential date '" + parts[1] + "'");
    }
  }
  out.access_key_id = parts[0];
  out.date = parts[1];
  out.region = parts[2];
  out.service = parts[3];
  p = 0;
  while (p <= signed_headers->size()) {
    std::size_t semi = signed_headers->find(';', p);
    if (semi == std::string::npos) semi = signed_headers->size();
    std::string name = signed_headers->substr(p, semi - p);
    if (name.empty()) return Incomplete("malformed SignedHeaders '" + *signed_headers + "'");
    out.signed_headers.push_back(ToLower(name));
    p = semi + 1;
  }
  if (signature->size() != 64 || !std::all_of(signature->begin(), signature->end(),
                                              [](char c) { return HexDigitValue(c) >= 0; })) {
    return Incomplete("malformed Signature");
  }
  out.signature = ToLower(*signature);
  return out;
}

Status Verify(const HttpRequest& req,
              const std::function<std::optional<std::string>(std::string_view)>& secret_for,
              std::string_view expected_service, Time now, Duration max_skew) {
  std::optional<std::string> auth_value = req.Header("authorization");
  if (!auth_value.has_value()) return Incomplete("missing Authorization header");
  Result<AuthorizationHeader> auth = ParseAuthorization(*auth_value);
  if (!auth.has_value()) return auth.error();

  std::optional<std::string> amz_date = req.Header("x-amz-date");
  if (!amz_date.has_value()) return Incomplete("missing X-Amz-Date header");
  std::string amz = CanonicalHeaderValue(*amz_date);
  Result<Time> when = ParseAmzDate(amz);
  if (!when.has_value()) return InvalidSig(when.error().message());

  std::set<std::string> signed_names(auth->signed_headers.begin(), auth->signed_headers.end());
  if (signed_names.count("host") == 0 || signed_names.count("x-amz-date") == 0) {
    return InvalidSig("SignedHeaders must include host and x-amz-date");
  }
  for (const std::string& name : signed_names) {
    if (!req.Header(name).has_value()) {
      return InvalidSig("signed header '" + name + "' is missing from the request");
    }
  }
  if (auth->date != amz.substr(0, 8)) {
    return InvalidSig("credential scope date " + auth->date + " does not match X-Amz-Date " + amz);
  }
  if (auth->service != expected_service) {
    return InvalidSig("credential should be scoped to correct service: '" +
                      std::string(expected_service) + "'");
  }
  Duration skew = std::chrono::duration_cast<Duration>(now > *when ? now - *when : *when - now);
  if (skew > max_skew) {
    return InvalidSig("Signature expired or not yet valid: " + amz + " is too far from " +
                      AmzDate(now));
  }
  std::optional<std::string> secret = secret_for(auth->access_key_id);
  if (!secret.has_value()) {
    return UnauthenticatedError(
        "UnrecognizedClientException: The security token included in the request is invalid.");
  }

  Canonical canonical =
      BuildCanonicalRequest(req, &signed_names, /*normalize_path=*/true, Sha256Hex(req.body));
  const std::string scope = auth->date + "/" + auth->region + "/" + auth->service + "/aws4_request";
  std::string string_to_sign = StringToSign(amz, scope, canonical.request);
  std::string raw =
      HmacSha256(SigningKey(*secret, auth->date, auth->region, auth->service), string_to_sign);
  if (!ConstantTimeEquals(Hex(raw), auth->signature)) {
    return InvalidSig(
        "The request signature we calculated does not match the signature you provided.");
  }
  return OkStatus();
}

}  // namespace jit::aws
