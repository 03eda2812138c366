#pragma once

#include <stdexcept>
#include <string>

namespace rill {

/// Base of every exception rill throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A bad duration, size or option; thrown by the call that received it.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// Lifecycle misuse: an operator added after start(), starting twice, a call after a failure.
class IllegalState : public Error {
 public:
  using Error::Error;
};

/// A checkpoint that cannot be written, read or trusted.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

/// An input or output that failed at the operating-system level.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A record that does not parse (rill::json::parse, rill::csv::parse): the message says why
/// (truncated input, a missing field, a field of the wrong type, invalid UTF-8) and names the
/// field. A stream's parse_json()/parse_csv() never throws it: a malformed line goes to
/// malformed() instead.
class ParseError : public Error {
 public:
  using Error::Error;
};

/// Thrown by Receiver::store() once the receiver is stopping.
class Stopped : public Error {
 public:
  using Error::Error;
};

}  // namespace rill
