#!/bin/bash
# `make bench`: end-to-end SMTP throughput, server CPU per message and memory
# per idle SMTP session (issue #3), the same for submission with STARTTLS or
# implicit TLS and AUTH (issue #4), outbound relay throughput through a sink
# and a deep deferred queue (issue #8), for mailwright, the reference Postfix +
# Dovecot stack, or both in one sitting. Builds nothing: `make bench` has
# already built build/mailwright. See docs/PERFORMANCE.md for the method.
#
#   bench/run.sh                    a fresh mailwright instance in a temp dir
#   BENCH_TARGET=ref bench/run.sh   the reference stack (../shared/refstack)
#   BENCH_TARGET=both bench/run.sh  both, then a side-by-side table
#   MT_SMTP_PORT=... bench/run.sh   an already running server, described by
#       MT_HOST, MT_SMTP_PORT, MT_DOMAIN, MT_USERS and BENCH_MAILDIR_ROOT (or
#       REF_MAILDIR_ROOT), BENCH_PIDS (or REF_PIDS): its root pids, and for
#       the TLS cases MT_SUBMISSION_PORT and MT_SMTPS_PORT
#
# BENCH_SCALE=0.1 runs a tenth of the messages and idle sessions; BENCH_CASES
# picks cases (idle,s1,s10,s50,big, and the TLS + AUTH cases of issue #4,
# sub10,sub50,smtps10,idletls, driven by build/bench/smtp-tls-source; the
# outbound cases of issue #8, r10,r50,r50d,rbig (relayed to Postfix's
# smtp-sink on 127.0.0.1:$REF_SINK_PORT, 3526, for both targets) and qbig;
# the POP3 cases of issue #9, pop10k,plogin,pidle,pidles,pstat, see pop3.py;
# the IMAP cases of issue #10, imap10k,imap100k,ilogin,iidle,iidles,iidlew,
# see imap.py);
# BENCH_REPEAT=3 runs each three times and
# reports the median; MAILWRIGHT_BIN overrides the binary;
# BENCH_KEEP=1 keeps the temporary mailwright instance. The Markdown table goes
# to stdout and to bench/results/<date>.md, the raw figures beside it (.json).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
MW=${MAILWRIGHT_BIN:-$TOP/build/mailwright}
REFSTACK=${REFSTACK:-$(cd "$TOP/../shared/refstack" 2>/dev/null && pwd || true)}
SMTP_SOURCE=${BENCH_SMTP_SOURCE:-/usr/sbin/smtp-source}
SMTP_SINK=${BENCH_SMTP_SINK:-/usr/sbin/smtp-sink}
# The outbound cases relay to a sink on this port, for both targets: the
# refstack's transport map names it (env.sh), mailwright's is written here.
SINK_PORT=$( { [ -n "$REFSTACK" ] && . "$REFSTACK/env.sh" 2>/dev/null; } || true
	echo "${REF_SINK_PORT:-3526}")
export BENCH_SINK_PORT=$SINK_PORT BENCH_SMTP_SINK=$SMTP_SINK
RELAY_DOMAIN=sink.test
export BENCH_RELAY_DOMAIN=$RELAY_DOMAIN
export BENCH_SMTP_TLS_SOURCE=${BENCH_SMTP_TLS_SOURCE:-$TOP/build/bench/smtp-tls-source}
STAMP=$(date +%Y-%m-%d-%H%M%S)
RESULTS=$HERE/results

if [ -z "${BENCH_TARGET:-}" ]; then
	if [ -n "${MT_SMTP_PORT:-}" ]; then BENCH_TARGET=env; else BENCH_TARGET=mailwright; fi
fi
case $BENCH_TARGET in
mailwright|ref|both|env) ;;
*) echo "bench: BENCH_TARGET must be mailwright, ref, both or env" >&2; exit 2 ;;
esac

[ -x "$SMTP_SOURCE" ] || {
	echo "bench: $SMTP_SOURCE missing (Debian package postfix; run make deps)" >&2
	exit 1
}
# 1,000 idle sessions need fds on both ends; the servers we start inherit this.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 2100 ] || {
	echo "bench: ulimit -n is $(ulimit -n); 1,000 sessions need more" >&2
	exit 1
}

