# shellcheck shell=bash
# Shared by deploy/cluster/{up,status,down} and tests/cluster/failover: where
# the local cluster keeps its files, its ports, and how its processes are
# started, found and stopped. Source it after deploy/local/common.sh; it
# defines variables and functions only.

CLUSTER_VAR=${LICD_CLUSTER_VAR:-$LICD_ROOT/var/cluster}
CLUSTER_PACKAGES="patroni etcd-server etcd-client python3-etcd"
CLUSTER_ETCD=(e1 e2 e3)
CLUSTER_PG=(pg1 pg2 pg3)
CLUSTER_LICD=(licd1 licd2)

# cluster_port_used PORT: true while a live TCP socket on this machine has
# PORT as its local port: a listener, or a connection (an outgoing one may
# have been given it as its source port). Sockets that are only closing
# (TIME-WAIT, FIN-WAIT, left by a member just stopped) do not count: our
# servers bind with SO_REUSEADDR.
cluster_port_used() {
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Htan state listening state established state syn-sent state syn-recv \
      state close-wait "sport = :$1" 2>/dev/null)" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# A port below the kernel's range for outgoing connections' source ports
# (ip_local_port_range), so that no client connection can be sitting on it
# when a stopped member starts again; free now.
cluster_pick_port() {
  local low hi p
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  hi=$((low - 1))
  [ "$hi" -gt 12000 ] || hi=32767
  for _ in $(seq 1 100); do
    p=$((hi - 10000 + RANDOM % 10000))
    cluster_port_used "$p" || { echo "$p"; return 0; }
  done
  return 1
}

# Loads the ports from $CLUSTER_VAR/ports.env, choosing distinct free ones the
# first time (they are kept: etcd's members and Patroni's know each other by
# address). Sets ETCD_CLIENT_n, ETCD_PEER_n, PG_PORT_n, REST_PORT_n, LICD_PORT_n.
cluster_ports() {
  local f=$CLUSTER_VAR/ports.env name p used=" "
  if [ ! -s "$f" ]; then
    mkdir -p "$CLUSTER_VAR"
    : >"$f.tmp"
    for name in ETCD_CLIENT_1 ETCD_CLIENT_2 ETCD_CLIENT_3 ETCD_PEER_1 ETCD_PEER_2 ETCD_PEER_3 \
      PG_PORT_1 PG_PORT_2 PG_PORT_3 REST_PORT_1 REST_PORT_2 REST_PORT_3 LICD_PORT_1 LICD_PORT_2; do
      for _ in $(seq 1 20); do
        p=$(cluster_pick_port) || return 1
        case $used in *" $p "*) continue ;; esac
        break
      done
      used="$used$p "
      echo "$name=$p" >>"$f.tmp"
    done
    mv "$f.tmp" "$f"
  fi
  # shellcheck disable=SC1090
  . "$f"
}

cluster_etcd_endpoints() {
  echo "http://127.0.0.1:$ETCD_CLIENT_1,http://127.0.0.1:$ETCD_CLIENT_2,http://127.0.0.1:$ETCD_CLIENT_3"
}

# The libpq connection string every licd node uses: all three PostgreSQL
# nodes, and only the one that accepts writes will do.
cluster_database_url() {
  local db=${1:-licd}
  echo "host=127.0.0.1,127.0.0.1,127.0.0.1 port=$PG_PORT_1,$PG_PORT_2,$PG_PORT_3 dbname=$db user=postgres target_session_attrs=read-write connect_timeout=2"
}

cluster_licd_urls() { echo "http://127.0.0.1:$LICD_PORT_1,http://127.0.0.1:$LICD_PORT_2"; }

# cluster_alive PIDFILE WORD: the PID in PIDFILE when that process runs and its
# command line contains WORD (a recycled PID is not ours); fails otherwise.
cluster_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(head -n 1 "$1")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2" || return 1
  echo "$pid"
}

# cluster_spawn PIDFILE LOG COMMAND...: runs COMMAND detached in its own
# session (Ctrl-C in this terminal does not reach it), output appended to LOG,
# and records its PID (the shell execs the command, so the PID is the command's).
cluster_spawn() {
  local pidfile=$1 log=$2 i
  shift 2
  rm -f "$pidfile"
  setsid -f bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$log" 2>&1
  for i in $(seq 1 50); do
    [ -s "$pidfile" ] && return 0
    sleep 0.1
  done
  echo "cannot start $*" >&2
  return 1
}

