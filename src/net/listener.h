#pragma once
// What the broker's HTTP server (api/) and the emulator (emulator/) share about listening: the
// HOST:PORT syntax, binding an acceptor, and the I/O thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "core/result.h"

namespace jit::net {

// "HOST:PORT" -> endpoint. HOST is an IPv4 address, "[IPv6]", "localhost" (loopback) or empty
// (every address); hostnames are not resolved. Port 0 asks the kernel for a free one.
// InvalidArgument naming the address otherwise.
Result<boost::asio::ip::tcp::endpoint> ParseListen(std::string_view listen);

// Opens `acceptor` on `listen` (SO_REUSEADDR, bound, listening) and returns the bound address
// (with the port the kernel picked). `loopback_only`: anything but a loopback address is refused
// with InvalidArgument `refusal`. Unavailable when the address cannot be bound.
Result<boost::asio::ip::tcp::endpoint> Listen(boost::asio::ip::tcp::acceptor& acceptor,
                                              std::string_view listen, bool loopback_only,
                                              std::string_view refusal);

// A thread that runs `io` until it is stopped. An exception escaping a handler is a bug: it is
// logged (as `who`) and the process aborts, failing closed.
std::thread RunIoThread(boost::asio::io_context& io, std::string who);

}  // namespace jit::net
