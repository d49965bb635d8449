#include "tools/format.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "absl/types/span.h"

namespace asyncwork::tools {
namespace {

struct Scale {
  double factor;
  absl::string_view prefix;
};

// Scaled picks the largest scale not above |value|; scales run from large to
// small and the last one is used for anything smaller.
std::string Scaled(double value, absl::Span<const Scale> scales,
                   absl::string_view unit) {
  for (const Scale& s : scales) {
    if (std::abs(value) >= s.factor || &s == &scales.back()) {
      return absl::StrFormat("%.4g%s%s", value / s.factor, s.prefix, unit);
    }
  }
  return "";
}

}  // namespace

std::string FormatShortDuration(FractionalNanoseconds d) {
  constexpr Scale kScales[] = {
      {1e9, " s"}, {1e6, " ms"}, {1e3, " us"}, {1, " ns"}};
  return Scaled(d.count(), kScales, "");
}

std::string FormatSi(double value, absl::string_view unit) {
  constexpr Scale kScales[] = {{1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}};
  return Scaled(value, kScales, unit);
}

}  // namespace asyncwork::tools
