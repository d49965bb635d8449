#include "framing/operation.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "framing/big_endian.h"
#include "framing/protocol_error.h"

namespace asyncwork::framing {
namespace {

absl::Status Mismatch(absl::string_view what, absl::string_view got,
                      absl::string_view expected) {
  return MakeProtocolError(ProtocolError::kResponseMismatch,
                           absl::StrCat(what, " ", got, ", expected ", expected));
}

}  // namespace

uint64_t Fnv1a64(absl::string_view data, uint32_t rounds) {
  uint64_t hash = kFnvOffsetBasis;
  const uint32_t total = std::max<uint32_t>(rounds, 1);
  for (uint32_t round = 0; round < total; ++round) {
    for (char byte : data) {
      hash = (hash ^ static_cast<uint8_t>(byte)) * kFnvPrime;
    }
  }
  return hash;
}

Outcome Outcome::Borrowed(absl::string_view result, absl::Duration delay) {
  Outcome outcome(ResponseStatus::kOk);
  outcome.borrowed_ = result;
  outcome.delay_ = delay;
  return outcome;
}

Outcome Outcome::Owned(std::string result) {
  Outcome outcome(ResponseStatus::kOk);
  outcome.owns_ = true;
  outcome.owned_ = std::move(result);
  return outcome;
}

Outcome Perform(const RequestView& request) {
  if (request.flags != 0 || request.reserved != 0) {
    return Outcome(ResponseStatus::kBadRequest);
  }
  switch (request.op) {
    case Op::kEcho:
      return Outcome::Borrowed(request.data, absl::ZeroDuration());
    case Op::kReverse:
      return Outcome::Owned(
          std::string(request.data.rbegin(), request.data.rend()));
    case Op::kHash: {
      std::string result(sizeof(uint64_t), '\0');
      StoreBigEndian64(result.data(), Fnv1a64(request.data, request.arg));
      return Outcome::Owned(std::move(result));
    }
    case Op::kSleep:
      return Outcome::Borrowed(request.data, absl::Microseconds(request.arg));
  }
  return Outcome(ResponseStatus::kUnknownOp);
}

ResponseView ResponseFor(const RequestView& request, const Outcome& outcome) {
  return ResponseView{.id = request.id,
                      .op = request.op,
                      .status = outcome.status(),
                      .arg = request.arg,
                      .result = outcome.result()};
}

absl::Status VerifyResponse(const RequestView& request,
                            const ResponseView& response) {
  if (response.id != request.id) {
    return Mismatch("id", absl::StrCat(response.id), absl::StrCat(request.id));
  }
  if (response.op != request.op) {
    return Mismatch("op", absl::StrCat(static_cast<int>(response.op)),
                    absl::StrCat(static_cast<int>(request.op)));
  }
  if (response.arg != request.arg) {
    return Mismatch("arg", absl::StrCat(response.arg),
                    absl::StrCat(request.arg));
  }
  const Outcome expected = Perform(request);
  if (response.status != expected.status()) {
    return Mismatch("status", ResponseStatusName(response.status),
                    ResponseStatusName(expected.status()));
  }
  const absl::string_view want = expected.result();
  if (response.result.size() != want.size()) {
    return Mismatch("result size", absl::StrCat(response.result.size()),
                    absl::StrCat(want.size()));
  }
  const auto got_at = std::mismatch(response.result.begin(),
                                    response.result.end(), want.begin())
                          .first;
  if (got_at != response.result.end()) {
    return MakeProtocolError(
        ProtocolError::kResponseMismatch,
        absl::StrCat(OpName(request.op), " result differs from the expected at byte ",
                     got_at - response.result.begin(), " of ", want.size()));
  }
  return absl::OkStatus();
}

}  // namespace asyncwork::framing
