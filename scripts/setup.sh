#!/usr/bin/env bash
# Set up everything Myco needs on this machine, quickly the second time.
#   scripts/setup.sh run    the runtime: system libraries and .venv with Myco
#   scripts/setup.sh test   also the test services (Xvfb, jackd, mosquitto, ...) and tools
# On Debian/Ubuntu as root it installs the Debian packages itself; elsewhere it prints
# exactly what to install and goes on with the Python part.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"
PYTHON="${PYTHON:-python3}"
# pip, quietly: some machines' pip configuration names extra package folders that are absent.
pip_quiet() { "$1" -m pip "${@:2}" 2>&1 | { grep -v "^WARNING: Location .* is ignored" || true; }; }

runtime_debs=(libportaudio2 libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libegl-mesa0 libxkbcommon-x11-0 libxcb-cursor0
  libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0
  libxcb-image0 libfontconfig1 libdbus-1-3 ffmpeg)
test_debs=(xvfb xauth x11-utils jackd2 mosquitto mosquitto-clients liblo-tools imagemagick sox
  jack-midi-clock mesa-utils openssl x11-xserver-utils chromium chromium-driver)

debs=("${runtime_debs[@]}")
[ "$mode" = test ] && debs+=("${test_debs[@]}")

if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for package in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "setup: installing Debian packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "setup: please install: sudo apt-get install ${missing[*]}" >&2
      [ "$mode" = test ] && exit 1
    fi
  fi
else
  echo "setup: no apt here. Myco runs from Python wheels alone; for sound it needs PortAudio" >&2
  echo "       (macOS: brew install portaudio; Windows: included in the sounddevice wheel)." >&2
  if [ "$mode" = test ]; then
    echo "       The tests also need: Xvfb with Mesa GL, jackd2 (jackd -d dummy), mosquitto and" >&2
    echo "       mosquitto-clients, liblo-tools (oscsend), ffmpeg, imagemagick, sox, jack-midi-clock," >&2
    echo "       chromium and its chromedriver (the remote page's browser test)." >&2
  fi
fi

# The Python side: .venv with Myco and its test extras; reinstalled only when pyproject changes.
stamp_of() { "$PYTHON" -c "import hashlib,sys; print(hashlib.sha256(open('pyproject.toml','rb').read()+sys.argv[1].encode()).hexdigest())" "$1"; }
extras="$([ "$mode" = test ] && echo '.[test]' || echo '.')"
want="$(stamp_of "$extras")"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if [ "$(cat .venv/.myco-stamp 2>/dev/null)" != "$want" ] && ! { [ "$mode" = run ] && [ "$(cat .venv/.myco-stamp 2>/dev/null)" = "$(stamp_of '.[test]')" ]; }; then
  echo "setup: installing Python packages into .venv"
  pip_quiet .venv/bin/python install -q --upgrade pip >/dev/null
  pip_quiet .venv/bin/python install -q -e "$extras"
  echo "$want" > .venv/.myco-stamp
fi

# The pure core's own environment: none of Qt, vispy, sounddevice, rtmidi, python-osc or paho,
# so the core's tests prove it needs none of them.
if [ "$mode" = test ]; then
  core_want="$(stamp_of core)"
  if [ "$(cat .venv-core/.myco-stamp 2>/dev/null)" != "$core_want" ]; then
    echo "setup: creating .venv-core (the core without adapters)"
    rm -rf .venv-core
    "$PYTHON" -m venv .venv-core
    pip_quiet .venv-core/bin/python install -q --upgrade pip >/dev/null
    pip_quiet .venv-core/bin/python install -q "numpy>=1.26" "tomlkit>=0.12" "platformdirs>=4" "pillow>=10" \
      "pytest>=8" "pytest-timeout>=2.3" "hypothesis>=6.100"
    echo "$core_want" > .venv-core/.myco-stamp
  fi
fi
