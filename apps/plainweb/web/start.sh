#!/bin/sh
# Writes nginx's configuration from the environment and runs nginx in the
# foreground. Every path answers one JSON line: the version and the host.
#   APP_VERSION     the version it reports
#   PLAINWEB_BREAK  exit: exit at start; 500: answer 500 everywhere (bad releases)
set -eu
case "${PLAINWEB_BREAK:-}" in
    exit) echo "plainweb: PLAINWEB_BREAK=exit, exiting" >&2; exit 1 ;;
    500) status=500 ;;
    *) status=200 ;;
esac
cat >/etc/nginx/nginx.conf <<CONF
worker_processes 1;
pid /run/nginx.pid;
error_log stderr;
events { worker_connections 512; }
http {
    access_log off;
    server {
        listen 8080;
        default_type application/json;
        location / {
            return $status '{"app": "plainweb", "version": "${APP_VERSION:-dev}", "host": "\$hostname"}';
        }
    }
}
CONF
exec nginx -g 'daemon off;'
