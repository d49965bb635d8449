#include "tools/json.h"

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace asyncwork::tools {

const JsonValue* JsonValue::Find(absl::string_view key) const {
  const Object* object = AsObject();
  if (object == nullptr) return nullptr;
  for (const auto& [name, value] : *object) {
    if (name == key) return &value;
  }
  return nullptr;
}

absl::string_view JsonValue::TypeName() const {
  switch (value_.index()) {
    case 0:
      return "null";
    case 1:
      return "boolean";
    case 2:
      return "number";
    case 3:
      return "string";
    case 4:
      return "array";
    default:
      return "object";
  }
}

namespace {

// Describe names the byte at the error position so a message says what was
// found, not just what was expected.
std::string Describe(absl::string_view text, size_t pos) {
  if (pos >= text.size()) return "end of input";
  const unsigned char c = static_cast<unsigned char>(text[pos]);
  if (c >= 0x20 && c < 0x7f) return absl::StrCat("'", text.substr(pos, 1), "'");
  return absl::StrFormat("byte 0x%02x", c);
}

// AppendUtf8 encodes one Unicode scalar value.
void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Utf8SequenceLength returns the length of the well-formed UTF-8 sequence
// starting at s[0], or 0 when it is not one (overlong forms, encoded
// surrogates and code points above U+10FFFF are all ill-formed; RFC 3629).
size_t Utf8SequenceLength(absl::string_view s) {
  const auto byte = [&](size_t i) -> unsigned {
    return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u;
  };
  const auto cont = [&](size_t i, unsigned lo = 0x80, unsigned hi = 0xbf) {
    return byte(i) >= lo && byte(i) <= hi;
  };
  const unsigned b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (b0 == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 >= 0xe1 && b0 <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// Value builds the parse result in place. Returning a temporary JsonValue
// instead makes GCC 12 with -fsanitize=address warn that the variant's
// inactive std::string may be used uninitialized (a false positive).
template <typename T>
absl::StatusOr<JsonValue> Value(T&& value) {
  return absl::StatusOr<JsonValue>(absl::in_place, std::forward<T>(value));
}

// Parser is one pass over one document. Every Parse* function starts at the
// first byte of its production and leaves pos_ just past it.
class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    SkipWhiteSpace();
    absl::StatusOr<JsonValue> value = ParseValue(0);
    if (!value.ok()) return value;
    SkipWhiteSpace();
    if (pos_ != text_.size()) {
      return Error(absl::StrCat("unexpected ", Describe(text_, pos_),
                                " after the JSON value"));
    }
    return value;
  }

 private:
  // Error builds the status for a failure at pos_ (or at `at`).
  absl::Status Error(absl::string_view message) const {
    return ErrorAt(pos_, message);
  }
  absl::Status ErrorAt(size_t at, absl::string_view message) const {
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < at && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat(line, ":", at - line_start + 1, ": ", message));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  void SkipWhiteSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' ||
                        Peek() == '\r')) {
      ++pos_;
    }
  }

  // ConsumeWord accepts `word` exactly at pos_.
  bool ConsumeWord(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  absl::StatusOr<JsonValue> ParseValue(int depth) {
    switch (Peek()) {
      case '{':
        return ParseObject(depth + 1);
      case '[':
        return ParseArray(depth + 1);
      case '"': {
        absl::StatusOr<std::string> s = ParseString();
        if (!s.ok()) return s.status();
        return Value(*std::move(s));
      }
      case 't':
        if (ConsumeWord("true")) return Value(true);
        break;
      case 'f':
        if (ConsumeWord("false")) return Value(false);
        break;
      case 'n':
        if (ConsumeWord("null")) {
          return absl::StatusOr<JsonValue>(absl::in_place);
        }
        break;
      // Google Benchmark's spellings of non-finite counters.
      case 'N':
        if (ConsumeWord("NaN")) {
          return Value(std::numeric_limits<double>::quiet_NaN());
        }
        break;
      case 'I':
        if (ConsumeWord("Infinity")) {
          return Value(std::numeric_limits<double>::infinity());
        }
        break;
      default:
        if (ConsumeWord("-Infinity")) {
          return Value(-std::numeric_limits<double>::infinity());
        }
        if (Peek() == '-' || absl::ascii_isdigit(Peek())) return ParseNumber();
        break;
    }
    if (AtEnd()) return Error("unexpected end of input; expected a value");
    return Error(absl::StrCat("expected a value, found ",
                              Describe(text_, pos_)));
  }

  // ConsumeSeparator reads what follows a member or element: true after a
  // ',' (another one follows), false after `close` (the container ends).
  absl::StatusOr<bool> ConsumeSeparator(char close, absl::string_view what) {
    SkipWhiteSpace();
    const char c = Peek();
    if (c == ',' || (c == close && !AtEnd())) {
      ++pos_;
      return c == ',';
    }
    return Error(absl::StrCat("expected ',' or '", std::string(1, close),
                              "' in ", what, ", found ", Describe(text_, pos_)));
  }

  absl::StatusOr<JsonValue> ParseObject(int depth) {
    if (depth > kMaxJsonDepth) return Error("nesting too deep");
    ++pos_;  // '{'
    JsonValue::Object members;
    SkipWhiteSpace();
    if (Peek() == '}') {
      ++pos_;
      return Value(std::move(members));
    }
    while (true) {
      SkipWhiteSpace();
      if (Peek() != '"') {
        return Error(absl::StrCat("expected a string key, found ",
                                  Describe(text_, pos_)));
      }
      const size_t key_pos = pos_;
      absl::StatusOr<std::string> key = ParseString();
      if (!key.ok()) return key.status();
      for (const auto& member : members) {
        if (member.first == *key) {
          return ErrorAt(key_pos, absl::StrCat("duplicate key \"", *key, "\""));
        }
      }
      SkipWhiteSpace();
      if (Peek() != ':') {
        return Error(absl::StrCat("expected ':' after key, found ",
                                  Describe(text_, pos_)));
      }
      ++pos_;
      SkipWhiteSpace();
      absl::StatusOr<JsonValue> value = ParseValue(depth);
      if (!value.ok()) return value;
      members.emplace_back(*std::move(key), *std::move(value));
      absl::StatusOr<bool> more = ConsumeSeparator('}', "object");
      if (!more.ok()) return more.status();
      if (!*more) return Value(std::move(members));
    }
  }

  absl::StatusOr<JsonValue> ParseArray(int depth) {
    if (depth > kMaxJsonDepth) return Error("nesting too deep");
    ++pos_;  // '['
    JsonValue::Array elements;
    SkipWhiteSpace();
    if (Peek() == ']') {
      ++pos_;
      return Value(std::move(elements));
    }
    while (true) {
      SkipWhiteSpace();
      absl::StatusOr<JsonValue> value = ParseValue(depth);
      if (!value.ok()) return value;
      elements.push_back(*std::move(value));
      absl::StatusOr<bool> more = ConsumeSeparator(']', "array");
      if (!more.ok()) return more.status();
      if (!*more) return Value(std::move(elements));
    }
  }

  // ParseHex4 reads the four hex digits of a \u escape.
  absl::StatusOr<uint32_t> ParseHex4() {
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = Peek();
      int digit;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return Error(absl::StrCat("expected a hex digit in \\u escape, found ",
                                  Describe(text_, pos_)));
      }
      value = value * 16 + static_cast<uint32_t>(digit);
      ++pos_;
    }
    return value;
  }

  // ParseUnicodeEscape handles what follows "\u", joining a UTF-16 surrogate
  // pair into one code point.
  absl::Status ParseUnicodeEscape(size_t escape_pos, std::string& out) {
    absl::StatusOr<uint32_t> unit = ParseHex4();
    if (!unit.ok()) return unit.status();
    uint32_t cp = *unit;
    if (cp >= 0xdc00 && cp <= 0xdfff) {
      return ErrorAt(escape_pos, "unpaired low surrogate in \\u escape");
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
      if (!ConsumeWord("\\u")) {
        return ErrorAt(escape_pos, "unpaired high surrogate in \\u escape");
      }
      const size_t low_pos = pos_ - 2;
      absl::StatusOr<uint32_t> low = ParseHex4();
      if (!low.ok()) return low.status();
      if (*low < 0xdc00 || *low > 0xdfff) {
        return ErrorAt(low_pos, "expected a low surrogate after a high one");
      }
      cp = 0x10000 + ((cp - 0xd800) << 10) + (*low - 0xdc00);
    }
    AppendUtf8(cp, out);
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> ParseString() {
    const size_t start = pos_;
    ++pos_;  // '"'
    std::string out;
    while (true) {
      if (AtEnd()) return ErrorAt(start, "unterminated string");
      const unsigned char c = static_cast<unsigned char>(Peek());
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) {
        return Error(absl::StrCat("control character ", Describe(text_, pos_),
                                  " in string; it must be escaped"));
      }
      if (c >= 0x80) {
        const size_t n = Utf8SequenceLength(text_.substr(pos_));
        if (n == 0) return Error("invalid UTF-8 in string");
        out.append(text_.data() + pos_, n);
        pos_ += n;
        continue;
      }
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      const size_t escape_pos = pos_;
      ++pos_;
      const char e = Peek();
      ++pos_;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u':
          if (absl::Status s = ParseUnicodeEscape(escape_pos, out); !s.ok()) {
            return s;
          }
          break;
        default:
          return ErrorAt(escape_pos, absl::StrCat("invalid escape \\",
                                                  Describe(text_, pos_ - 1)));
      }
    }
  }

  // ConsumeDigits advances over [0-9]* and returns how many it passed.
  size_t ConsumeDigits() {
    const size_t start = pos_;
    while (absl::ascii_isdigit(Peek())) ++pos_;
    return pos_ - start;
  }

  absl::StatusOr<JsonValue> ParseNumber() {
    const size_t start = pos_;
    if (Peek() == '-') ++pos_;
    // Check RFC 8259's grammar first; from_chars alone would accept forms
    // JSON forbids (a leading zero such as 007, "1." or ".5" is left to it).
    int magnitude = 0;  // Rough decimal exponent, to tell overflow from
                        // underflow when from_chars reports out of range.
    if (Peek() == '0') {
      ++pos_;
      if (absl::ascii_isdigit(Peek())) {
        return Error("leading zero in number");
      }
    } else if (absl::ascii_isdigit(Peek())) {
      magnitude = static_cast<int>(ConsumeDigits());
    } else {
      return Error(absl::StrCat("expected a digit in number, found ",
                                Describe(text_, pos_)));
    }
    if (Peek() == '.') {
      ++pos_;
      const size_t frac_start = pos_;
      if (ConsumeDigits() == 0) {
        return Error(absl::StrCat("expected a digit after '.', found ",
                                  Describe(text_, pos_)));
      }
      if (magnitude == 0) {
        size_t zeros = 0;
        while (frac_start + zeros < pos_ && text_[frac_start + zeros] == '0') {
          ++zeros;
        }
        magnitude = -static_cast<int>(zeros);
      }
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      bool negative = false;
      if (Peek() == '+' || Peek() == '-') {
        negative = Peek() == '-';
        ++pos_;
      }
      const size_t exp_start = pos_;
      if (ConsumeDigits() == 0) {
        return Error(absl::StrCat("expected a digit in exponent, found ",
                                  Describe(text_, pos_)));
      }
      // Clamp: only the sign of the total matters once it is this large.
      int exponent = 0;
      for (size_t i = exp_start; i < pos_ && exponent < 100000; ++i) {
        exponent = exponent * 10 + (text_[i] - '0');
      }
      magnitude += negative ? -exponent : exponent;
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    double value = 0;
    const std::from_chars_result result = std::from_chars(first, last, value);
    if (result.ec == std::errc::result_out_of_range) {
      if (magnitude > 0) return ErrorAt(start, "number too large for a double");
      // Underflow: the nearest double is zero.
      value = *first == '-' ? -0.0 : 0.0;
    } else if (result.ec != std::errc() || result.ptr != last) {
      return ErrorAt(start, "malformed number");
    }
    return Value(value);
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<JsonValue> ParseJson(absl::string_view text) {
  return Parser(text).ParseDocument();
}

absl::StatusOr<JsonValue> ReadJsonFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": open"));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": read"));
  absl::StatusOr<JsonValue> doc = ParseJson(contents.str());
  if (!doc.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", doc.status().message()));
  }
  return doc;
}

}  // namespace asyncwork::tools
