"""The C++ rules for asyncwork's own code: the native rules plus our flags.

Every BUILD file in the project loads cc_library, cc_binary and cc_test from
here, so the warning flags are set in exactly one place and apply to our code
only (system headers from Debian stay outside -Werror).
"""

ASYNCWORK_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
]

def _with_copts(attrs):
    attrs["copts"] = ASYNCWORK_COPTS + attrs.get("copts", [])
    return attrs

def cc_library(**attrs):
    native.cc_library(**_with_copts(attrs))

def cc_binary(**attrs):
    native.cc_binary(**_with_copts(attrs))

def cc_test(**attrs):
    native.cc_test(**_with_copts(attrs))
