// invariant.h: how framing/ aborts on a broken invariant.
//
// framing/ sits below net/, so it cannot use ASYNCWORK_CHECK from net/check.h.
// It needs only this: a caller that breaks a documented precondition (a body
// larger than a 32-bit length can describe, committing more bytes than were
// prepared) is a bug, and continuing would corrupt the stream.
//
//   ASYNCWORK_FRAMING_CHECK(n <= room, "CommitAppend past PrepareAppend's span");
#ifndef ASYNCWORK_FRAMING_INVARIANT_H_
#define ASYNCWORK_FRAMING_INVARIANT_H_

namespace asyncwork::framing::internal {

// InvariantFailed prints where and what failed to stderr, then aborts.
[[noreturn]] void InvariantFailed(const char* condition, const char* what,
                                  const char* file, int line);

}  // namespace asyncwork::framing::internal

// ASYNCWORK_FRAMING_CHECK(condition, "what broke"): aborts when false.
#define ASYNCWORK_FRAMING_CHECK(condition, what)                          \
  ((condition) ? (void)0                                                  \
               : ::asyncwork::framing::internal::InvariantFailed(         \
                     #condition, what, __FILE__, __LINE__))

#endif  // ASYNCWORK_FRAMING_INVARIANT_H_
