#!/usr/bin/env bash
# The test suite runs against the PostgreSQL and Redis on 127.0.0.1; say how to start them if not up.
set -u
ok=0
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "PostgreSQL is not running on 127.0.0.1:5432. Start it with:"
  echo "  pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
  echo "  (or: sudo systemctl start postgresql)"
  ok=1
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "Redis is not running on 127.0.0.1:6379. Start it with:"
  echo "  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no"
  ok=1
fi
exit $ok