WORK=$(mktemp -d /tmp/mw-bench.XXXXXX)
# A root-run instance's services run as its mail_owner, who must reach it.
chmod 755 "$WORK"
MW_PID=""
MW_PORT=""
MW_SUB_PORT=""
MW_SMTPS_PORT=""
REF_STARTED=0

log() { echo "bench: $*" >&2; }

# True while pid $1 runs: a zombie does not (kill -0 succeeds on one, and
# the orphan of a master restarted by qbig is reaped by init, when it is).
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}

stop_mailwright() {
	[ -n "$MW_PID" ] || return 0
	kill -TERM "$MW_PID" 2>/dev/null || true
	for _ in $(seq 300); do alive "$MW_PID" || break; sleep 0.1; done
	if alive "$MW_PID"; then
		log "mailwright $MW_PID ignored SIGTERM for 30 s, sending SIGKILL"
		kill -KILL "$MW_PID" 2>/dev/null || true
	fi
	wait "$MW_PID" 2>/dev/null || true
	MW_PID=""
}

stop_ref() {
	[ "$REF_STARTED" = 1 ] || return 0
	"$REFSTACK/stop.sh" >&2 || true
	REF_STARTED=0
	# Children of the old masters may hold the listener a moment longer;
	# the next start must not find the port answered by them.
	local port deadline=$((SECONDS + 30))
	port=$(. "$REFSTACK/env.sh"; echo "$MT_SMTP_PORT")
	while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || { log "port $port still open"; break; }
		sleep 0.2
	done
}

cleanup() {
	stop_mailwright
	stop_ref
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() { # host port pid: until the port accepts, or the pid dies (30 s)
	local deadline=$((SECONDS + 30))
	until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
		if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then return 1; fi
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Sets NAME = VALUE in a main.cf-syntax file: the old definition and its
# continuation lines go, the new one is appended.
set_param() {
	$PY - "$@" <<'EOF'
import re, sys
path, pairs = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
names = {n for n, _ in pairs}
out, skipping = [], False
for line in open(path).read().splitlines():
    if skipping and line[:1] in (" ", "\t") and line.strip():
        continue
    m = re.match(r"([A-Za-z0-9_]+)\s*=", line)
    skipping = bool(m and m.group(1) in names)
    if not skipping:
        out.append(line)
out.append("# set by bench/run.sh")
out += [f"{n} = {v}" for n, v in pairs]
open(path, "w").write("\n".join(out) + "\n")
EOF
}

CASES=${BENCH_CASES:-idle,s1,s10,s50,big,sub10,sub50,smtps10,idletls,r10,r50,r50d,rbig,qbig,pop10k,plogin,pidle,pidles,pstat,imap10k,imap100k,ilogin,iidle,iidles,iidlew}
case ,$CASES, in
*,sub*|*,smtps*)
	[ -x "$BENCH_SMTP_TLS_SOURCE" ] || {
		log "$BENCH_SMTP_TLS_SOURCE missing: run make build"; exit 1; } ;;
esac
case ,$CASES, in
*,r10,*|*,r50,*|*,r50d,*|*,rbig,*|*,qbig,*)
	[ -x "$SMTP_SINK" ] || {
		log "$SMTP_SINK missing (Debian package postfix; run make deps)"; exit 1; } ;;
esac
# BENCH_REPEAT=N runs the whole list N times over (round robin, so that a
# change in the machine's load spreads over all cases); the report takes
# each case's median run.
RUNS=$CASES
for _ in $(seq 2 "${BENCH_REPEAT:-1}"); do RUNS=$RUNS,$CASES; done

run_cases() { # label out.json cases note
	$PY "$HERE/cases.py" --label "$1" --out "$2" --cases "$3" --note "$4"
}

