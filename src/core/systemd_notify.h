#pragma once
// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram to the unix
// socket that systemd names in $NOTIFY_SOCKET for a unit of Type=notify.

#include <string_view>

#include "core/status.h"

namespace jit {

// Sends `state` (e.g. "READY=1", "STOPPING=1"; several assignments separated by '\n') as one
// datagram to the socket named by $NOTIFY_SOCKET: a path starting with '/', or an abstract
// socket when it starts with '@'. OK and nothing sent when $NOTIFY_SOCKET is unset or empty
// (not started by systemd as Type=notify). InvalidArgument when the variable names no socket
// of either kind; Unavailable when the datagram cannot be sent. Does not unset the variable.
// Thread-safe (reads the environment, which nothing of ours writes after start).
Status NotifySystemd(std::string_view state);

}  // namespace jit
