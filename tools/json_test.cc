#include "tools/json.h"

#include <cmath>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/test_util.h"

namespace asyncwork::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

double NumberOf(absl::string_view text) {
  absl::StatusOr<JsonValue> v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status();
  if (!v.ok() || v->AsNumber() == nullptr) return -12345.678;
  return *v->AsNumber();
}

std::string StringOf(absl::string_view text) {
  absl::StatusOr<JsonValue> v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status();
  if (!v.ok() || v->AsString() == nullptr) return "<not a string>";
  return *v->AsString();
}

TEST(ParseJson, ParsesLiterals) {
  absl::StatusOr<JsonValue> t = ParseJson(" true ");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_NE(t->AsBool(), nullptr);
  EXPECT_TRUE(*t->AsBool());
  absl::StatusOr<JsonValue> f = ParseJson("false");
  ASSERT_TRUE(f.ok());
  ASSERT_NE(f->AsBool(), nullptr);
  EXPECT_FALSE(*f->AsBool());
  absl::StatusOr<JsonValue> n = ParseJson("\n\tnull\r\n");
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->IsNull());
  EXPECT_EQ(n->AsNumber(), nullptr);
  EXPECT_EQ(n->TypeName(), "null");
}

TEST(ParseJson, ParsesNumbersAsGoogleBenchmarkWritesThem) {
  EXPECT_EQ(NumberOf("0"), 0.0);
  EXPECT_EQ(NumberOf("-0"), 0.0);
  EXPECT_EQ(NumberOf("42"), 42.0);
  EXPECT_EQ(NumberOf("-17"), -17.0);
  EXPECT_EQ(NumberOf("1.2e+06"), 1.2e6);
  EXPECT_EQ(NumberOf("2.0946457294759360e+08"), 2.0946457294759360e+08);
  EXPECT_EQ(NumberOf("-3.5E-2"), -0.035);
  EXPECT_EQ(NumberOf("0.125"), 0.125);
  EXPECT_EQ(NumberOf("1e3"), 1000.0);
  EXPECT_EQ(NumberOf("9007199254740993"), 9007199254740992.0);
}

TEST(ParseJson, TinyNumberUnderflowsToZero) {
  EXPECT_EQ(NumberOf("1e-400"), 0.0);
  EXPECT_EQ(NumberOf("0.000001e-400"), 0.0);
  EXPECT_TRUE(std::signbit(NumberOf("-1e-400")));
}

TEST(ParseJson, AcceptsGoogleBenchmarkNonFiniteWords) {
  EXPECT_TRUE(std::isnan(NumberOf("NaN")));
  EXPECT_EQ(NumberOf("Infinity"), INFINITY);
  EXPECT_EQ(NumberOf("-Infinity"), -INFINITY);
  absl::StatusOr<JsonValue> v = ParseJson(R"({"a": NaN, "b": [-Infinity]})");
  ASSERT_TRUE(v.ok()) << v.status();
}

