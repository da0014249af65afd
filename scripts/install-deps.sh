#!/bin/sh
# Install what mailwright needs to build, test and benchmark, with apt-get.
# On a system without apt, install the equivalents of the packages listed below.
set -eu
PKGS="build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
libevent-dev libssl-dev libsqlite3-dev libsodium-dev libcrypt-dev libpcre2-dev
libunbound-dev libidn2-dev libcmocka-dev python3-pytest swaks libnet-ssleay-perl
libauthen-sasl-perl curl openssl postfix mutt sqlite3 pflogsumm
nsd ldnsutils fetchmail fail2ban dovecot-core dovecot-pop3d dovecot-imapd
isync neomutt tmux"
need=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
	    need="$need $p"
done
[ -z "$need" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: no apt-get here; install these (or your system's equivalents):$need" >&2
	exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "install-deps: installing$need"
# postfix is only needed for smtp-source (bench); keep its own instance off.
# nsd and ldnsutils serve and sign the DNSSEC test zones of the DANE tests
# (tests/integration/dnssec_server.py runs its own nsd on a loopback port).
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
