#!/bin/bash
# Crossover of creating the primary key with the table vs after the COPY (issue 17), on a throwaway PostgreSQL 15 as
# root (the server runs as the postgres user): bash bench/load/pk-crossover.sh. Each size three times, load average beside.
set -e
B=/usr/lib/postgresql/15/bin; R="setpriv --reuid=postgres --regid=postgres --init-groups"
D=/tmp/loadperf/pgdata; P=55437
rm -rf $D; mkdir -p $D; chown postgres $D /tmp/loadperf; $R $B/initdb -D $D -U postgres -A trust >/dev/null
$R $B/pg_ctl -D $D -o "-p $P -k /tmp/loadperf -c max_wal_size=8GB -c checkpoint_timeout=30min -c shared_buffers=512MB -c autovacuum=off" -l /tmp/loadperf/pg.log start >/dev/null
Q="psql -h /tmp/loadperf -p $P -U postgres -qAt"
for N in 1000 10000 100000 1000000; do
  $Q -c "DROP TABLE IF EXISTS src; CREATE TABLE src AS SELECT g::bigint id, ((g::bigint * 7919) % 1000003)::int n, md5(g::text) || ' ' || g t, ((g % 100000) / 100.0)::numeric(12,2) amount, '2024-01-01'::timestamptz + g * interval '1 second' AS "at" FROM generate_series(1,$N) g"
  $Q -c "COPY src TO '/tmp/loadperf/src.bin' (FORMAT binary)"
  for rep in 1 2 3; do
    $Q -c "DROP TABLE IF EXISTS a; DROP TABLE IF EXISTS b; CHECKPOINT"
    s=$(date +%s%N)
    $Q -c "CREATE TABLE a (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL, amount numeric(12,2) NOT NULL, at timestamptz NOT NULL)" -c "COPY a FROM '/tmp/loadperf/src.bin' (FORMAT binary)"
    m=$(date +%s%N)
    $Q -c "CHECKPOINT"
    m2=$(date +%s%N)
    $Q -c "CREATE TABLE b (id bigint NOT NULL, n int NOT NULL, t text NOT NULL, amount numeric(12,2) NOT NULL, at timestamptz NOT NULL)" -c "COPY b FROM '/tmp/loadperf/src.bin' (FORMAT binary)" -c "ALTER TABLE b ADD PRIMARY KEY (id)"
    e=$(date +%s%N)
    echo "rows=$N rep=$rep with-table=$(( (m-s)/1000000 ))ms after-load=$(( (e-m2)/1000000 ))ms load=$(cut -d' ' -f1 /proc/loadavg)"
  done
done
$R $B/pg_ctl -D $D stop >/dev/null; rm -rf $D /tmp/loadperf/src.bin
