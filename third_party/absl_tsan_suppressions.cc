// ThreadSanitizer suppressions for Debian's Abseil, linked into every binary
// that uses Abseil (see absl.BUILD), so they apply however the binary is run.
//
// Debian builds Abseil without -fsanitize=thread, so TSan sees none of the
// atomics inside its shared libraries. absl::Status shares one
// representation between copies and frees it, in libabsl_status, when the
// last copy goes: that free is ordered after another thread's reads of the
// same representation only by the reference count TSan cannot see, and a
// status handed from a worker thread to the one that reports it is reported
// as a race (absl_tsan_suppressions_test shows the case). Reports whose
// stacks have no frame inside libabsl_status are untouched, so a race on a
// Status object in our own code is still caught.

// TSan's runtime looks this up when it starts; a weak default in the runtime
// returns none. Outside a TSan build nothing calls it.
extern "C" const char* __tsan_default_suppressions() {
  return "race:libabsl_status.so\n";
}