# A fresh instance with user1..3@example.test, serving SMTP only, on a free
# loopback port; sets MW_PID and MW_PORT. The instance lives in $1. With $2
# = tls it also serves submission and smtps (the certificate of init) on
# free ports MW_SUB_PORT and MW_SMTPS_PORT.
start_mailwright() {
	local dir=$1 cf i pw sub= smtps=
	rm -rf "$dir"
	"$MW" init "$dir" --domain example.test >"$WORK/init.log" 2>&1 || {
		cat "$WORK/init.log" >&2; return 1; }
	cf=$dir/mailwright.cf
	MW_PORT=$(free_port)
	MW_SUB_PORT=""
	MW_SMTPS_PORT=""
	MW_POP3_PORT=""
	MW_POP3S_PORT=""
	MW_IMAP_PORT=""
	MW_IMAPS_PORT=""
	local pop3= pop3s= imap= imaps= popopts=() hashed=()
	if [ "${2:-}" = imap ]; then
		# IMAP cases (issue #10): as for POP3 below, plain and implicit-TLS
		# listeners, LOGIN from loopback, no connection caps, {PLAIN}
		# passwords (the refstack's scheme: no hash for either server).
		MW_IMAP_PORT=$(free_port)
		MW_IMAPS_PORT=$(free_port)
		imap=127.0.0.1:$MW_IMAP_PORT
		imaps=127.0.0.1:$MW_IMAPS_PORT
		popopts=(imap_plaintext_auth_networks=127.0.0.0/8
		    imap_client_connection_count_limit=0 imap_max_userip_connections=0)
		hashed=(--hashed)
	fi
	if [ "${2:-}" = pop3 ]; then
		# POP3 cases (issue #9): plain and implicit-TLS listeners, USER/PASS
		# from loopback as the refstack's Dovecot allows it, no connection
		# caps, and {PLAIN} passwords: the refstack's passwd-file scheme, so
		# that a login costs both servers the same hashing (none).
		MW_POP3_PORT=$(free_port)
		MW_POP3S_PORT=$(free_port)
		pop3=127.0.0.1:$MW_POP3_PORT
		pop3s=127.0.0.1:$MW_POP3S_PORT
		popopts=(pop3_plaintext_auth_networks=127.0.0.0/8
		    pop3_client_connection_count_limit=0 pop3_max_userip_connections=0)
		hashed=(--hashed)
	fi
	if [ "${2:-}" = tls ]; then
		MW_SUB_PORT=$(free_port)
		MW_SMTPS_PORT=$(free_port)
		sub=127.0.0.1:$MW_SUB_PORT
		smtps=127.0.0.1:$MW_SMTPS_PORT
	fi
	# The refstack's outbound route (refstack/setup.sh): mail for sink.test
	# and its subdomains is relayed to the bench's sink.
	printf '%s smtp:[127.0.0.1]:%s\n.%s smtp:[127.0.0.1]:%s\n' \
	    "$RELAY_DOMAIN" "$SINK_PORT" "$RELAY_DOMAIN" "$SINK_PORT" >"$dir/transport"
	# Like the reference stack, lift the per-client connection limit so
	# that 1,000 sessions from 127.0.0.1 fit.
	set_param "$cf" "smtpd_listen=127.0.0.1:$MW_PORT" "submission_listen=$sub" \
	    "smtps_listen=$smtps" "imap_listen=$imap" "imaps_listen=$imaps" "pop3_listen=$pop3" \
	    "pop3s_listen=$pop3s" smtpd_client_connection_count_limit=0 \
	    "relay_domains=$RELAY_DOMAIN" "transport_maps=texthash:$dir/transport" \
	    ${popopts[@]+"${popopts[@]}"}
	for i in 1 2 3; do
		if [ ${#hashed[@]} -gt 0 ]; then pw="{PLAIN}secret-$i"; else pw="secret-$i"; fi
		echo "$pw" | "$MW" -c "$cf" user add ${hashed[@]+"${hashed[@]}"} "user$i@example.test" \
		    >>"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; return 1; }
	done
	"$MW" -c "$cf" serve 2>>"$WORK/serve.log" &
	MW_PID=$!
	if ! wait_port 127.0.0.1 "$MW_PORT" "$MW_PID"; then
		log "mailwright did not start serving 127.0.0.1:$MW_PORT; its log:"
		tail -20 "$WORK/serve.log" >&2
		stop_mailwright
		return 1
	fi
	if [ -n "$MW_IMAP_PORT" ] && ! { wait_port 127.0.0.1 "$MW_IMAP_PORT" "$MW_PID" &&
	    wait_port 127.0.0.1 "$MW_IMAPS_PORT" "$MW_PID"; }; then
		log "mailwright did not start serving imap and imaps; its log:"
		tail -20 "$WORK/serve.log" >&2
		stop_mailwright
		return 1
	fi
	if [ -n "$MW_SUB_PORT" ] && ! { wait_port 127.0.0.1 "$MW_SUB_PORT" "$MW_PID" &&
	    wait_port 127.0.0.1 "$MW_SMTPS_PORT" "$MW_PID"; }; then
		log "mailwright did not start serving submission and smtps; its log:"
		tail -20 "$WORK/serve.log" >&2
		stop_mailwright
		return 1
	fi
}

# Every case gets a new instance: empty Maildirs, no processes left over
# from the case before, so that the order of the cases does not matter.
bench_mailwright() {
	local c dir rc=0 n=0
	[ -x "$MW" ] || { log "$MW missing: run make bench (or make build)"; return 1; }
	for c in ${RUNS//,/ }; do
		n=$((n + 1))
		dir=$WORK/instance-$n-$c
		case $c in
		sub*|smtps*|idletls) start_mailwright "$dir" tls || return 1 ;;
		pop10k|plogin|pidle|pidles|pstat) start_mailwright "$dir" pop3 || return 1 ;;
		imap10k|imap100k|ilogin|iidle|iidles|iidlew) start_mailwright "$dir" imap || return 1 ;;
		*) start_mailwright "$dir" || return 1 ;;
		esac
		log "mailwright: case $c on 127.0.0.1:$MW_PORT, master pid $MW_PID"
		rm -f "$WORK/mw.pid"
		MT_HOST=127.0.0.1 MT_SMTP_PORT=$MW_PORT MT_DOMAIN=example.test \
		MT_SUBMISSION_PORT=$MW_SUB_PORT MT_SMTPS_PORT=$MW_SMTPS_PORT \
		MT_POP3_PORT=$MW_POP3_PORT MT_POP3S_PORT=$MW_POP3S_PORT \
		MT_IMAP_PORT=$MW_IMAP_PORT MT_IMAPS_PORT=$MW_IMAPS_PORT \
		MT_USERS="user1@example.test:secret-1,user2@example.test:secret-2,user3@example.test:secret-3" \
		BENCH_MAILDIR_ROOT=$dir/mail BENCH_PIDS=$MW_PID \
		BENCH_QUEUE_KIND=mailwright BENCH_MW_BIN=$MW BENCH_MW_CONF=$dir/mailwright.cf \
		BENCH_QUEUE_DIR=$dir/queue BENCH_MW_LOG=$WORK/serve.log \
		BENCH_MW_PIDFILE=$WORK/mw.pid \
		    run_cases mailwright "$WORK/mailwright.json" "$c" \
		    "A new instance for each case, SMTP on loopback, the binary $MW." || rc=1
		if [ -s "$WORK/mw.pid" ]; then
			# qbig restarted the instance: the old master is gone
			# (reap it), the new one is the bench's to stop.
			wait "$MW_PID" 2>/dev/null || true
			MW_PID=$(cat "$WORK/mw.pid")
		fi
		stop_mailwright
		[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$dir"
	done
	if [ $rc -ne 0 ]; then
		mkdir -p "$RESULTS"
		cp "$WORK/serve.log" "$RESULTS/$STAMP-mailwright-serve.log"
		log "a case failed; server log: bench/results/$STAMP-mailwright-serve.log"
	fi
	return 0
}

