#pragma once

#include <cstdio>
#include <cstdlib>

// A broken invariant: the broker fails closed. Untrusted input must never reach a check.
#define JIT_CHECK(cond)                                                                       \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      (void)std::fprintf(stderr, "%s:%d: JIT_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)
