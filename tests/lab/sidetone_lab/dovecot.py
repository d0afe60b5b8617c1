"""Dovecot 2.3 as the lab's voicemail store: IMAP (and IMAPS with a lab CA leaf) on 127.0.0.1.

    eps = lab.start("dovecot")                 # seeds 3 voicemails for the mailbox user
    vm = lab.services["dovecot"]
    vm.add_voicemail("1001", caller="1002", caller_name="Bob", duration_s=None,
                     wav_path=None, date=None)   # speech made on the fly when no WAV is given

Voicemails are e-mails as an Asterisk-style PBX stores them over IMAP: a text part and an
`audio/wav` attachment `msgNNNN.wav`, with X-Asterisk-VM-* headers; heard = `\\Seen`.

Options:
    users     list of user names or {user: password or None} (None = random). Default: the
              mailbox user only.
    user      whose mailbox is seeded (default: the first Kamailio user when the lab runs
              Kamailio, else "1001"); added to `users` if missing
    seed      seed 3 sample voicemails (default True): one heard, two new
    tls       also serve IMAPS (default: when the lab CA runs)
"""

from __future__ import annotations

import datetime as dt
import email.utils
import imaplib
import os
import re
import secrets
import shutil
import ssl
from email.message import EmailMessage
from pathlib import Path

from . import audio
from .core import LabError, Service

CONFIG = Path(__file__).resolve().parent.parent / "config" / "dovecot" / "dovecot.conf"
MAIL_UID = 65534  # nobody
MAIL_GID = 65534  # nogroup

# The seeded mailbox: (sample, caller, caller name, age, heard).
SEED = (
    ("vm1", "1003", "Carol Jones", dt.timedelta(days=2, hours=3), True),
    ("vm2", "+15551234567", "Dave Front Desk", dt.timedelta(hours=5), False),
    ("vm3", "1002", "Clinic", dt.timedelta(minutes=12), False),
)


