// ThreadSanitizer suppressions for Debian's Abseil, linked into every binary
// that uses Abseil (see absl.BUILD), so they apply however the binary is run.
//
// Debian builds Abseil without -fsanitize=thread, so TSan sees none of the
// atomics inside its shared libraries. absl::Status shares one
// representation between copies and frees it, in libabsl_status, when the
// last copy goes: that free is ordered after another thread's reads of the
// same representation only by the reference count TSan cannot see, and a
// status handed from a worker thread to the one that reports it is reported
// as a race (absl_tsan_suppressions_test shows both forms it takes). Other
// reports are untouched, so a race on a Status variable in our own code is
// still caught.

// TSan's runtime looks this up when it starts; a weak default in the runtime
// returns none. Outside a TSan build nothing calls it.
extern "C" const char* __tsan_default_suppressions() {
  // The free of the payloads has a frame inside libabsl_status; the free of
  // the representation itself is a tail call from there, so its stack shows
  // only the inline Status::Unref in our binary. Unref calls nothing else,
  // so it is on a stack only for that free.
  return "race:libabsl_status.so\n"
         "race:absl::*::Status::Unref\n";
}
