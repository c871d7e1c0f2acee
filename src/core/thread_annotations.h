#pragma once
// Clang's thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html).
// With clang and -Wthread-safety they make a missing lock a compile error; elsewhere they
// expand to nothing. Names as in Abseil's and LevelDB's thread_annotations.h.
//
// Use them on jit::Mutex (core/mutex.h): a member `GUARDED_BY(mu_)` may only be touched with
// mu_ held; a private helper called with the lock held says `REQUIRES(mu_)`; a public method
// that takes the lock itself says `EXCLUDES(mu_)`.

#if defined(__clang__)
#define JIT_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define JIT_THREAD_ANNOTATION_(x)
#endif

// The type is a lock (a "capability" named `x` in the diagnostics).
#define CAPABILITY(x) JIT_THREAD_ANNOTATION_(capability(x))
// An RAII type that holds a capability from construction to destruction.
#define SCOPED_CAPABILITY JIT_THREAD_ANNOTATION_(scoped_lockable)
// The data member may be read or written only with `x` held.
#define GUARDED_BY(x) JIT_THREAD_ANNOTATION_(guarded_by(x))
// The data the pointer member points to may be touched only with `x` held.
#define PT_GUARDED_BY(x) JIT_THREAD_ANNOTATION_(pt_guarded_by(x))
// Lock order: this lock is taken after (before) the named ones.
#define ACQUIRED_AFTER(...) JIT_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) JIT_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
// The caller must hold the capabilities (exclusively / at least shared).
#define REQUIRES(...) JIT_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) JIT_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
// The function takes (gives back) the capabilities; with no argument, `this`.
#define ACQUIRE(...) JIT_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define RELEASE(...) JIT_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
// The function takes the capability when it returns `x` (true or false).
#define TRY_ACQUIRE(...) JIT_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
// The caller must not hold the capabilities (the function takes them itself).
#define EXCLUDES(...) JIT_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
// The function returns a reference to the capability `x`.
#define RETURN_CAPABILITY(x) JIT_THREAD_ANNOTATION_(lock_returned(x))
// Checks at run time that the capability is held; the analysis then assumes it is.
#define ASSERT_CAPABILITY(x) JIT_THREAD_ANNOTATION_(assert_capability(x))
// Turns the analysis off for one function. Say in a comment why it cannot follow the locking.
#define NO_THREAD_SAFETY_ANALYSIS JIT_THREAD_ANNOTATION_(no_thread_safety_analysis)
