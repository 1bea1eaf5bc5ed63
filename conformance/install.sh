#!/usr/bin/env bash
# Installs the real SDK clients `make conformance` runs, into the project's own folders:
#   botocore            PyPI, pinned in requirements.txt, into the project's .venv
#   aws-sdk (JS v2), @aws-sdk/credential-provider-node (JS v3)
#                       npm, pinned by node/package-lock.json, into node/node_modules
#   aws-sdk-go, aws-sdk-go-v2
#                       Debian's golang packages (source under /usr/share/gocode), built
#                       offline in GOPATH mode (GO111MODULE=off, GOPROXY=off) into .build/
# Debian packages (nodejs and npm when node is missing, the Go toolchain and SDKs) need root,
# as scripts/ensure-test-tools.sh. A client that cannot be installed or built is skipped:
# its reason goes to .build/<sdk>.skipped, and the run prints it.
# Usage: conformance/install.sh PYTHON (the project's .venv/bin/python)
set -uo pipefail
python="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"  # before the cd below
cd "$(dirname "$0")"
mkdir -p .build
rm -f .build/*.skipped

skip() {  # sdk reason
  echo "$2" > ".build/$1.skipped"
  echo "conformance: $1 skipped: $2" >&2
}

debian() {  # packages: install the missing ones
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
      missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != "0" ]; then
    echo "conformance: needs 'sudo apt-get install -y ${missing[*]}'" >&2
    return 1
  fi
  echo "conformance: installing Debian packages ${missing[*]}..."
  apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# botocore
"$python" -m pip install --quiet -r requirements.txt ||
  skip botocore "pip could not install requirements.txt"

# the JavaScript SDKs
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  debian nodejs npm
fi
if ! command -v npm >/dev/null; then
  skip aws-sdk-js "no node and npm (Debian's nodejs and npm could not be installed)"
  skip aws-sdk-js-v3 "no node and npm (Debian's nodejs and npm could not be installed)"
elif [ ! -f node/node_modules/.package-lock.json ] ||
     [ node/package-lock.json -nt node/node_modules/.package-lock.json ]; then
  (cd node && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) || {
    skip aws-sdk-js "npm ci failed in conformance/node"
    skip aws-sdk-js-v3 "npm ci failed in conformance/node"
  }
fi

if command -v node >/dev/null &&
   [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  # @aws-sdk/credential-provider-node's package.json: "engines": {"node": ">=20.0.0"}
  skip aws-sdk-js-v3 "needs Node >= 20, this is $(node --version) (Debian 12's nodejs is 18)"
fi

# the Go SDKs: Debian ships their source; GOPATH mode builds them with no network at all
gocode=/usr/share/gocode
debian golang-go golang-github-aws-aws-sdk-go-dev golang-github-aws-aws-sdk-go-v2-dev
build_go() {  # sdk folder
  local sdk=$1 folder=$2
  if ! command -v go >/dev/null; then
    skip "$sdk" "no Go toolchain (Debian's golang-go could not be installed)"
  elif [ ! -d "$gocode/src/github.com/aws/$3" ]; then
    skip "$sdk" "Debian's source of $3 is not under $gocode"
  elif [ ! -x ".build/$folder" ] || [ "go/$folder/main.go" -nt ".build/$folder" ] ||
       [ go/src/driver/driver.go -nt ".build/$folder" ]; then
    # go/src/driver (what both drivers share) is on the GOPATH beside Debian's SDK sources
    GO111MODULE=off GOPATH="$PWD/go:$gocode" GOPROXY=off GOFLAGS= GOCACHE="$PWD/.build/gocache" \
      go build -o ".build/$folder" "./go/$folder" 2>.build/go-build.log ||
      skip "$sdk" "go build failed offline: $(tail -1 .build/go-build.log)"
  fi
}
build_go aws-sdk-go v1 aws-sdk-go
build_go aws-sdk-go-v2 v2 aws-sdk-go-v2
exit 0
