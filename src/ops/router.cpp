// The server's endpoints: which response a request gets.
#include "ops/router.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <string>
#include <string_view>

#include "ops/json_endpoints.hpp"
#include "ops/status_page.hpp"
#include "rill/ops/metrics.hpp"

namespace rill::ops::detail {
namespace http = boost::beast::http;

namespace {

// The page runs only its own inline script and talks only to this server.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src data:";

Response make_response(http::status status, unsigned version, bool keep_alive,
                       std::string_view content_type, std::string body) {
  Response res{status, version};
  res.set(http::field::server, "rill");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace

Response error_response(http::status status, unsigned version, bool keep_alive) {
  std::string body{http::obsolete_reason(status)};
  body += '\n';
  auto res =
      make_response(status, version, keep_alive, "text/plain; charset=utf-8", std::move(body));
  if (status == http::status::method_not_allowed) res.set(http::field::allow, "GET, HEAD");
  return res;
}

Response Router::handle(const Request& request) const {
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    return error_response(http::status::method_not_allowed, version, keep_alive);
  }
  std::string_view path = request.target();
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);

  Response res;
  if (path == "/" || path == "/index.html") {
    res = make_response(http::status::ok, version, keep_alive, "text/html; charset=utf-8",
                        std::string(status_page_html()));
    res.set("Content-Security-Policy", kContentSecurityPolicy);
  } else if (path == "/metrics") {
    res = make_response(http::status::ok, version, keep_alive,
                        "text/plain; version=0.0.4; charset=utf-8", prometheus_text(ctx_));
  } else if (path == "/progress") {
    res = make_response(http::status::ok, version, keep_alive, "application/json",
                        progress_json(ctx_));
  } else if (path == "/context") {
    res = make_response(http::status::ok, version, keep_alive, "application/json",
                        context_json(ctx_));
  } else {
    return error_response(http::status::not_found, version, keep_alive);
  }
  if (request.method() == http::verb::head) {
    // GET's headers, Content-Length included, and no body.
    const auto length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  return res;
}

}  // namespace rill::ops::detail