TEST(ParseJson, DecodesStringEscapes) {
  EXPECT_EQ(StringOf(R"("plain")"), "plain");
  EXPECT_EQ(StringOf(R"("")"), "");
  EXPECT_EQ(StringOf(R"("q\"b\\s\/")"), "q\"b\\s/");
  EXPECT_EQ(StringOf(R"("\b\f\n\r\t")"), "\b\f\n\r\t");
  EXPECT_EQ(StringOf(R"("\u0041\u00e9\u20AC")"), "A\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(StringOf(R"("\u0000")"), std::string(1, '\0'));
  // U+1F600 as a surrogate pair, and the same code point as raw UTF-8.
  EXPECT_EQ(StringOf(R"("\ud83d\uDE00")"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(StringOf("\"\xf0\x9f\x98\x80 caf\xc3\xa9\""),
            "\xf0\x9f\x98\x80 caf\xc3\xa9");
}

TEST(ParseJson, ParsesNestedStructureInOrder) {
  absl::StatusOr<JsonValue> v = ParseJson(R"({
    "context": {"num_cpus": 2, "caches": [{"level": 1}, {"level": 2}]},
    "benchmarks": [],
    "z": {}, "a": [[], [[null]]]
  })");
  ASSERT_TRUE(v.ok()) << v.status();
  const JsonValue::Object* top = v->AsObject();
  ASSERT_NE(top, nullptr);
  ASSERT_EQ(top->size(), 4u);
  EXPECT_EQ((*top)[0].first, "context");
  EXPECT_EQ((*top)[2].first, "z");
  EXPECT_EQ((*top)[3].first, "a");
  const JsonValue* caches = v->Find("context")->Find("caches");
  ASSERT_NE(caches, nullptr);
  ASSERT_NE(caches->AsArray(), nullptr);
  ASSERT_EQ(caches->AsArray()->size(), 2u);
  EXPECT_EQ(*(*caches->AsArray())[1].Find("level")->AsNumber(), 2.0);
  EXPECT_EQ(v->Find("missing"), nullptr);
  EXPECT_EQ(caches->Find("level"), nullptr);  // Not an object.
  const JsonValue::Array& a = *v->Find("a")->AsArray();
  EXPECT_TRUE((*(*a[1].AsArray())[0].AsArray())[0].IsNull());
}

TEST(ParseJson, AcceptsNestingUpToTheLimit) {
  const std::string deep = std::string(kMaxJsonDepth, '[') +
                           std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseJson(deep).ok());
}

struct Malformed {
  std::string text;
  std::string position;  // "LINE:COLUMN"
  std::string message;   // A part of the expected message.
};

TEST(ParseJson, RejectsEveryMalformedFormWithItsPosition) {
  const Malformed cases[] = {
      {"", "1:1", "unexpected end of input"},
      {"   ", "1:4", "unexpected end of input"},
      {"[", "1:2", "unexpected end of input"},
      {"[1,]", "1:4", "expected a value, found ']'"},
      {"[1 2]", "1:4", "expected ',' or ']'"},
      {"[1,\n  2,\n  ]", "3:3", "expected a value, found ']'"},
      {"{\"a\":1,}", "1:8", "expected a string key, found '}'"},
      {"{a:1}", "1:2", "expected a string key, found 'a'"},
      {"{'a':1}", "1:2", "expected a string key, found '''"},
      {"{\"a\" 1}", "1:6", "expected ':' after key, found '1'"},
      {"{\"a\":1 \"b\":2}", "1:8", "expected ',' or '}' in object"},
      {"{\"a\":[1,2}", "1:10", "expected ',' or ']' in array, found '}'"},
      {"{\"a\":1,\"a\":2}", "1:8", "duplicate key \"a\""},
      {"{\"a\":}", "1:6", "expected a value, found '}'"},
      {"[1] x", "1:5", "unexpected 'x' after the JSON value"},
      {"{} {}", "1:4", "after the JSON value"},
      {"// comment\n1", "1:1", "expected a value, found '/'"},
      {"tru", "1:1", "expected a value, found 't'"},
      {"nul", "1:1", "expected a value, found 'n'"},
      {"True", "1:1", "expected a value, found 'T'"},
      {"nan", "1:1", "expected a value, found 'n'"},
      {"Inf", "1:1", "expected a value, found 'I'"},
      {"-Inf", "1:2", "expected a digit in number, found 'I'"},
      {"01", "1:2", "leading zero"},
      {"-01", "1:3", "leading zero"},
      {"-", "1:2", "expected a digit in number, found end of input"},
      {"+1", "1:1", "expected a value, found '+'"},
      {".5", "1:1", "expected a value, found '.'"},
      {"1.", "1:3", "expected a digit after '.'"},
      {"1.e5", "1:3", "expected a digit after '.', found 'e'"},
      {"1e", "1:3", "expected a digit in exponent"},
      {"1e+", "1:4", "expected a digit in exponent"},
      {"[1e400]", "1:2", "number too large for a double"},
      {"-1e400", "1:1", "number too large for a double"},
      {"0x10", "1:2", "unexpected 'x' after the JSON value"},
      {"'a'", "1:1", "expected a value, found '''"},
      {"\"abc", "1:1", "unterminated string"},
      {"[\"a\\\"]", "1:2", "unterminated string"},
      {"\"a\tb\"", "1:3", "control character byte 0x09"},
      {"\"a\nb\"", "1:3", "control character byte 0x0a"},
      {"\"\\x\"", "1:2", "invalid escape \\'x'"},
      {"\"\\'\"", "1:2", "invalid escape"},
      {"\"\\u12G4\"", "1:6", "expected a hex digit in \\u escape, found 'G'"},
      {"\"\\u12\"", "1:6", "expected a hex digit"},
      {"\"\\ud800\"", "1:2", "unpaired high surrogate"},
      {"\"\\ud800x\"", "1:2", "unpaired high surrogate"},
      {"\"\\udc00\"", "1:2", "unpaired low surrogate"},
      {"\"\\ud800\\u0041\"", "1:8", "expected a low surrogate"},
      {"\"\xff\"", "1:2", "invalid UTF-8"},
      {"\"\xc0\xaf\"", "1:2", "invalid UTF-8"},          // Overlong '/'.
      {"\"\xed\xa0\x80\"", "1:2", "invalid UTF-8"},      // Encoded surrogate.
      {"\"\xf4\x90\x80\x80\"", "1:2", "invalid UTF-8"},  // Above U+10FFFF.
      {"\"ab\xe2\x82\"", "1:4", "invalid UTF-8"},        // Truncated.
      {"\xef\xbb\xbf{}", "1:1", "expected a value, found byte 0xef"},
      {std::string(kMaxJsonDepth + 1, '['), "1:257", "nesting too deep"},
  };
  for (const Malformed& c : cases) {
    absl::StatusOr<JsonValue> v = ParseJson(c.text);
    ASSERT_FALSE(v.ok()) << "accepted: " << c.text;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(v.status().message()),
                StartsWith(absl::StrCat(c.position, ": ")))
        << "input: " << c.text;
    EXPECT_THAT(std::string(v.status().message()), HasSubstr(c.message))
        << "input: " << c.text;
  }
}