class Dovecot(Service):
    """IMAP server with passwd-file users and Maildir storage in the lab dir."""

    name = "dovecot"

    def __init__(self, lab, **options):
        super().__init__(lab, **options)
        self.users: dict[str, str] = {}
        self.port: int | None = None
        self.tls_port: int | None = None
        self.ca_cert: str | None = None
        self.mail_dir = self.dir / "mail"
        self.users_file = self.dir / "users"

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> dict:
        binary = shutil.which("dovecot") or ("/usr/sbin/dovecot"
                                             if os.path.exists("/usr/sbin/dovecot") else None)
        if binary is None:
            raise LabError("dovecot: not installed (apt-get install dovecot-imapd)")
        if os.geteuid() != 0:
            raise LabError("dovecot: the lab runs Dovecot as root (it switches to nobody)")
        mailbox_user = self.options.get("user")
        if mailbox_user is None:
            kam_users = (self.lab.services["kamailio"].endpoints.get("users") or {}) \
                if "kamailio" in self.lab.services else {}
            mailbox_user = next(iter(kam_users), "1001")
        wanted = self.options.get("users") or [mailbox_user]
        items = list(wanted.items()) if isinstance(wanted, dict) else [(u, None) for u in wanted]
        if mailbox_user not in dict(items):
            items.append((mailbox_user, None))
        for user, password in items:
            self._set_user(user, password)
        self.mailbox_user = mailbox_user

        # Mail processes run as nobody: they must be able to traverse to the Maildir.
        for path in (self.lab.root, self.dir):
            os.chmod(path, os.stat(path).st_mode | 0o111)
        for sub in ("run", "state"):
            (self.dir / sub).mkdir(exist_ok=True)
        self.mail_dir.mkdir(exist_ok=True)
        os.chown(self.mail_dir, MAIL_UID, MAIL_GID)

        tls = self.options.get("tls", "ca" in self.lab.services)
        ssl_files = ""
        if tls:
            self.ca_cert = self.lab.start("ca")["ca_cert"]
            cert, key = self.lab.services["ca"].issue("dovecot", ["127.0.0.1", "localhost"])
            ssl_files = f"ssl_cert = <{cert}\nssl_key = <{key}\nssl_min_protocol = TLSv1.2"
        self.port = self.lab.port()
        self.tls_port = self.lab.port() if tls else None
        values = {
            "BASE_DIR": self.dir / "run", "STATE_DIR": self.dir / "state",
            "SSL": "yes" if tls else "no", "SSL_FILES": ssl_files,
            "USERS_FILE": self.users_file, "MAIL_DIR": self.mail_dir,
            "IMAP_PORT": self.port, "IMAPS_PORT": self.tls_port or 0,
        }
        text = CONFIG.read_text()
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", str(value))
        left = re.findall(r"\{\{[A-Z_]+\}\}", re.sub(r"(?m)^#.*$", "", text))
        if left:
            raise LabError(f"dovecot: template placeholders not rendered: {sorted(set(left))}")
        conf = self.dir / "dovecot.conf"
        conf.write_text(text)

        proc = self.spawn([binary, "-F", "-c", str(conf)])
        self.lab.wait_ready("dovecot (IMAP greeting and LOGIN)", self._login_works, timeout=15,
                            proc=proc)
        if self.options.get("seed", True):
            self.seed(mailbox_user)
        return self._endpoints()

    def _endpoints(self) -> dict:
        eps = {
            "imap": f"127.0.0.1:{self.port}",
            "users": dict(self.users),
            "mailbox": "INBOX",
            "mailbox_user": self.mailbox_user,
        }
        if self.tls_port:
            eps["imaps"] = f"127.0.0.1:{self.tls_port}"
            eps["ca_cert"] = self.ca_cert
        return eps

    # ---- users and mail ---------------------------------------------------------------------

    def add_user(self, user: str, password: str | None = None) -> str:
        """Add (or reset) an IMAP user; returns the password (random unless given)."""
        password = self._set_user(user, password)
        if self.endpoints:
            self.endpoints["users"] = dict(self.users)
        return password

    def _set_user(self, user: str, password: str | None) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._+-]{1,64}", str(user)):
            raise LabError(f"dovecot: invalid user name {user!r}")
        if password is not None and (":" in password or "\n" in password):
            raise LabError("dovecot: a password may not contain ':' or a newline")
        password = password if password is not None else secrets.token_urlsafe(12)
        self.users[str(user)] = password
        self.users_file.write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n"
                                           for u, p in self.users.items()))
        os.chmod(self.users_file, 0o600)  # holds the passwords: only the auth process reads it
        os.chown(self.users_file, _uid("dovecot"), -1)
        return password

    def connect(self, user: str, tls: bool = False) -> imaplib.IMAP4:
        """A logged-in imaplib client for `user` (IMAPS verified against the lab CA if tls)."""
        if tls:
            if not self.tls_port:
                raise LabError("dovecot: IMAPS is off (start the lab CA first, or tls=True)")
            ctx = ssl.create_default_context(cafile=self.ca_cert)
            imap = imaplib.IMAP4_SSL("127.0.0.1", self.tls_port, ssl_context=ctx, timeout=10)
        else:
            imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(user, self.users[user])
        return imap

    def add_voicemail(self, user: str, caller: str, caller_name: str = "",
                      duration_s: float | None = None, wav_path: Path | str | None = None,
                      date: dt.datetime | None = None, heard: bool = False,
                      folder: str = "INBOX") -> dict:
        """APPEND a voicemail e-mail to `user`'s `folder`; returns {"uid", "message_num",
        "folder", "message_id"}. Without `wav_path`, a short spoken message is made; without
        `duration_s`, the WAV's length is used; without `date`, now."""
        date = date or dt.datetime.now(dt.timezone.utc)
        if date.tzinfo is None:
            date = date.astimezone()
        if wav_path is None:
            wav_path = audio.speech(self.lab.root / "assets", f"vm-{caller}", 8000,
                                    text=f"Hello, this is {caller_name or caller}. "
                                         "Please call me back.")
        wav_path = Path(wav_path)
        if duration_s is None:
            duration_s = audio.wav_duration(wav_path)
        imap = self.connect(user)
        try:
            if folder != "INBOX":
                imap.create(folder)  # fails harmlessly if it exists
            typ, data = imap.select(folder)
            if typ != "OK":
                raise LabError(f"dovecot: cannot select {folder!r}: {data}")
            number = int(data[0]) + 1
            msg = voicemail_message(user, caller, caller_name, duration_s, wav_path.read_bytes(),
                                    date, number)
            flags = "(\\Seen)" if heard else None
            typ, data = imap.append(folder, flags, imaplib.Time2Internaldate(date.timestamp()),
                                    msg.as_bytes())
            if typ != "OK":
                raise LabError(f"dovecot: APPEND failed: {data}")
            m = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            return {"uid": int(m.group(1)) if m else None, "message_num": number,
                    "folder": folder, "message_id": msg["Message-ID"]}
        finally:
            try:
                imap.logout()
            except Exception:
                pass

    def seed(self, user: str) -> list[dict]:
        """Put the 3 sample voicemails (one heard, two new) into `user`'s INBOX."""
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        added = []
        for sample, caller, caller_name, age, heard in SEED:
            wav = audio.speech(self.lab.root / "assets", sample, 8000)
            added.append(self.add_voicemail(user, caller, caller_name, None, wav, now - age,
                                            heard=heard))
        return added

    # ---- readiness --------------------------------------------------------------------------

    def _login_works(self) -> bool:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=2)
        try:
            if not imap.welcome.startswith(b"* OK"):
                return False
            user = next(iter(self.users))
            typ, _ = imap.login(user, self.users[user])
            return typ == "OK"
        finally:
            try:
                imap.logout()
            except Exception:
                pass


