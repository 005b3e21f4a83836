#!/usr/bin/env bash
# The baseline swarm_stack is measured against: what an operator does with
# the docker CLI alone. `docker stack deploy`, then poll until every service
# of the stack runs as many tasks as it wants and its update (if any) has
# completed. Debian's 20.10 CLI has no `--detach=false` for stack deploy.
# The services the operator changed (UPDATED...) must also show an update
# that started after the deploy: right after `docker stack deploy` their
# UpdateStatus still says completed, from the update before.
# Images are not resolved against a registry, as swarm_stack does by default.
# Prints the seconds from the deploy to convergence.
# usage: raw-deploy-wait.sh STACK COMPOSE_FILE POLL_SECONDS TIMEOUT_SECONDS [UPDATED...]
set -euo pipefail
stack=$1 file=$2 poll=$3 timeout=$4
shift 4
updated=" $* "
export LC_ALL=C
start=$(date +%s.%N)
docker stack deploy --resolve-image never --compose-file "$file" "$stack" >/dev/null
converged() {
  local id name state started replicas running desired
  for id in $(docker stack services --quiet "$stack"); do
    read -r name state started < <(docker service inspect --format \
      '{{.Spec.Name}} {{if .UpdateStatus}}{{.UpdateStatus.State}} {{.UpdateStatus.StartedAt.Unix}}{{else}}none 0{{end}}' "$id")
    case $state in
      none | completed) ;;
      *) return 1 ;;
    esac
    if [[ $updated == *" ${name#"${stack}_"} "* ]] && ((started < ${start%.*})); then
      return 1
    fi
    replicas=$(docker service ls --filter "id=$id" --format '{{.Replicas}}')
    running=${replicas%%/*}
    desired=${replicas##*/}
    desired=${desired%% *}
    [ "$running" = "$desired" ] || return 1
  done
}
until converged; do
  if (($(date +%s) - ${start%.*} > timeout)); then
    echo "not converged after ${timeout}s" >&2
    exit 1
  fi
  sleep "$poll"
done
end=$(date +%s.%N)
echo "$end - $start" | bc -l 2>/dev/null || python3 -c "print($end - $start)"
