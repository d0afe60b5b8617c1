"""`tests/lab/lab`: start, list, stop and sweep labs from a shell (standard library only).

    tests/lab/lab up --services kamailio,baresip [--json] [--keep] [--stdin-lifeline]
    tests/lab/lab up --demo
    tests/lab/lab status [--json]
    tests/lab/lab down [ROOT...]
    tests/lab/lab sweep

`up` starts the services, prints their endpoints when every one answers (with --json: exactly
one JSON line, `Lab.describe()`), then runs until SIGINT/SIGTERM/SIGHUP — or, with
--stdin-lifeline, until its stdin reaches EOF, so a parent that dies (however it dies) takes
the lab with it — and tears everything down. With --stdin-lifeline each line written to stdin
is a control command, `{"service": "kamailio", "action": "kill"}` (actions a service lists in
CONTROL_ACTIONS), answered by one JSON line on stdout (`{"ok": true, "endpoints": ...}`). If a service fails, `up` prints why on stderr,
prints nothing on stdout, and exits 1 (2 for a service that does not exist or cannot load).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from .core import LAB_PREFIX, Lab, LabError, sweep_stale_labs

# What the desktop app's demo needs, in start order. Add your service here when it lands
# (the name must be in registry._SERVICES); `up --demo` refuses to start a partial demo
# unless --allow-missing is given.
DEMO_SERVICES = [
    "kamailio",   # registrar/proxy: UDP/TCP/TLS/WS/WSS, users with random passwords, MWI
    "coturn",     # TURN/STUN for WebRTC media
    "dovecot",    # voicemail over IMAP
    "idp",        # OpenID Connect identity provider for single sign-on
    "baresip",    # a far-end phone to call (auto-answer)
]

SUPERVISOR_FILE = "supervisor.json"
ENDPOINTS_FILE = "endpoints.json"


class _Stop(Exception):
    """Raised by the signal handlers to leave the wait and tear down."""


def _on_signal(signum, _frame):
    raise _Stop(signal.Signals(signum).name)


def _proc_starttime(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


# ---- service checks -------------------------------------------------------------------------

def check_services(names: list[str]) -> list[str]:
    """Problems that keep the named services from starting (unknown, missing, broken)."""
    from .registry import _SERVICES

    problems = []
    for name in names:
        kind = name.partition(":")[0]
        if kind not in _SERVICES:
            problems.append(f"unknown service {kind!r} (known: {', '.join(sorted(_SERVICES))})")
            continue
        module_name, cls_name = _SERVICES[kind].split(":")
        try:
            module = importlib.import_module(f".{module_name}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(f".{module_name}"):
                problems.append(f"service {kind!r} is not available yet: "
                                f"tests/lab/sidetone_lab/{module_name}.py does not exist")
            else:
                problems.append(f"service {kind!r} cannot load: {exc} (the lab's command "
                                "line uses only the Python standard library)")
            continue
        except Exception as exc:  # a syntax error in someone's new service, say
            problems.append(f"service {kind!r} cannot load: {type(exc).__name__}: {exc}")
            continue
        if not hasattr(module, cls_name):
            problems.append(f"service {kind!r}: {module_name}.py has no class {cls_name}")
    return problems


def _parse_options(pairs: list[str]) -> dict[str, dict]:
    """--opt kamailio.domain=sidetone.test --opt kamailio.users='["1001","1002"]'."""
    options: dict[str, dict] = {}
    for pair in pairs:
        target, sep, value = pair.partition("=")
        service, dot, key = target.partition(".")
        if not sep or not dot or not service or not key:
            raise SystemExit(f"lab: --opt wants SERVICE.KEY=VALUE, not {pair!r}")
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
        options.setdefault(service, {})[key] = parsed
    return options


# ---- up -------------------------------------------------------------------------------------

def _human_summary(lab: Lab) -> str:
    lines = [f"Lab ready in {lab.root}", f"  logs: {lab.root}/logs", ""]
    for name, eps in lab.endpoints().items():
        lines.append(f"{name}:")
        for key, value in eps.items():
            if isinstance(value, dict):
                value = json.dumps(value)
            lines.append(f"  {key}: {value}")
    lines += ["", f"Endpoints as JSON: {lab.root}/{ENDPOINTS_FILE}",
              "Stop with Ctrl-C, or `tests/lab/lab down`."]
    return "\n".join(lines)


def _with_welcome(lab: Lab, line: str) -> str:
    """Adds the demo's welcome e-mail to the description: a one-time link and the same as a
    code, for the first extension that is not the far-end phone."""
    idp = lab.services.get("idp")
    kam = lab.services.get("kamailio")
    if idp is None or kam is None:
        return line
    far_end = lab.services.get("baresip")
    far_user = (far_end.endpoints or {}).get("user") if far_end is not None else None
    users = sorted(u for u in kam.users if u.isdigit() and u != far_user)
    if not users:
        return line
    token = idp.create_token(users[0])
    described = json.loads(line)
    described["welcome"] = {
        "extension": users[0],
        "link": token["url_link"],
        "code": token.get("code"),
        "ca_cert": lab.services["ca"].endpoints["ca_cert"],
        "discovery_server": idp.endpoints["issuer"].split("://", 1)[1],
        "far_end": far_user,
    }
    return json.dumps(described)


def _control(lab: Lab, raw: bytes) -> dict:
    """One command from the stdin lifeline, `{"service": NAME, "action": ACTION}`, run on a
    running service; only the actions its class lists in `CONTROL_ACTIONS` (e.g. Kamailio's
    `kill`, `revive`, `restart`) are allowed. Answers `{"ok": true, "endpoints": {...}}` or
    `{"ok": false, "error": WHY}` (one JSON line on stdout)."""
    try:
        command = json.loads(raw)
        name, action = command["service"], command["action"]
        service = lab.services.get(name)
        if service is None:
            return {"ok": False, "error": f"service {name!r} is not running"}
        if action not in getattr(service, "CONTROL_ACTIONS", ()):
            return {"ok": False, "error": f"{name} has no control action {action!r}"}
        result = getattr(service, action)()
        endpoints = result if isinstance(result, dict) else service.endpoints
        return {"ok": True, "endpoints": endpoints}
    except (ValueError, KeyError, TypeError) as exc:
        return {"ok": False, "error": f"bad command: {exc}"}
    except LabError as exc:
        return {"ok": False, "error": str(exc)}


def cmd_up(args) -> int:
    if args.demo:
        names = list(DEMO_SERVICES)
    elif args.services:
        names = [n.strip() for n in args.services.split(",") if n.strip()]
    else:
        print("lab: up needs --services NAME[,NAME...] or --demo", file=sys.stderr)
        return 2
    problems = check_services(names)
    if problems and args.demo and args.allow_missing:
        unavailable = {p.split("'")[1] for p in problems}
        for p in problems:
            print(f"lab: skipping: {p}", file=sys.stderr)
        names = [n for n in names if n.partition(":")[0] not in unavailable]
        problems = []
    if problems:
        for p in problems:
            print(f"lab: {p}", file=sys.stderr)
        if args.demo:
            print("lab: the demo needs every service in DEMO_SERVICES (sidetone_lab/cli.py); "
                  "use --allow-missing to start the rest", file=sys.stderr)
        return 2
    options = _parse_options(args.opt or [])

    # Signals: from here on any of them tears the lab down (never half-way through stop()).
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    lab = None
    code = 0
    try:
        lab = Lab(keep=args.keep)
        (lab.root / SUPERVISOR_FILE).write_text(json.dumps({
            "pid": os.getpid(), "starttime": _proc_starttime(os.getpid()),
            "services": names, "started": time.time()}))
        for name in names:
            lab.start(name, **options.get(name.partition(":")[0], {}))
        line = lab.describe()
        if args.demo:
            line = _with_welcome(lab, line)
        endpoints_file = lab.root / ENDPOINTS_FILE
        endpoints_file.write_text(line + "\n")
        endpoints_file.chmod(0o600)
        print(line if args.json else _human_summary(lab), flush=True)
        if args.stdin_lifeline:
            # Each line on the lifeline is a control command (see `_control`); EOF stops.
            for raw in sys.stdin.buffer:
                if raw.strip():
                    print(json.dumps(_control(lab, raw)), flush=True)
        else:
            while True:
                signal.pause()
    except _Stop:
        pass
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        if not args.keep:
            print("lab: the lab dir is removed on exit; run with --keep to keep its logs",
                  file=sys.stderr)
        code = 1
    except Exception as exc:  # a bug in a service: still tear down, still say what failed
        import traceback
        traceback.print_exc()
        print(f"lab: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if lab is not None:
            lab.stop()
            if args.keep and not args.json:
                print(f"lab: kept {lab.root}", file=sys.stderr)
    return code


# ---- status / down / sweep ------------------------------------------------------------------

def _labs() -> list[dict]:
    labs = []
    for root in sorted(Path(tempfile.gettempdir()).glob(LAB_PREFIX + "*")):
        try:
            labs.append(_lab_info(root))
        except OSError:  # removed while we looked (labs come and go in parallel)
            continue
    return labs


def _lab_info(root: Path) -> dict:
    """What `status` shows about one lab dir (OSError if it vanishes meanwhile)."""
    info = {"root": str(root), "pid": None, "running": False, "supervisor": False,
            "services": []}
    try:
        info["pid"] = int((root / "lab.pid").read_text())
        info["running"] = _pid_alive(info["pid"])
    except (OSError, ValueError):
        pass
    try:
        sup = json.loads((root / SUPERVISOR_FILE).read_text())
        # The same pid and start time: the `lab up` that wrote the file, not a reused pid.
        info["supervisor"] = (info["running"] and sup.get("pid") == info["pid"]
                              and sup.get("starttime") == _proc_starttime(info["pid"]))
        info["services"] = sup.get("services", [])
    except (OSError, ValueError):
        info["services"] = sorted(p.name for p in root.iterdir()
                                  if p.is_dir() and p.name != "logs")
    try:
        info["age_s"] = round(time.time() - (root / "lab.pid").stat().st_mtime)
    except OSError:
        info["age_s"] = None
    return info


def cmd_status(args) -> int:
    labs = _labs()
    if args.json:
        print(json.dumps(labs))
        return 0
    if not labs:
        print("no labs")
        return 0
    for info in labs:
        state = "running" if info["running"] else "stale (run `lab sweep`)"
        owner = "lab up" if info["supervisor"] else "in-process" if info["running"] else "-"
        print(f"{info['root']}  pid {info['pid']}  {state}  owner: {owner}  "
              f"age {info['age_s']}s  services: {','.join(info['services']) or '-'}")
    return 0


def cmd_down(args) -> int:
    wanted = {str(Path(r).resolve()) for r in args.roots} if args.roots else None
    targets = []
    for info in _labs():
        if wanted is not None and info["root"] not in wanted:
            continue
        if not info["running"]:
            continue
        if not info["supervisor"]:
            # A lab inside a test process: signalling it would kill pytest, not just the lab.
            print(f"lab: skipping {info['root']}: owned by pid {info['pid']}, "
                  "not a `lab up` (stop that process instead)", file=sys.stderr)
            continue
        os.kill(info["pid"], signal.SIGTERM)
        targets.append(info)
    deadline = time.monotonic() + 20
    code = 0
    for info in targets:
        while _pid_alive(info["pid"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(info["pid"]):
            print(f"lab: {info['root']} (pid {info['pid']}) did not stop", file=sys.stderr)
            code = 1
        else:
            print(f"stopped {info['root']}")
    if not targets:
        print("no running `lab up` labs")
    return code


def cmd_sweep(_args) -> int:
    removed = sweep_stale_labs()
    for path in removed:
        print(f"removed {path}")
    if not removed:
        print("nothing to sweep")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab", description="Sidetone's lab of real servers "
                                     "on 127.0.0.1 (see tests/lab/README.md).")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start services and run until stopped")
    group = up.add_mutually_exclusive_group()
    group.add_argument("--services", help="comma-separated services, e.g. kamailio,baresip")
    group.add_argument("--demo", action="store_true",
                       help=f"what the app's demo needs: {','.join(DEMO_SERVICES)}")
    up.add_argument("--allow-missing", action="store_true",
                    help="with --demo: skip services that do not exist yet")
    up.add_argument("--json", action="store_true", help="print one JSON line of endpoints")
    up.add_argument("--keep", action="store_true", help="keep the temp dir (logs) afterwards")
    up.add_argument("--stdin-lifeline", action="store_true",
                    help="stop when stdin reaches EOF (the parent closed it or died)")
    up.add_argument("--opt", action="append", metavar="SERVICE.KEY=VALUE",
                    help="a service option (VALUE parsed as JSON if it can be)")
    up.set_defaults(func=cmd_up)

    status = sub.add_parser("status", help="list labs on this machine")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    down = sub.add_parser("down", help="stop running `lab up` labs (all, or the given roots)")
    down.add_argument("roots", nargs="*", help="lab dirs to stop (default: all)")
    down.set_defaults(func=cmd_down)

    sweep = sub.add_parser("sweep", help="remove dirs of labs whose owner is gone")
    sweep.set_defaults(func=cmd_sweep)

    args = parser.parse_args(argv)
    return args.func(args)
