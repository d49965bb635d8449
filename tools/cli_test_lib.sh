# cli_test_lib.sh: sourced by the tools' command-line tests.
#   bin=tools/plot; source tools/cli_test_lib.sh
#   expect_exit 2 --bad-flag    # runs "$bin" --bad-flag; stdout.txt, err.txt
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_exit CODE ARGS...: runs "$bin" ARGS and fails unless it exits CODE.
expect_exit() {
  local want=$1
  shift
  "$bin" "$@" >stdout.txt 2>err.txt
  local got=$?
  if [[ $got != "$want" ]]; then
    cat stdout.txt err.txt
    fail "$bin $* exited $got, want $want"
  fi
}
