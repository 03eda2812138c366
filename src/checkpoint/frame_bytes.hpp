#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <boost/crc.hpp>

namespace rill::detail {

/// The byte-level pieces of rill's on-disk frames (checkpoint files, write-ahead log segments):
/// fixed-size integers in the machine's byte order, and Boost.CRC's CRC-32.

/// Appends `value`'s bytes to `out`.
template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

/// The T at `offset` of `in` (the caller checked that it fits).
template <class T>
T get(std::string_view in, std::size_t offset) {
  T value;
  std::memcpy(&value, in.data() + offset, sizeof(T));
  return value;
}

/// CRC-32 (Boost.CRC, crc_32_type) of `a` followed by `b`.
inline std::uint32_t crc32(std::string_view a, std::string_view b = {}) {
  boost::crc_32_type crc;
  crc.process_bytes(a.data(), a.size());
  crc.process_bytes(b.data(), b.size());
  return crc.checksum();
}

}  // namespace rill::detail
