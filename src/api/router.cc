#include "api/router.h"

namespace jit::api {
namespace {

// The next "/"-separated segment of `rest` (which starts after a "/"); false at the end.
bool NextSegment(std::string_view& rest, bool& done, std::string_view* segment) {
  if (done) return false;
  std::size_t slash = rest.find('/');
  *segment = rest.substr(0, slash);
  if (slash == std::string_view::npos) {
    done = true;
  } else {
    rest.remove_prefix(slash + 1);
  }
  return true;
}

}  // namespace

bool MatchPattern(std::string_view pattern, std::string_view path, std::string* id) {
  if (pattern.empty() || pattern.front() != '/' || path.empty() || path.front() != '/') {
    return false;
  }
  pattern.remove_prefix(1);
  path.remove_prefix(1);
  bool pattern_done = false;
  bool path_done = false;
  std::string_view want;
  std::string_view got;
  std::string_view found_id;
  while (true) {
    bool more_pattern = NextSegment(pattern, pattern_done, &want);
    bool more_path = NextSegment(path, path_done, &got);
    if (!more_pattern || !more_path) {
      if (more_pattern != more_path) return false;
      break;
    }
    if (want == "{id}") {
      if (got.empty()) return false;
      found_id = got;
    } else if (want != got) {
      return false;
    }
  }
  if (id != nullptr) *id = std::string(found_id);
  return true;
}

RouteMatch MatchRoute(std::span<const RoutePattern> routes, std::string_view method,
                      std::string_view path) {
  RouteMatch m;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    std::string id;
    if (!MatchPattern(routes[i].pattern, path, &id)) continue;
    if (routes[i].method == method) {
      m.outcome = RouteMatch::Outcome::kFound;
      m.index = i;
      m.id = std::move(id);
      m.allow.clear();
      return m;
    }
    m.outcome = RouteMatch::Outcome::kMethodNotAllowed;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += routes[i].method;
  }
  return m;
}

}  // namespace jit::api
