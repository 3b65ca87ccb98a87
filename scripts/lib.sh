# shellcheck shell=bash
# Helpers shared by scripts/test, scripts/compare-readers and scripts/bench-export.
# Source it; it defines functions and PSTSYNC_ROOT, and changes nothing else.

# PSTSYNC_ROOT is the project root: the directory that holds go.mod.
PSTSYNC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Go lives in /usr/local/go on the project's machines; tools go install to GOPATH/bin.
if [[ -x /usr/local/go/bin/go && ":$PATH:" != *":/usr/local/go/bin:"* ]]; then
	PATH="/usr/local/go/bin:$PATH"
fi
if command -v go >/dev/null 2>&1; then
	_gobin=$(go env GOBIN)
	[[ -n "$_gobin" ]] || _gobin="$(go env GOPATH)/bin"
	[[ ":$PATH:" == *":$_gobin:"* ]] || PATH="$PATH:$_gobin"
	unset _gobin
fi
export PATH

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# samples_dir prints the directory of the shared PST samples (PSTSYNC_SAMPLES, or
# ../shared/pst-samples beside the project root) as an absolute path when it exists.
# It holds every sample; testdata/pst-samples holds those whose licence lets them
# live in the repository (see testdata/NOTICE).
samples_dir() {
	local d=${PSTSYNC_SAMPLES:-$PSTSYNC_ROOT/../shared/pst-samples}
	if [[ -d "$d" ]]; then
		(cd "$d" && pwd)
	else
		printf '%s\n' "$d"
	fi
}

# sample_files prints the path of every sample PST, one per line, sorted by file
# name: those of testdata/pst-samples, then those of samples_dir that the repository
# does not hold (when that directory exists).
sample_files() {
	local shared f
	shared=$(samples_dir)
	{
		for f in "$PSTSYNC_ROOT"/testdata/pst-samples/*.pst; do
			[[ -f "$f" ]] && printf '%s\t%s\n' "$(basename "$f")" "$f"
		done
		if [[ -d "$shared" ]]; then
			for f in "$shared"/*.pst; do
				[[ -f "$f" && ! -f "$PSTSYNC_ROOT/testdata/pst-samples/$(basename "$f")" ]] &&
					printf '%s\t%s\n' "$(basename "$f")" "$f"
			done
		fi
	} | LC_ALL=C sort | cut -f 2
}

# now prints the wall-clock time in seconds with nanoseconds.
now() { date +%s.%N; }

# elapsed START prints the seconds since START (from now) with 2 decimals.
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.3f", e - s }'; }

# median prints the median of its numeric arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# build_pstsync OUT builds the CLI to OUT; it returns non-zero (with the
# compiler's output on stderr) when ./cmd/pstsync does not build yet.
build_pstsync() {
	local out=$1
	[[ -d "$PSTSYNC_ROOT/cmd/pstsync" ]] || {
		warn "no ./cmd/pstsync in $PSTSYNC_ROOT yet"
		return 1
	}
	(cd "$PSTSYNC_ROOT" && go build -o "$out" ./cmd/pstsync)
}

# as_root CMD... runs CMD as root (directly, or through sudo when available).
as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "need root to run: $*"
	fi
}

# apt_ensure CMD:PACKAGE... installs the Debian packages whose command is missing
# (and that dpkg does not list as installed), with one apt-get update before the
# first install.
_apt_updated=
apt_ensure() {
	local pair cmd pkg missing=()
	for pair in "$@"; do
		cmd=${pair%%:*}
		pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 ||
			dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q ' installed$' ||
			missing+=("$pkg")
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		log "Debian packages present: ${*//:/ from }"
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
	if [[ -z "$_apt_updated" ]]; then
		log "apt-get update"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		_apt_updated=1
	fi
	log "apt-get install ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
