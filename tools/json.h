// json.h: a small, strict JSON reader for the command-line tools.
//
// bench_compare and plot read Google Benchmark's JSON output and our own
// result files; nothing else in asyncwork parses JSON, so a compact
// recursive-descent parser into a variant-based value is enough.
//
//   absl::StatusOr<JsonValue> doc = ReadJsonFile("base.json");
//   if (!doc.ok()) return doc.status();  // "base.json:12:7: expected ':' ..."
//   if (const JsonValue* list = doc->Find("benchmarks")) { ... }
//
// The grammar is RFC 8259's, strictly: no comments, no trailing commas, no
// single quotes, no leading zeros, no control characters or invalid UTF-8 in
// strings, no unpaired UTF-16 surrogates in \u escapes, no duplicate keys in
// one object, nothing after the top-level value but white space. The one
// extension is the three bare words NaN, Infinity and -Infinity, because
// Google Benchmark writes a NaN or infinite counter that way. Numbers are
// doubles; a number too large for a double is rejected. Nesting deeper than
// kMaxJsonDepth is rejected rather than overflowing the stack.
//
// Errors are absl::InvalidArgumentError with the position as "LINE:COLUMN: ",
// both 1-based; the column counts bytes from the start of the line.
#ifndef ASYNCWORK_TOOLS_JSON_H_
#define ASYNCWORK_TOOLS_JSON_H_

#include <cstddef>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace asyncwork::tools {

// kMaxJsonDepth is how many arrays and objects may enclose one another.
inline constexpr int kMaxJsonDepth = 256;

// JsonValue is one parsed JSON value: null, a boolean, a number, a string, an
// array or an object. Objects keep their members in document order. A value
// owns everything below it; it is an ordinary copyable, movable value type.
class JsonValue {
 public:
  using Array = std::vector<JsonValue>;
  using Object = std::vector<std::pair<std::string, JsonValue>>;

  // JsonValue() is null.
  JsonValue() = default;
  explicit JsonValue(bool b) : value_(b) {}
  explicit JsonValue(double d) : value_(d) {}
  explicit JsonValue(std::string s) : value_(std::move(s)) {}
  explicit JsonValue(Array a) : value_(std::move(a)) {}
  explicit JsonValue(Object o) : value_(std::move(o)) {}

  bool IsNull() const { return std::holds_alternative<std::monostate>(value_); }

  // AsBool, AsNumber, AsString, AsArray and AsObject return the value when it
  // has that type and nullptr otherwise. The pointer lives as long as *this.
  const bool* AsBool() const { return std::get_if<bool>(&value_); }
  const double* AsNumber() const { return std::get_if<double>(&value_); }
  const std::string* AsString() const {
    return std::get_if<std::string>(&value_);
  }
  const Array* AsArray() const { return std::get_if<Array>(&value_); }
  const Object* AsObject() const { return std::get_if<Object>(&value_); }

  // Find returns the member `key` of an object, or nullptr when this is not an
  // object or has no such member.
  const JsonValue* Find(absl::string_view key) const;

  // TypeName returns "null", "boolean", "number", "string", "array" or
  // "object", for error messages.
  absl::string_view TypeName() const;

 private:
  std::variant<std::monostate, bool, double, std::string, Array, Object>
      value_;
};

// ParseJson parses `text` as one JSON document.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// ReadJsonFile reads and parses the file at `path`. Errors name the file:
// "PATH:LINE:COLUMN: message", or "PATH: <errno text>" when it can't be read.
absl::StatusOr<JsonValue> ReadJsonFile(const std::string& path);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_JSON_H_
