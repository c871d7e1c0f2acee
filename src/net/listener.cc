#include "net/listener.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>
#include <exception>

namespace jit::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<tcp::endpoint> ParseListen(std::string_view listen) {
  std::size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) {
    return InvalidArgumentError("listen address \"" + std::string(listen) + "\" must be HOST:PORT");
  }
  std::string_view host = listen.substr(0, colon);
  std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port > 65535) {
    return InvalidArgumentError("listen address \"" + std::string(listen) + "\" has a bad port");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return InvalidArgumentError("listen address \"" + std::string(listen) +
                                "\": write IPv6 addresses in brackets, like [::1]:8080");
  }
  asio::ip::address address;
  if (host == "localhost") {
    address = asio::ip::address_v4::loopback();
  } else if (host.empty()) {
    address = asio::ip::address_v4::any();
  } else {
    boost::system::error_code parse_error;
    address = asio::ip::make_address(std::string(host), parse_error);
    if (parse_error) {
      return InvalidArgumentError("listen address \"" + std::string(listen) +
                                  "\": host must be an IP address or localhost");
    }
  }
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

Result<tcp::endpoint> Listen(tcp::acceptor& acceptor, std::string_view listen, bool loopback_only,
                             std::string_view refusal) {
  JIT_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListen(listen));
  if (loopback_only && !endpoint.address().is_loopback()) {
    return InvalidArgumentError(std::string(refusal));
  }
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("cannot listen on " + std::string(listen) + ": " + ec.message());
  tcp::endpoint local = acceptor.local_endpoint(ec);
  if (ec) return UnavailableError("cannot read the bound address: " + ec.message());
  return local;
}

std::thread RunIoThread(asio::io_context& io, std::string who) {
  return std::thread([&io, who = std::move(who)] {
    try {
      io.run();
    } catch (const std::exception& e) {
      // Handlers catch their own errors; reaching here is a bug: fail closed.
      spdlog::critical("{}: I/O loop failed: {}", who, e.what());
      std::abort();
    }
  });
}

}  // namespace jit::net