TEST(ReadJsonFile, NamesTheFileAndPositionInErrors) {
  const std::string path = TestTempPath("bad.json");
  {
    std::ofstream out(path);
    out << "{\n  \"benchmarks\": [\n    {\"name\": \"x\",}\n  ]\n}\n";
  }
  absl::StatusOr<JsonValue> v = ReadJsonFile(path);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(),
            absl::StrCat(path, ":3:18: expected a string key, found '}'"));
}

TEST(ReadJsonFile, ReportsMissingFileAndDirectory) {
  const std::string path = TestTempPath("does-not-exist.json");
  absl::StatusOr<JsonValue> v = ReadJsonFile(path);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr(path));
  absl::StatusOr<JsonValue> dir = ReadJsonFile(TestTempPath(""));
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("directory"));
}

TEST(ReadJsonFile, ReadsRealGoogleBenchmarkOutput) {
  absl::StatusOr<JsonValue> v = ReadJsonFile("tools/testdata/bench_base.json");
  ASSERT_TRUE(v.ok()) << v.status();
  const JsonValue* benchmarks = v->Find("benchmarks");
  ASSERT_NE(benchmarks, nullptr);
  ASSERT_NE(benchmarks->AsArray(), nullptr);
  ASSERT_FALSE(benchmarks->AsArray()->empty());
  const JsonValue& first = benchmarks->AsArray()->front();
  ASSERT_NE(first.Find("run_name"), nullptr);
  ASSERT_NE(first.Find("run_name")->AsString(), nullptr);
  ASSERT_NE(first.Find("real_time"), nullptr);
  ASSERT_NE(first.Find("real_time")->AsNumber(), nullptr);
  EXPECT_GT(*first.Find("real_time")->AsNumber(), 0.0);
  EXPECT_NE(v->Find("context")->Find("num_cpus")->AsNumber(), nullptr);
}

}  // namespace
}  // namespace asyncwork::tools
