// The command-line handling the examples share, on CLI11: typed options whose values are checked
// before anything starts, a generated --help, and the exit codes of command-line tools (0 after
// --help, 2 after bad arguments, with a message on stderr naming the argument and what it takes).
#pragma once

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <system_error>

namespace rill_examples {

/// Exit code after bad arguments, as getopt-based tools use.
inline constexpr int kUsageError = 2;

/// A CLI11 transform (pass it to Option::transform, not check) that accepts a decimal whole number
/// in [min, max] (inclusive). CLI11's own conversion reads "010" as octal and "0x10" as hex and
/// clamps overflow, so the transform rewrites the value in canonical decimal form: what the
/// program receives is the number the user typed.
inline CLI::Validator whole_number(std::int64_t min, std::int64_t max) {
  return CLI::Validator(
      [min, max](std::string& input) -> std::string {
        std::int64_t value = 0;
        const char* first = input.data();
        const char* last = first + input.size();
        const auto [end, error] = std::from_chars(first, last, value);
        if (error != std::errc{} || end != last || value < min || value > max) {
          return "expected a whole number from " + std::to_string(min) + " to " +
                 std::to_string(max) + ", got '" + input + "'";
        }
        input = std::to_string(value);
        return {};
      },
      std::to_string(min) + ".." + std::to_string(max));
}

/// A CLI11 transform that accepts a TCP port: a whole number from 1 to 65535.
inline CLI::Validator tcp_port() {
  return whole_number(1, 65535);
}

/// A CLI11 check that the value is not empty (a host name, a directory).
inline CLI::Validator non_empty() {
  return CLI::Validator(
      [](const std::string& input) -> std::string {
        return input.empty() ? "must not be empty" : "";
      },
      "");
}

/// A CLI11 check that the value names an existing directory; the message says how to make one.
inline CLI::Validator existing_directory() {
  return CLI::Validator(
      [](const std::string& input) -> std::string {
        std::error_code ec;
        const auto status = std::filesystem::status(input, ec);
        if (std::filesystem::is_directory(status)) return {};
        if (std::filesystem::exists(status)) return "'" + input + "' is not a directory";
        return "the directory '" + input + "' does not exist (create it first: mkdir -p '" + input +
               "')";
      },
      "");
}

/// The HOST and PORT positionals of the socket examples: both required, the host not empty,
/// the port from 1 to 65535.
inline void add_server(CLI::App& app, std::string& host, std::uint16_t& port) {
  app.add_option("HOST", host, "Host name or address of the server")
      ->required()
      ->check(non_empty());
  app.add_option("PORT", port, "TCP port of the server")->required()->transform(tcp_port());
}

/// The optional --seconds S of the examples that run until killed: a whole number from 1.
inline void add_seconds(CLI::App& app, std::optional<int>& seconds) {
  app.add_option("--seconds", seconds,
                 "Stop gracefully after S seconds (default: run until killed)")
      ->type_name("S")
      ->transform(whole_number(1, std::numeric_limits<int>::max()));
}

/// Parses the command line into app. Returns std::nullopt when the program should go on, else
/// the code to exit with: 0 after --help (printed on stdout), kUsageError after bad arguments
/// (CLI11's message and a pointer to --help on stderr).
inline std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kUsageError;
  }
}

}  // namespace rill_examples
