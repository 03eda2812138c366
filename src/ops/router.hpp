#pragma once

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace rill {
class StreamingContext;
}

namespace rill::ops::detail {

using Request = boost::beast::http::request<boost::beast::http::empty_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// Maps a request to its response: GET and HEAD of /, /metrics, /progress, /context (a query
/// string is ignored); 405 for any other method, 404 for any other path. HEAD gets GET's headers
/// (Content-Length included) and no body. Holds the context by reference (Server's lifetime
/// rule). Called on the server's thread only.
class Router {
 public:
  explicit Router(const StreamingContext& ctx) : ctx_(ctx) {}
  [[nodiscard]] Response handle(const Request& request) const;

 private:
  const StreamingContext& ctx_;
};

/// A response with `status`, a plain-text body and the server's common headers; `keep_alive`
/// as the request asked.
[[nodiscard]] Response error_response(boost::beast::http::status status, unsigned version,
                                      bool keep_alive);

}  // namespace rill::ops::detail
