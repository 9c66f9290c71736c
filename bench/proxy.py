"""nginx in front of several dashboard replicas, with sticky sessions, for ``bench/hall.py --replicas``.

The configuration is README's "Deploying for a class" recipe, written for 127.0.0.1 and free ports:
a browser's first response sets a ``vv_route`` cookie (nginx's ``$request_id``, random per request)
and every later request of that browser — the front end's files, the health check, the websocket,
uploads — is hashed on that cookie to the same replica (``hash … consistent``). Streamlit needs the
stickiness: a session, its widget state and its uploads live in one process, and an upload sent to
another replica is refused ("Invalid session_id"). ``ip_hash`` would do on a network where every
student has an address of their own, but sends a whole NAT-ed room (and every simulated student,
all on 127.0.0.1) to one replica.

nginx runs in the foreground (``daemon off``) with its own prefix, pid file, temp folders and logs in
a temporary folder; its access log names the replica (``$upstream_addr``) and the route cookie of
every request, which :func:`routes` reads back to check stickiness.
"""
from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from stserver import stop_group

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# The part README shows (with the ports of this run filled in).
SITE = """\
map $cookie_vv_route $vv_route {{
    ""      $request_id;        # a new browser: a fresh random route, sent back as a cookie below
    default $cookie_vv_route;
}}
map $cookie_vv_route $vv_set_route {{
    ""      "vv_route=$vv_route; Path=/; HttpOnly; SameSite=Lax";
    default "";                 # (an empty add_header value sends no header)
}}
map $http_upgrade $connection_upgrade {{
    default upgrade;
    ""      close;
}}
upstream vitviz {{
    hash $vv_route consistent;  # sticky: one browser, one replica
{servers}
}}
server {{
    listen 127.0.0.1:{port};
    location / {{
        proxy_pass http://vitviz;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $host;
        proxy_read_timeout 86400;
        proxy_buffering off;
        client_max_body_size 21m;  # Streamlit's server.maxUploadSize (20 MB) and the form's framing
        add_header Set-Cookie $vv_set_route;
        gzip on;
        gzip_proxied any;
        gzip_types application/javascript text/css application/json;
    }}
}}
"""

MAIN = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format route '$upstream_addr $cookie_vv_route $vv_route $status $request_method $uri';
    access_log {tmp}/access.log route;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{site}
}}
"""


def site_config(port: int, upstream_ports: list[int]) -> str:
    servers = "\n".join(f"    server 127.0.0.1:{p};" for p in upstream_ports)
    return SITE.format(servers=servers, port=port)


class Nginx:
    """nginx on 127.0.0.1:``port`` in front of ``upstream_ports``, stopped by :meth:`stop`."""

    def __init__(self, port: int, upstream_ports: list[int]):
        self.port = port
        self.tmp = Path(tempfile.mkdtemp(prefix="vitviz-nginx-"))
        self.tmp.chmod(0o755)  # nginx's workers (another user when started as root) use the temp folders
        site = "\n".join("    " + line if line else line for line in site_config(port, upstream_ports).splitlines())
        (self.tmp / "nginx.conf").write_text(MAIN.format(tmp=self.tmp, site=site))
        self.proc = subprocess.Popen([NGINX, "-p", str(self.tmp), "-c", str(self.tmp / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        end = time.monotonic() + 10
        while not (self.tmp / "nginx.pid").exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.proc.stderr.read().decode(errors='replace')[-2000:]}")
            if time.monotonic() > end:
                raise RuntimeError("nginx did not start within 10 s")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self) -> dict[str, set[str]]:
        """Route cookie → the replicas (``host:port``) its requests went to, from the access log."""
        seen: dict[str, set[str]] = defaultdict(set)
        with contextlib.suppress(OSError):
            for line in (self.tmp / "access.log").read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[0] != "-":
                    seen[parts[2]].add(parts[0])  # the route used ($vv_route), cookie or fresh
        return dict(seen)

    def stop(self) -> None:
        stop_group(self.proc, signal.SIGQUIT)  # nginx's graceful stop: finishes logging
        shutil.rmtree(self.tmp, ignore_errors=True)
