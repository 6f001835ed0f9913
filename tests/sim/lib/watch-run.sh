# watch-run.sh - sourced by a script an emulated node runs (busybox sh).
#
#   watch_run NAME DUMP_AFTER COMMAND...
#
# Runs COMMAND (stdin /dev/null, stdout and stderr kept apart in
# /tmp/NAME.out and /tmp/NAME.err), then prints "NAME-status: S",
# "NAME-secs: N", "NAME-end: EPOCH-SECONDS" and every line of the two
# outputs tagged "NAME-out: " and "NAME-err: ". If COMMAND still runs
# after DUMP_AFTER seconds, it first prints, tagged "NAME-dump: ", the
# outputs' last lines so far and, for every cvmm process, each thread's
# state, wait channel and kernel stack: where a run that hangs past its own
# timeouts is stuck, shown even if the emulated node is then killed.
# For a command started otherwise (its output in /tmp/NAME.out, and
# /tmp/NAME.err if it exists), watch_pid PID NAME DUMP_AFTER does the
# watching alone.

watch_dump() {
	echo "$1-dump: after $2 s"
	{
		tail -n 20 "/tmp/$1.out"
		[ ! -f "/tmp/$1.err" ] || tail -n 40 "/tmp/$1.err"
		# By name (comm), not by command line: reading a process's
		# cmdline takes its mmap lock, which a cvmm stuck in exit or in a
		# fault may hold for ever (a CI run's dump hung there).
		for d in /proc/[0-9]*; do
			[ "$(cat "$d/comm" 2>/dev/null)" = cvmm ] || continue
			echo "process ${d#/proc/}: $(timeout -s KILL 2 cat "$d/cmdline" 2>/dev/null | tr '\0' ' ')"
			for t in "$d"/task/*; do
				echo "  thread ${t##*/} $(cut -d' ' -f2-3 "$t/stat") wchan=$(cat "$t/wchan" 2>/dev/null)"
				sed 's/^/    /' "$t/stack" 2>/dev/null | head -n 8
			done
		done
	} | sed "s/^/$1-dump: /"
}

# watch_pid PID NAME DUMP_AFTER: waits while PID runs, printing watch_dump
# NAME once if it still runs DUMP_AFTER seconds from now.
watch_pid() {
	wp_t0=$(date +%s) wp_dumped=0
	while kill -0 "$1" 2>/dev/null; do
		sleep 1
		wp_secs=$(($(date +%s) - wp_t0))
		if [ $wp_dumped = 0 ] && [ $wp_secs -ge "$3" ]; then
			watch_dump "$2" $wp_secs
			wp_dumped=1
		fi
	done
}

watch_run() {
	name=$1 after=$2
	shift 2
	"$@" </dev/null >"/tmp/$name.out" 2>"/tmp/$name.err" &
	run=$!
	t0=$(date +%s)
	watch_pid $run "$name" "$after"
	wait $run
	rc=$?
	secs=$(($(date +%s) - t0))
	echo "$name-status: $rc"
	echo "$name-secs: $secs"
	echo "$name-end: $(date +%s)"
	sed "s/^/$name-out: /" "/tmp/$name.out"
	sed "s/^/$name-err: /" "/tmp/$name.err"
}