ref_running() {
	[ -f "${REFSTACK_DIR:-/tmp/refstack}/READY" ] &&
	    (. "$REFSTACK/env.sh"; [ -n "$REF_PIDS" ] &&
	    for p in $REF_PIDS; do kill -0 "$p" || exit 1; done) 2>/dev/null
}

# While the refstack is down: mail left in its queue (by an earlier case
# that failed, or qbig cut short) would be relayed into the next case's sink
# when Postfix starts, so it goes.
purge_ref_queue() {
	local d q n
	d=$(. "$REFSTACK/env.sh"; echo "$REFSTACK_DIR")
	q=$(postconf -c "$d/postfix" -h queue_directory 2>/dev/null) || return 0
	n=$(find "$q"/maildrop "$q"/incoming "$q"/active "$q"/deferred "$q"/hold \
	    -type f 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] || return 0
	log "reference: removing $n messages left in its queue $q"
	# postsuper deletes, then may fail to open the log; its count says.
	postsuper -c "$d/postfix" -d ALL >&2 || true
}

# Like mailwright, each case gets a freshly started stack whose users'
# Maildirs (and Dovecot's indexes in them) were removed while it was down,
# and whose queue is empty.
# A stack someone else started is used as it is and left running: its
# Maildirs are counted from where they stand, never touched.
bench_ref() {
	local c rc=0 note
	[ -n "$REFSTACK" ] && [ -x "$REFSTACK/start.sh" ] || {
		log "no refstack at ../shared/refstack (set REFSTACK=DIR)"; return 1; }
	if ref_running; then
		log "reference: already running (started by someone else), using it as it is"
		(. "$REFSTACK/env.sh"
		BENCH_MAILDIR_ROOT=$REF_MAILDIR_ROOT BENCH_PIDS=$REF_PIDS \
		    run_cases "Postfix+Dovecot" "$WORK/ref.json" "$RUNS" \
		    "The refstack as found running: not restarted between cases, Maildirs not emptied.") || rc=1
	else
		"$REFSTACK/setup.sh" >&2
		for c in ${RUNS//,/ }; do
			(. "$REFSTACK/env.sh"; rm -rf "${REF_MAILDIR_ROOT:?}/$MT_DOMAIN")
			purge_ref_queue
			"$REFSTACK/start.sh" >"$WORK/refstack.log" 2>&1 || {
				cat "$WORK/refstack.log" >&2; return 1; }
			REF_STARTED=1
			log "reference: case $c"
			(. "$REFSTACK/env.sh"
			BENCH_MAILDIR_ROOT=$REF_MAILDIR_ROOT BENCH_PIDS=$REF_PIDS \
			BENCH_QUEUE_KIND=postfix BENCH_POSTFIX_CONF=$REFSTACK_DIR/postfix \
			    run_cases "Postfix+Dovecot" "$WORK/ref.json" "$c" \
			    "The refstack, started afresh for each case with empty Maildirs and an empty queue.") || rc=1
			stop_ref
		done
	fi
	[ $rc -eq 0 ] || log "a reference case failed (see above)"
	return 0
}

bench_env() {
	export BENCH_MAILDIR_ROOT=${BENCH_MAILDIR_ROOT:-${REF_MAILDIR_ROOT:-}}
	export BENCH_PIDS=${BENCH_PIDS:-${REF_PIDS:-}}
	if [ -z "$BENCH_MAILDIR_ROOT" ] || [ -z "$BENCH_PIDS" ] || [ -z "${MT_USERS:-}" ]; then
		log "an external target needs MT_USERS, BENCH_MAILDIR_ROOT and BENCH_PIDS"
		return 1
	fi
	run_cases "${BENCH_LABEL:-server on port $MT_SMTP_PORT}" "$WORK/env.json" \
	    "$RUNS" "A running server, not restarted between cases." ||
	    log "a case failed (see above)"
}

files=()
case $BENCH_TARGET in
mailwright) bench_mailwright; files=("$WORK/mailwright.json") ;;
ref) bench_ref; files=("$WORK/ref.json") ;;
both)
	bench_mailwright || true
	bench_ref || true
	files=("$WORK/mailwright.json" "$WORK/ref.json")
	;;
env) bench_env; files=("$WORK/env.json") ;;
esac

have=()
for f in "${files[@]}"; do [ -s "$f" ] && have+=("$f"); done
[ ${#have[@]} -gt 0 ] || { log "no results"; exit 1; }
mkdir -p "$RESULTS"
for f in "${have[@]}"; do cp "$f" "$RESULTS/$STAMP-$(basename "$f")"; done
BENCH_MW_BIN=$MW $PY "$HERE/report.py" "${have[@]}" |
    tee "$RESULTS/$STAMP.md"
log "written to bench/results/$STAMP.md"
[ ${#have[@]} -eq ${#files[@]} ]
