#!/bin/sh
# make run: scripts/run-demo.sh BINARY RUNDIR
# Creates the demo instance RUNDIR on first use (mailwright init, domain
# example.test), makes sure the demo user user1@example.test (password
# secret-1) exists, says how to try it, then serves it in the foreground on
# the loopback ports init chose. ^C stops it.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 BINARY RUNDIR" >&2
	exit 2
fi
BIN=$1
RUNDIR=$2
CF=$RUNDIR/mailwright.cf
DEMO_USER=user1@example.test
DEMO_PASSWORD=secret-1

if [ ! -e "$CF" ]; then
	"$BIN" init "$RUNDIR" --domain example.test
	echo
fi

# Every time, so that a RUNDIR from before still gets its demo user; an
# existing user is fine (its password is left alone).
if ! out=$(printf '%s\n' "$DEMO_PASSWORD" |
    "$BIN" -c "$CF" user add "$DEMO_USER" 2>&1); then
	case $out in
	*xist*) ;;
	*)
		printf '%s\n' "$out" >&2
		exit 1
		;;
	esac
fi

cat <<EOF
mailwright demo: $RUNDIR
  user     $DEMO_USER, password $DEMO_PASSWORD
  send     swaks --server 127.0.0.1:2525 --to $DEMO_USER --from you@example.org
  read     mutt -f $RUNDIR/mail/example.test/user1/Maildir
  config   $CF  (mailwright -c $CF conf -n)
Serving in the foreground; the log follows. ^C stops it.

EOF
exec "$BIN" -c "$CF" serve
