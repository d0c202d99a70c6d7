"""`workbench serve`: the same app in a browser tab, through textual-serve.

Each browser tab gets its own `workbench` process (textual-serve runs our command with the server's
environment), all on the same database. There is no login, so the server binds to loopback unless
`--allow-remote` says otherwise, and it refuses requests whose Host is not that loopback address
(DNS rebinding) or whose websocket Origin is another site (any page could otherwise drive the app).
The API key is never on the command line or in the page: the app processes read it from the
server's environment or config, exactly as in a terminal.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit

HELP = "serve the app in a browser tab (one app process per tab, same database)"

INSTALL_HINT = (
    "browser mode needs the web extra (textual-serve): pip install 'finetune-workbench[web]' "
    "(from a clone: pip install -e '.[web]')"
)
LOOPBACK_NAMES = ("localhost", "localhost.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Needs the web extra (textual-serve): pip install 'finetune-workbench[web]', "
        "or from a clone pip install -e '.[web]'."
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; anything else needs --allow-remote)",
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host; there is no login, so anyone who reaches the port "
        "can use the app with your API key",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, when it differs from the one they asked for "
        "(e.g. behind a reverse proxy); by default each page follows the Host it was loaded from",
    )


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hostname(netloc: str) -> str | None:
    try:
        return urlsplit("//" + netloc).hostname
    except ValueError:
        return None


def request_problem(
    host_header: str | None,
    origin: str | None,
    *,
    loopback_only: bool,
    websocket: bool,
    public_url: str | None = None,
) -> str | None:
    """Why a request must be refused, or None when it may go on.

    `loopback_only`: the server was bound to loopback, so only a loopback Host is genuine (a
    public name resolving to 127.0.0.1 is a DNS-rebinding page). `websocket`: the connection that
    drives the app must come from the page this server sent (same origin), never from another site.
    `public_url` (from --public-url) is the one other address the page may be served under.
    """
    public = urlsplit(public_url) if public_url else None
    host = _hostname(host_header or "")
    if not host:
        return "missing Host header"
    if loopback_only and not is_loopback(host) and not (public and host == public.hostname):
        return f"Host {host_header!r} is not a loopback address"
    if websocket and origin is not None:
        allowed = {(host_header or "").lower()}
        if public:
            allowed.add(public.netloc.lower())
        if urlsplit(origin).netloc.lower() not in allowed:
            return f"websocket from another origin ({origin!r})"
    return None


def app_command(db: str | None, profile: str | None) -> str:
    """The shell command textual-serve runs for each tab: this Python, this package, the same
    --db/--profile. Never a key: the child reads it from the inherited environment or config."""
    argv = [sys.executable, "-m", "workbench"]
    if db:
        argv += ["--db", str(Path(db).expanduser().resolve())]
    if profile:
        argv += ["--profile", profile]
    return shlex.join(argv)


def run(args: argparse.Namespace) -> int:
    if args.port < 0 or args.port > 65535:
        print(f"workbench serve: --port {args.port} is not a port number", file=sys.stderr)
        return 2
    loopback = is_loopback(args.host)
    if not loopback and not args.allow_remote:
        print(
            f"workbench serve: --host {args.host} is reachable from other machines and the "
            "browser mode has no login. Use the default 127.0.0.1 with an SSH tunnel "
            "(ssh -L 8000:127.0.0.1:8000 host), or add --allow-remote if you mean it.",
            file=sys.stderr,
        )
        return 2

    from workbench.commands.common import open_config, open_database

    # fail here, once, rather than in every tab
    open_config("serve", args.profile)
    open_database("serve", args.db).close()

    try:
        server_class = _server_class()
    except ImportError:
        print(f"workbench serve: {INSTALL_HINT}", file=sys.stderr)
        return 2

    problem = _cannot_listen(args.host, args.port)
    if problem:
        print(
            f"workbench serve: cannot listen on {args.host}:{args.port}: {problem}", file=sys.stderr
        )
        return 2
    if not loopback:
        print(
            f"WARNING: serving on {args.host}:{args.port} with no login: anyone who can reach "
            "this port can use the app, your data and your API key. Prefer an SSH tunnel.",
            file=sys.stderr,
        )
    server = server_class(
        app_command(args.db, args.profile),
        host=args.host,
        port=args.port,
        title="workbench",
        public_url=args.public_url,
        loopback_only=loopback,
    )
    try:
        server.serve()
    except OSError as exc:
        print(
            f"workbench serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    return 0


def _server_class():
    """textual-serve's Server with our guard and per-request URLs (imported only when serving)."""
    import aiohttp_jinja2
    from aiohttp import web
    from rich.console import Console
    from textual_serve.server import Server

    class WorkbenchServer(Server):
        def __init__(
            self, command: str, *, public_url: str | None, loopback_only: bool, **kwargs
        ) -> None:
            super().__init__(command, public_url=public_url, **kwargs)
            self.fixed_public_url = public_url.rstrip("/") if public_url else None
            self.loopback_only = loopback_only
            self.console = Console(stderr=True)  # stdout stays free for data

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()

            @web.middleware
            async def guard(request: web.Request, handler):
                problem = request_problem(
                    request.headers.get("Host"),
                    request.headers.get("Origin"),
                    loopback_only=self.loopback_only,
                    websocket=request.path == "/ws",
                    public_url=self.fixed_public_url,
                )
                if problem:
                    raise web.HTTPForbidden(text=f"workbench: refused: {problem}\n")
                return await handler(request)

            app.middlewares.append(guard)
            return app

        async def on_startup(self, app: web.Application) -> None:
            url = self.fixed_public_url or f"http://{_url_host(self.host)}:{self.port}"
            self.console.print(f"workbench: serving on {url}  (Ctrl+C stops)", highlight=False)

        @aiohttp_jinja2.template("app_index.html")
        async def handle_index(self, request: web.Request) -> dict:
            # URLs follow the address the browser used, so `ssh -L 9000:127.0.0.1:8000` works too
            base = self.fixed_public_url or f"{request.scheme}://{request.host}"
            font_size = request.query.get("fontsize", "16")
            ws_base = ("wss:" if base.startswith("https:") else "ws:") + base.split(":", 1)[1]
            return {
                "font_size": int(font_size) if font_size.isdigit() else 16,
                "app_websocket_url": f"{ws_base}/ws",
                "config": {"static": {"url": f"{base}/static/"}},
                "application": {"name": self.title},
            }

    return WorkbenchServer


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the port cannot be bound, checked before the server says it is serving."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"unknown host ({exc.strerror})"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            hint = "; pick another with --port" if exc.errno == errno.EADDRINUSE else ""
            return f"{exc.strerror or exc}{hint}"
    return None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
