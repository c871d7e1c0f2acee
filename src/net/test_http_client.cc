#include "net/test_http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <optional>

namespace jit::net::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

http::request<http::string_body> ToBeast(const ClientRequest& request) {
  http::request<http::string_body> req;
  req.method_string(request.method);
  req.target(request.target);
  req.version(11);
  for (const auto& [name, value] : request.headers) req.insert(name, value);
  req.body() = request.body;
  req.prepare_payload();
  return req;
}

}  // namespace

ClientRequest& ClientRequest::Set(std::string name, std::string value) {
  std::erase_if(headers, [&](const auto& h) { return IEquals(h.first, name); });
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::string ClientResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (IEquals(n, name)) return v;
  }
  return "";
}

class HttpConnection::Impl {
 public:
  explicit Impl(std::uint16_t port) : stream(io) {
    stream.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
  }

  asio::io_context io;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  // The request being written in two steps (WriteHeader, WriteBody), and its serializer.
  std::optional<http::request<http::string_body>> pending;
  std::optional<http::request_serializer<http::string_body>> serializer;
};

HttpConnection::HttpConnection(std::uint16_t port) : impl_(std::make_unique<Impl>(port)) {}

HttpConnection::~HttpConnection() = default;

ClientResponse HttpConnection::RoundTrip(const ClientRequest& request) {
  http::request<http::string_body> req = ToBeast(request);
  http::write(impl_->stream, req);
  return Read();
}

void HttpConnection::WriteHeader(const ClientRequest& request) {
  impl_->serializer.reset();
  impl_->pending.emplace(ToBeast(request));
  impl_->serializer.emplace(*impl_->pending);
  http::write_header(impl_->stream, *impl_->serializer);
}

void HttpConnection::WriteBody() { http::write(impl_->stream, *impl_->serializer); }

void HttpConnection::WriteRaw(std::string_view bytes) {
  asio::write(impl_->stream, asio::buffer(bytes.data(), bytes.size()));
}

ClientResponse HttpConnection::Read() {
  http::response<http::string_body> res;
  http::read(impl_->stream, impl_->buffer, res);
  ClientResponse out;
  out.status = static_cast<int>(res.result_int());
  out.version = res.version();
  out.keep_alive = res.keep_alive();
  for (const auto& field : res) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(res.body());
  return out;
}

void HttpConnection::Shutdown() {
  beast::error_code ignored;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

ClientResponse Fetch(std::uint16_t port, const ClientRequest& request) {
  HttpConnection connection(port);
  ClientResponse response = connection.RoundTrip(request);
  connection.Shutdown();
  return response;
}

}  // namespace jit::net::testing
