#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cli_prometheus: a real Prometheus server scrapes a real pmemtierd
# ([metrics] listen) with the operator guide's rules loaded, and its
# queries see what the daemon says: the scrape is up (the OpenMetrics text
# Prometheus asks for parses), a bucket's bytes equal tierctl quota list's,
# the refusal counter counts the refusal, the recording rules evaluate.
# Skipped without the prometheus package (scripts/install-deps).
. "$(dirname "$0")/lib.sh" || exit 1
pmt_need_tools
pmt_need_daemon
[ -x "${LEASER:-}" ] || pmt_skip "pmt_leaser not built"
command -v prometheus >/dev/null && command -v promtool >/dev/null ||
    pmt_skip "prometheus and promtool not installed (Debian package prometheus)"
RULES=$PMEMTIER_SOURCE_DIR/docs/examples/prometheus/pmemtier.rules.yml
[ -f "$RULES" ] || pmt_fail "no $RULES"

# free_port: a loopback port nothing answers on now.
free_port()
{
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	pmt_fail "no free port found"
}

pmt_setup
MPORT=$(free_port)
PPORT=$(free_port)
[ "$MPORT" != "$PPORT" ] || PPORT=$(free_port)
pmt_config "[quota root-pmem]
uid = 0
tier = pmem
limit = 8M

[metrics]
listen = 127.0.0.1:$MPORT"
pmt_daemon_start

pmt_leaser H -- -t pmem -z 3M -n 2
expect_eq "over quota refused" "$(pmt_try_grant -- -t pmem -z 4M)" \
    ERROR_QUOTA

cat >"$PMT_DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: pmemtier
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
EOF
promtool check config "$PMT_DIR/prometheus.yml" >"$PMT_DIR/check.log" 2>&1 ||
    pmt_fail "promtool check config: $(cat "$PMT_DIR/check.log")"
prometheus --config.file="$PMT_DIR/prometheus.yml" \
    --storage.tsdb.path="$PMT_DIR/tsdb" \
    --web.listen-address="127.0.0.1:$PPORT" \
    >"$PMT_DIR/prometheus.log" 2>&1 &
PMT_PIDS+=("$!")
URL=http://127.0.0.1:$PPORT

# value EXPR: the value of the query's first sample ("" when none yet).
value()
{
	promtool query instant "$URL" "$1" 2>/dev/null |
	    sed -n 's/.*=> \([^ ]*\) @.*/\1/p' | head -n 1
}

# wait_value EXPR WANT: up to 30 s for the query to give WANT.
wait_value()
{
	local v=
	for _ in $(seq 1 150); do
		v=$(value "$1")
		[ "$v" = "$2" ] && return 0
		sleep 0.2
	done
	pmt_fail "Prometheus: $1 is \"$v\", wanted $2"
}

wait_value 'up{job="pmemtier"}' 1
wait_value 'pmemtier_lease_refusals_total{code="quota"}' 1
wait_value 'pmemtier_lease_grants_total' 2

pmt_ctl_ok -j quota list
used=$(printf '%s' "$PMT_OUT" |
    jq -r '.usage[] | select(.tier == "pmem") | .used')
bucket=$(printf '%s' "$PMT_OUT" |
    jq -r '.usage[] | select(.tier == "pmem") | .bucket')
expect_eq "quota list used" "$used" $((6 * 1024 * 1024))
wait_value "pmemtier_quota_bucket_used_bytes{bucket=\"$bucket\",tier=\"pmem\",rule=\"root-pmem\"}" "$used"

pmt_ctl_ok -j tiers
granted=$(printf '%s' "$PMT_OUT" |
    jq -r '.tiers[] | select(.name == "pmem") | .granted')
wait_value 'pmemtier_tier_granted_bytes{tier="pmem"}' "$granted"

# The operator guide's recording rules evaluate on the scraped series.
wait_value "pmemtier:quota_bucket_used:ratio{bucket=\"$bucket\"}" 0.75
wait_value 'count(pmemtier:quota_bucket_used_bytes:top10)' 1
wait_value 'count(pmemtier:lease_refusals:rate5m{code="quota"})' 1
# The histogram arrives whole: 14 bounds and +Inf.
wait_value 'count(pmemtier_grant_duration_seconds_bucket)' 15
echo "ok: Prometheus scraped pmemtierd and its queries agree"
