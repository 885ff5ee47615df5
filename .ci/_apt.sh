# Shared by the .ci/setup-* scripts (sourced, not run): installs Debian
# packages for an optional test peer, quietly, non-interactively and bounded
# in time, and never fails the CI run itself. A test whose peer is still
# missing registers as ignored with the reason locally and FAILS under
# CI=true, so a failed install shows up there, not as a silent pass.
#
#   apt_install NAME CHECK INSTALL_SECONDS PACKAGE...
#
# NAME names the script in messages; CHECK is a shell command that succeeds
# once the peer works (it is tried first, and again after installing).
# `apt-get update` runs at most once per CI run (a marker in $TMPDIR).

apt_install() {
  local name=$1 check=$2 seconds=$3
  shift 3
  if eval "$check" >/dev/null 2>&1; then
    echo "$name: present" >&2
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      echo "$name: not root and no password-less sudo; $* not installed" >&2
      return 0
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$name: no apt-get on this machine; $* not installed" >&2
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  local marker="${TMPDIR:-/tmp}/weft-ci-apt-updated-$PPID"
  if [ ! -e "$marker" ]; then
    if timeout 120 $sudo apt-get update -qq >/dev/null 2>&1; then
      : >"$marker"
    else
      echo "$name: apt-get update failed or timed out; trying the install anyway" >&2
    fi
  fi
  echo "$name: installing $* with apt-get (quiet, at most ${seconds} s)" >&2
  if timeout "$seconds" $sudo apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "$@" >/dev/null 2>&1 && eval "$check" >/dev/null 2>&1; then
    echo "$name: installed $*" >&2
  else
    echo "$name: could not install $* (the tests that need it fail under CI=true)" >&2
  fi
  return 0
}
