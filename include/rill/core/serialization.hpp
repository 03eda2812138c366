#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <typeinfo>

#include <cereal/archives/binary.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

/// What checkpoints need from the types an operator keeps across batches. Serialization is
/// cereal's: the standard types are covered; a user type opts in with a member
/// `template <class Archive> void serialize(Archive& ar) { ar(field_a, field_b); }` (or cereal's
/// non-member forms). A type without it works everywhere except in a checkpointed context.
namespace rill {

/// True when cereal can write and read T in rill's (binary) checkpoint format.
template <class T>
inline constexpr bool is_serializable_v =
    cereal::traits::is_output_serializable<T, cereal::BinaryOutputArchive>::value&&
        cereal::traits::is_input_serializable<T, cereal::BinaryInputArchive>::value;

namespace detail {

/// FNV-1a, 64 bits: a stable digest of type names for fingerprints.
constexpr std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// A fingerprint of the types an operator keeps: changes when any of them changes.
template <class... Ts>
std::uint64_t type_fingerprint() {
  std::uint64_t h = fnv1a("rill-state-v1");
  ((h = fnv1a(typeid(Ts).name(), fnv1a("|", h))), ...);
  return h;
}

template <class... Ts>
inline constexpr bool all_serializable_v = (is_serializable_v<Ts> && ...);

/// cereal's binary form of the values, in order.
template <class... Ts>
std::string to_bytes(const Ts&... values) {
  std::ostringstream out(std::ios::binary);
  {
    cereal::BinaryOutputArchive archive(out);
    archive(values...);
  }
  return std::move(out).str();
}

/// Reads what to_bytes wrote (cereal::Exception on malformed input).
template <class... Ts>
void from_bytes(std::string_view bytes, Ts&... values) {
  std::istringstream in(std::string(bytes), std::ios::binary);
  cereal::BinaryInputArchive archive(in);
  archive(values...);
}

}  // namespace detail

/// Identifies what one operator keeps across batches, for checkpoints: its stable name (the
/// DStream's name(), else `<kind>#<n>`), its kind, a fingerprint of its types, and whether
/// they can be serialized.
struct StateDescriptor {
  std::string name;
  std::string kind;
  std::uint64_t fingerprint = 0;
  bool serializable = false;
};

}  // namespace rill
