# Services for the tests, sourced by ./test: a throwaway PostgreSQL database and a private single-node Slurm, both
# started here and stopped by services_stop (./test's EXIT trap). Nothing under /etc changes: Slurm and MUNGE run from
# a temporary folder with their own key, socket, ports and state. The tests read INITPRUNE_TEST_POSTGRES and
# INITPRUNE_TEST_SLURM_CONF (never a SLURM_CONF of yours, so no job goes to a real cluster); where a service cannot be
# started here, the tests that need it fail saying so.

SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo); fi

pg_started=""
pg_name=""
pg_port=""
slurm_dir=""

services_can_start() { [ "$(id -u)" -eq 0 ] || [ ${#SUDO[@]} -gt 0 ]; }

# PostgreSQL: Debian's cluster (started when down), a role and a database named for this run.
postgres_start() {
  [ -z "${INITPRUNE_TEST_POSTGRES:-}" ] || return 0
  if ! services_can_start; then
    echo "./test: the PostgreSQL store tests need a server: run ./test as root or with sudo rights (it starts Debian's postgresql), or set INITPRUNE_TEST_POSTGRES=postgres://USER@HOST/DB (password in PGPASSWORD) for a server where USER may create databases; they fail otherwise" >&2
    return 0
  fi
  local pg_version pg_cluster pg_status rest
  read -r pg_version pg_cluster pg_port pg_status rest < <(pg_lsclusters -h | head -n 1) || true
  if [ -z "${pg_version:-}" ]; then
    pg_version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
    "${SUDO[@]}" pg_createcluster "$pg_version" main >/dev/null
    read -r pg_version pg_cluster pg_port pg_status rest < <(pg_lsclusters -h | head -n 1)
  fi
  if [ "$pg_status" != "online" ]; then
    "${SUDO[@]}" pg_ctlcluster "$pg_version" "$pg_cluster" start
    pg_started="$pg_version $pg_cluster"
  fi
  pg_name="initprune_test_$$"
  local password
  password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  "${SUDO[@]}" runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -p "$pg_port" \
    -c "CREATE ROLE $pg_name LOGIN CREATEDB PASSWORD '$password'" -c "CREATE DATABASE $pg_name OWNER $pg_name"
  export INITPRUNE_TEST_POSTGRES="postgres://$pg_name@127.0.0.1:$pg_port/$pg_name" PGPASSWORD="$password"
  echo "./test: PostgreSQL $pg_version/$pg_cluster on port $pg_port, throwaway database $pg_name" >&2
}

# Slurm: MUNGE, slurmctld and slurmd for one node with this machine's cores, configured as the issue's minimal cluster.
slurm_start() {
  [ -z "${INITPRUNE_TEST_SLURM_CONF:-}" ] || return 0
  if ! services_can_start; then
    echo "./test: the Slurm job-array test needs root or sudo rights to start slurmd; it fails otherwise (or set INITPRUNE_TEST_SLURM_CONF to a test cluster's slurm.conf)" >&2
    return 0
  fi
  slurm_dir=$(mktemp -d /tmp/initprune-slurm.XXXXXX)
  chmod 755 "$slurm_dir"
  mkdir -p "$slurm_dir/munge" "$slurm_dir/run" "$slurm_dir/state" "$slurm_dir/spool" "$slurm_dir/log"
  chmod 700 "$slurm_dir/munge"
  head -c 1024 /dev/urandom > "$slurm_dir/munge/munge.key"
  chmod 400 "$slurm_dir/munge/munge.key"
  "${SUDO[@]}" /usr/sbin/munged --socket="$slurm_dir/run/munge.sock" --key-file="$slurm_dir/munge/munge.key" \
    --log-file="$slurm_dir/log/munged.log" --pid-file="$slurm_dir/munge/munged.pid" --seed-file="$slurm_dir/munge/munged.seed"
  local host port conf
  host=$(hostname -s)
  port=$(( 20000 + $$ % 20000 ))
  conf="$slurm_dir/slurm.conf"
  {
    echo "ClusterName=initprune-test"
    echo "SlurmctldHost=$host"
    echo "SlurmUser=root"
    echo "AuthType=auth/munge"
    echo "AuthInfo=socket=$slurm_dir/run/munge.sock"
    echo "CredType=cred/munge"
    echo "ProctrackType=proctrack/linuxproc"
    echo "TaskPlugin=task/none"
    echo "SelectType=select/cons_tres"
    echo "SelectTypeParameters=CR_Core"
    echo "MpiDefault=none"
    echo "ReturnToService=2"
    echo "SlurmctldPort=$port"
    echo "SlurmdPort=$(( port + 1 ))"
    echo "StateSaveLocation=$slurm_dir/state"
    echo "SlurmdSpoolDir=$slurm_dir/spool"
    echo "SlurmctldPidFile=$slurm_dir/run/slurmctld.pid"
    echo "SlurmdPidFile=$slurm_dir/run/slurmd.pid"
    echo "SlurmctldLogFile=$slurm_dir/log/slurmctld.log"
    echo "SlurmdLogFile=$slurm_dir/log/slurmd.log"
    echo "AccountingStorageType=accounting_storage/none"
    echo "JobCompType=jobcomp/none"
    echo "KillWait=30"
    echo "MinJobAge=600"
    echo "NodeName=$host CPUs=$(nproc) State=UNKNOWN"
    # Four array tasks share the node's cores (a 2-core CI machine still runs the 4-task array at once).
    echo "PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4"
  } > "$conf"
  export INITPRUNE_TEST_SLURM_CONF="$conf"
  "${SUDO[@]}" /usr/sbin/slurmctld -f "$conf"
  "${SUDO[@]}" /usr/sbin/slurmd -f "$conf"
  local state=""
  for _ in $(seq 1 60); do
    state=$(SLURM_CONF="$conf" sinfo -h -o %T 2>/dev/null || true)
    [ "$state" = "idle" ] && break
    sleep 0.5
  done
  echo "./test: Slurm $(SLURM_CONF="$conf" sinfo -V 2>/dev/null | cut -d' ' -f2) on $host ($(nproc) CPUs, node ${state:-not up}), config $conf" >&2
}

services_stop() {
  if [ -n "$slurm_dir" ]; then
    SLURM_CONF="$slurm_dir/slurm.conf" scancel --full --user "$(id -un)" >/dev/null 2>&1 || true
    local pidfile pids=()
    for pidfile in "$slurm_dir/run/slurmd.pid" "$slurm_dir/run/slurmctld.pid" "$slurm_dir/munge/munged.pid"; do
      if [ -f "$pidfile" ]; then pids+=("$(cat "$pidfile")"); fi
    done
    if [ ${#pids[@]} -gt 0 ]; then
      "${SUDO[@]}" kill "${pids[@]}" 2>/dev/null || true
      local pid alive
      for _ in $(seq 1 100); do
        alive=0
        for pid in "${pids[@]}"; do "${SUDO[@]}" kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && break
        sleep 0.1
      done
    fi
    "${SUDO[@]}" rm -rf "$slurm_dir"
  fi
  if [ -n "$pg_name" ]; then
    "${SUDO[@]}" runuser -u postgres -- psql -q -p "$pg_port" -c "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)" -c "DROP ROLE IF EXISTS $pg_name" >/dev/null 2>&1 || true
  fi
  if [ -n "$pg_started" ]; then "${SUDO[@]}" pg_ctlcluster $pg_started stop || true; fi
}