def _uid(user: str) -> int:
    """The uid of a system user (Dovecot's auth process runs as `dovecot`)."""
    import pwd

    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        raise LabError(f"dovecot: system user {user!r} missing (reinstall dovecot-core)") from None


def voicemail_message(user: str, caller: str, caller_name: str, duration_s: float,
                      wav: bytes, date: dt.datetime, number: int,
                      domain: str = "sidetone.lab") -> EmailMessage:
    """The e-mail an Asterisk-style voicemail system stores for one message."""
    seconds = int(round(duration_s))
    who = f'"{caller_name}" <{caller}>' if caller_name else caller
    msg = EmailMessage()
    msg["Date"] = email.utils.format_datetime(date)
    msg["From"] = f'"Voicemail System" <voicemail@{domain}>'
    msg["To"] = f'"{user}" <{user}@{domain}>'
    msg["Subject"] = f"[PBX]: New message {number} in mailbox {user}"
    msg["Message-ID"] = email.utils.make_msgid("voicemail", domain=domain)
    msg["X-Asterisk-VM-Message-Num"] = str(number)
    msg["X-Asterisk-VM-Server-Name"] = "sidetone-lab"
    msg["X-Asterisk-VM-Context"] = "default"
    msg["X-Asterisk-VM-Extension"] = user
    msg["X-Asterisk-VM-Priority"] = "1"
    msg["X-Asterisk-VM-Caller-channel"] = f"PJSIP/{caller}-{number:08x}"
    msg["X-Asterisk-VM-Caller-ID-Num"] = caller
    msg["X-Asterisk-VM-Caller-ID-Name"] = caller_name or caller
    msg["X-Asterisk-VM-Duration"] = str(seconds)
    msg["X-Asterisk-VM-Category"] = ""
    msg["X-Asterisk-VM-Flag"] = ""
    msg["X-Asterisk-VM-Message-Type"] = "IVM"
    # Asterisk's own format, in the mailbox's local time: "Tuesday, November 21, 2026 at
    # 09:15:02 AM"; Orig-time is the same instant as a Unix timestamp.
    msg["X-Asterisk-VM-Orig-date"] = date.strftime("%A, %B %d, %Y at %I:%M:%S %p")
    msg["X-Asterisk-VM-Orig-time"] = str(int(date.timestamp()))
    msg.set_content(
        f"Dear {user}:\n\n"
        f"\tjust wanted to let you know you were just left a {seconds // 60}:{seconds % 60:02d} "
        f"long message (number {number})\nin mailbox {user} from {who}, on "
        f"{msg['X-Asterisk-VM-Orig-date']},\nso you might want to check it when you get a "
        "chance.  Thanks!\n\n\t\t\t\t--Asterisk\n")
    msg.add_attachment(wav, maintype="audio", subtype="wav",
                       filename=f"msg{number - 1:04d}.wav")
    return msg
