#pragma once
// Matching a request's method and path against a table of routes (api/handlers.cc holds the
// API's table). Pure functions; nothing here throws or allocates beyond the answer.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace jit::api {

// One (method, path pattern) of a route table. A pattern is "/"-separated segments, each a
// literal ("/v1/requests") or "{id}", which matches any non-empty segment and is handed to the
// handler. A pattern has at most one "{id}".
struct RoutePattern {
  std::string_view method;   // "GET", "POST", ...
  std::string_view pattern;  // "/v1/requests/{id}/approve"
};

// True when `path` (no query) has `pattern`'s shape; sets *id to the {id} segment, if any.
bool MatchPattern(std::string_view pattern, std::string_view path, std::string* id);

struct RouteMatch {
  enum class Outcome {
    kFound,             // `index` is the route; `id` its {id}
    kNoSuchPath,        // 404: no pattern has this path's shape
    kMethodNotAllowed,  // 405: some do, none for this method; `allow` lists theirs
  };
  Outcome outcome = Outcome::kNoSuchPath;
  std::size_t index = 0;
  std::string id;
  std::string allow;  // "GET, POST": the methods the path answers, in table order
};

// The first route of `routes` whose pattern matches `path` and whose method is `method`.
RouteMatch MatchRoute(std::span<const RoutePattern> routes, std::string_view method,
                      std::string_view path);

}  // namespace jit::api