# cluster_stop PIDFILE WORD [SECONDS]: SIGTERM, then SIGKILL after SECONDS
# (default 30) if the process is still there.
cluster_stop() {
  local pid i limit=${3:-30}
  pid=$(cluster_alive "$1" "$2") || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 $((limit * 10))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  licd_log "$2 ($pid) did not stop in ${limit}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# cluster_port_free PORT WHAT: fails, saying so, when PORT is in use (the
# ports are chosen once and kept).
cluster_port_free() {
  if cluster_port_used "$1"; then
    echo "port $1 ($2) is in use by another program: stop it, or start over with new ports (deploy/cluster/down --wipe)" >&2
    return 1
  fi
}

# cluster_start_etcd N: starts etcd member N (1-3) unless it runs. The
# initial-cluster flags matter only the first time; after that the member
# rejoins from its data folder.
cluster_start_etcd() {
  local i=$1 n dir client peer initial="" j p
  n=${CLUSTER_ETCD[i - 1]} dir=$CLUSTER_VAR/etcd/${CLUSTER_ETCD[i - 1]}
  client="ETCD_CLIENT_$i" peer="ETCD_PEER_$i"
  for j in 1 2 3; do
    p="ETCD_PEER_$j"
    initial+="${initial:+,}${CLUSTER_ETCD[j - 1]}=http://127.0.0.1:${!p}"
  done
  mkdir -p "$dir"
  cluster_alive "$dir/etcd.pid" etcd >/dev/null && return 0
  cluster_port_free "${!client}" "etcd $n client" && cluster_port_free "${!peer}" "etcd $n peer" || return 1
  licd_log "starting etcd $n (client 127.0.0.1:${!client})"
  cluster_spawn "$dir/etcd.pid" "$dir/etcd.log" etcd --name "$n" --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:${!client}" --advertise-client-urls "http://127.0.0.1:${!client}" \
    --listen-peer-urls "http://127.0.0.1:${!peer}" --initial-advertise-peer-urls "http://127.0.0.1:${!peer}" \
    --initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token licd-local \
    --auto-compaction-mode periodic --auto-compaction-retention 1h --logger zap
}

# The PID of the postmaster of a PostgreSQL node (first line of
# postmaster.pid) while it runs; fails otherwise.
cluster_postmaster_pid() {
  local f=$CLUSTER_VAR/pg/$1/data/postmaster.pid pid
  pid=$(head -n 1 "$f" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q postgres || return 1
  echo "$pid"
}

# Prints the status object (see deploy/cluster/status). Roles come from
# Patroni's view of the cluster in etcd when etcd answers, else from each
# node's own REST API; PIDs from the pid files.
cluster_status_json() {
  local args=() n i pid
  for i in 1 2 3; do
    n=${CLUSTER_PG[i - 1]}
    pid=$(cluster_postmaster_pid "$n") || pid=""
    local rest="REST_PORT_$i" port="PG_PORT_$i"
    args+=("member=$n,${!port},${!rest},$pid,$(cluster_alive "$CLUSTER_VAR/pg/$n/patroni.pid" patroni || true)")
  done
  for i in 1 2 3; do
    n=${CLUSTER_ETCD[i - 1]}
    pid=$(cluster_alive "$CLUSTER_VAR/etcd/$n/etcd.pid" etcd || true)
    local client="ETCD_CLIENT_$i"
    args+=("etcd=$n,http://127.0.0.1:${!client},$pid")
  done
  args+=("licd=$(cluster_licd_urls)")
  args+=("vendor=$CLUSTER_VAR/vendor.json")
  /usr/bin/python3 - "${args[@]}" <<'EOF'
import json, sys, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor

def get(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)

members, etcd, licd, key = [], [], [], None
for arg in sys.argv[1:]:
    kind, _, value = arg.partition('=')
    if kind == 'member':
        name, port, rest, pid, patroni = value.split(',')
        members.append(dict(name=name, port=int(port), rest=int(rest),
                            pid=int(pid) if pid else None, patroni=bool(patroni)))
    elif kind == 'etcd':
        name, url, pid = value.split(',')
        etcd.append({'name': name, 'pid': int(pid) if pid else None, 'client_url': url})
    elif kind == 'licd':
        licd = value.split(',')
    elif kind == 'vendor':
        try:
            with open(value) as f:
                key = json.load(f).get('api_key')
        except (OSError, ValueError):
            pass

# Every node's own state, and the cluster as Patroni keeps it in etcd (which
# no node can read without an etcd majority), asked of all nodes at once.
def local_state(m):
    try:
        return get('http://127.0.0.1:%d/patroni' % m['rest'], 3)
    except urllib.error.HTTPError as e:      # a 503 still carries the state
        try:
            return json.load(e)
        except ValueError:
            return None
    except (OSError, ValueError):
        return None

def cluster_view(m):
    try:
        return {x['name']: x for x in get('http://127.0.0.1:%d/cluster' % m['rest'], 3)['members']}
    except (OSError, ValueError, KeyError, TypeError):
        return None

alive = [m for m in members if m['patroni']]
with ThreadPoolExecutor(max_workers=6) as pool:
    states = dict(zip([m['name'] for m in alive], pool.map(local_state, alive)))
    views = list(pool.map(cluster_view, alive))
# the primary's view first: it assigns the synchronous standby
ranked = sorted(zip(alive, views), key=lambda mv: (states.get(mv[0]['name']) or {}).get('role') not in ('master', 'primary'))
view = next((v for _, v in ranked if v is not None), None)

out = []
primary = None
for m in members:
    local = states.get(m['name'])
    writable = bool(local) and local.get('role') in ('master', 'primary')
    if view is not None:
        role = view[m['name']]['role'] if m['name'] in view else 'unknown'
    elif local:
        role = 'leader' if writable else 'replica'
    else:
        role = 'unknown'
    if not m['patroni']:
        state = 'stopped'
    elif local:
        state = local.get('state', 'unknown')
    else:
        state = 'unreachable'
    if role == 'leader' and writable and state == 'running':
        primary = m['name']
    out.append({'name': m['name'], 'role': role, 'state': state, 'pid': m['pid'], 'port': m['port']})

print(json.dumps({'licd': licd, 'vendor_api_key': key, 'primary': primary,
                  'members': out, 'etcd': etcd}))
EOF
}

# Reads a field of a JSON object on stdin: cluster_json_get primary,
# cluster_json_get 'members[0].pid'. Prints nothing for null.
cluster_json_get() {
  /usr/bin/python3 -c '
import json, re, sys
v = json.load(sys.stdin)
for part in re.findall(r"[^.\[\]]+", sys.argv[1]):
    v = v[int(part)] if isinstance(v, list) else v.get(part)
    if v is None:
        break
print("" if v is None else (v if isinstance(v, str) else json.dumps(v)))' "$1"
}
