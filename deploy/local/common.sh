# Shared by deploy/local/run and tests/run: Debian packages, the build, and a
# private PostgreSQL cluster in a folder (run as the postgres user under root).
# Source it; it defines functions only.

LICD_PACKAGES="build-essential clang cmake pkg-config libmicrohttpd-dev libpq-dev libjwt-dev
  libssl-dev libcjson-dev libcriterion-dev libcurl4-openssl-dev zlib1g-dev libjemalloc-dev postgresql
  postgresql-contrib curl ca-certificates openssl libfuzzer-14-dev socat chromium"

licd_log() { printf '==> %s\n' "$*" >&2; }

# Installs whichever of the packages named are missing (needs root or sudo).
licd_ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  licd_log "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm for the console's build, the spec linter and the browser test: the
# machine's own Node.js if there is one, else Debian's.
licd_ensure_npm() {
  command -v npm >/dev/null 2>&1 || licd_ensure_packages nodejs npm
}

# Configures and builds into $1 with extra cmake arguments after it.
licd_build() {
  local dir=$1; shift
  cmake -S "$LICD_ROOT" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)" -- --no-print-directory >/dev/null
}

licd_pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || { echo "PostgreSQL server binaries not found" >&2; return 1; }
  echo "$d"
}

# Runs a PostgreSQL tool as the postgres user when we are root (initdb refuses root).
licd_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# licd_pg_start DIR PORT: initialises DIR/data the first time, then starts the
# server on a Unix socket in DIR and, unless LICD_PG_LISTEN is set to '' (socket
# only), on 127.0.0.1:PORT.
licd_pg_start() {
  local dir=$1 port=$2 bin
  bin=$(licd_pg_bindir) || return 1
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    runuser -u postgres -- test -w "$dir" || {
      echo "the postgres user cannot reach $dir: make its parent folders traversable (chmod o+x) or use another checkout" >&2
      return 1
    }
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    licd_pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; return 1; }
  fi
  licd_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses='${LICD_PG_LISTEN-127.0.0.1}' -c max_connections=200 -c fsync=${LICD_PG_FSYNC:-on}" start >/dev/null ||
    { tail -n 20 "$dir/postgres.log" >&2; return 1; }
}

# licd_pg_stop DIR [MODE]: stops the server of DIR with pg_ctl -m MODE (fast;
# immediate: a crash, recovered from the WAL at the next start).
licd_pg_stop() {
  local dir=$1 mode=${2:-fast} bin
  bin=$(licd_pg_bindir) || return 1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  licd_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null 2>&1 || true
}

# A TCP port nobody listens on now (a connection attempt is refused).
licd_free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((10000 + RANDOM % 22000)) # below the ephemeral ports (32768-)
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}
