#pragma once
// Captures what rill logs (the spdlog logger `rill`) while it lives, for tests that check a
// warning or an error line. No context may run when it is made or destroyed: it changes the
// logger's sinks.

#include <rill/core/logging.hpp>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>

namespace rill_test {

class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)) {
    rill::get_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() { std::erase(rill::get_logger()->sinks(), sink_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  /// Everything logged since construction, one line per message.
  [[nodiscard]] std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

}  // namespace rill_test
