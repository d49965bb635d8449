// big_endian.h: loads and stores of the protocol's big-endian integers.
//
// PROTOCOL.md puts every integer on the wire big-endian. These compile to one
// load or store plus a byte swap, with no alignment requirement:
//
//   char header[4];
//   StoreBigEndian32(header, body_size);
//   uint32_t length = LoadBigEndian32(header);
#ifndef ASYNCWORK_FRAMING_BIG_ENDIAN_H_
#define ASYNCWORK_FRAMING_BIG_ENDIAN_H_

#include <bit>
#include <cstdint>
#include <cstring>

namespace asyncwork::framing {
namespace internal {

template <typename T>
T ToOrFromBigEndian(T value) {
  if constexpr (std::endian::native == std::endian::big || sizeof(T) == 1) {
    return value;
  } else if constexpr (sizeof(T) == 2) {
    return __builtin_bswap16(value);
  } else if constexpr (sizeof(T) == 4) {
    return __builtin_bswap32(value);
  } else {
    static_assert(sizeof(T) == 8);
    return __builtin_bswap64(value);
  }
}

template <typename T>
T LoadBigEndian(const char* src) {
  T value;
  std::memcpy(&value, src, sizeof(value));
  return ToOrFromBigEndian(value);
}

template <typename T>
void StoreBigEndian(char* dest, T value) {
  value = ToOrFromBigEndian(value);
  std::memcpy(dest, &value, sizeof(value));
}

}  // namespace internal

// LoadBigEndian16/32/64 read an integer from `src`, which needs no alignment.
inline uint16_t LoadBigEndian16(const char* src) {
  return internal::LoadBigEndian<uint16_t>(src);
}
inline uint32_t LoadBigEndian32(const char* src) {
  return internal::LoadBigEndian<uint32_t>(src);
}
inline uint64_t LoadBigEndian64(const char* src) {
  return internal::LoadBigEndian<uint64_t>(src);
}

// StoreBigEndian16/32/64 write `value` to `dest`, which needs no alignment.
inline void StoreBigEndian16(char* dest, uint16_t value) {
  internal::StoreBigEndian(dest, value);
}
inline void StoreBigEndian32(char* dest, uint32_t value) {
  internal::StoreBigEndian(dest, value);
}
inline void StoreBigEndian64(char* dest, uint64_t value) {
  internal::StoreBigEndian(dest, value);
}

}  // namespace asyncwork::framing

#endif  // ASYNCWORK_FRAMING_BIG_ENDIAN_H_
