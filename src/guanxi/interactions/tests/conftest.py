"""Real mail servers on loopback for the interactions tests: an SMTP server (aiosmtpd) that
keeps what it receives, and an IMAP server (Debian's dovecot-imapd) started as an
unprivileged process with a generated configuration, a plaintext passwd-file user and a
Maildir the tests fill. No mocks: the code under test speaks SMTP and IMAP to them."""

from __future__ import annotations

import email
import email.policy
import grp
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from guanxi.interactions.mail import MailboxConfig

FROM = "crm@guanxi.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                if s.recv(64):  # the greeting: the server is ready
                    return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port}")


# SMTP -----------------------------------------------------------------------------------

@dataclass
class SmtpServer:
    port: int
    messages: list = field(default_factory=list)  # (envelope recipients, parsed message)

    def only(self):
        assert len(self.messages) == 1, self.messages
        return self.messages[0]


class _Keep:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        self.server.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """aiosmtpd on 127.0.0.1:<free port>; the default mailer points at it."""
    from aiosmtpd.controller import Controller

    server = SmtpServer(port=free_port())
    controller = Controller(_Keep(server), hostname="127.0.0.1", port=server.port)
    controller.start()
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 5}}}
    settings.INTERACTIONS_FROM_EMAIL = f"Guanxi <{FROM}>"
    settings.SITE_URL = "https://crm.guanxi.test"
    try:
        yield server
    finally:
        controller.stop()


# IMAP -----------------------------------------------------------------------------------

DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = guanxi-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
service auth {{
  user = $default_internal_user
}}
"""


MAILBOXES = 200  # users in the passwd-file: one fresh mailbox per test


@dataclass
class Dovecot:
    root: Path
    port: int
    uid: int
    gid: int
    password: str = "crm-secret"
    _next: itertools.count = field(default_factory=itertools.count)

    def mailbox(self) -> ImapServer:
        n = next(self._next)
        if n >= MAILBOXES:
            raise RuntimeError("out of test mailboxes: raise MAILBOXES")
        box = ImapServer(server=self, user=f"crm{n}")
        for sub in ("new", "cur", "tmp"):
            path = self.root / "mail" / box.user / "Maildir" / sub
            path.mkdir(parents=True)
        for path in [self.root / "mail" / box.user, *(self.root / "mail" / box.user).rglob("*")]:
            os.chown(path, self.uid, self.gid)
        return box


@dataclass
class ImapServer:
    """One user's mailbox on the shared test server."""

    server: Dovecot
    user: str
    _seq: itertools.count = field(default_factory=itertools.count)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def config(self) -> MailboxConfig:
        return MailboxConfig(host="127.0.0.1", port=self.server.port, user=self.user,
                             password=self.server.password, security="none", timeout=5)

    def deliver(self, raw: bytes) -> None:
        """Put a message into the user's Maildir (as a delivery agent would)."""
        maildir = self.server.root / "mail" / self.user / "Maildir"
        name = f"{time.time_ns()}.{next(self._seq)}.guanxi"
        tmp = maildir / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, self.server.uid, self.server.gid)
        tmp.rename(maildir / "new" / name)


def _run_as() -> pwd.struct_passwd:
    """An unprivileged account for the server: the current user, or Debian's ``dovecot``
    account when the tests run as root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.getuid())
    return pwd.getpwnam("dovecot")


@pytest.fixture(scope="session")
def dovecot():
    """dovecot on 127.0.0.1:<free port>, started once per test process, with users
    crm0, crm1, ... in a plaintext passwd-file."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(binary):
        raise RuntimeError("dovecot-imapd is not installed: run `make system-deps`")
    account = _run_as()
    root = Path(tempfile.mkdtemp(prefix="guanxi-imap-"))
    port = free_port()
    server = Dovecot(root=root, port=port, uid=account.pw_uid, gid=account.pw_gid)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True)
    (root / "passwd").write_text("".join(f"crm{n}:{{PLAIN}}{server.password}::::::\n"
                                         for n in range(MAILBOXES)))
    (root / "dovecot.conf").write_text(DOVECOT_CONF.format(
        root=root, port=port, user=account.pw_name, uid=account.pw_uid, gid=account.pw_gid,
        group=grp.getgrgid(account.pw_gid).gr_name))
    for path in [root, *root.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid)
    root.chmod(0o755)
    kwargs = {}
    if os.geteuid() == 0:
        kwargs = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    proc = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    try:
        wait_for_port(port, proc)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_server(dovecot, settings):
    """A fresh, empty mailbox on the test server; the IMAP settings point at it."""
    box = dovecot.mailbox()
    settings.IMAP_HOST, settings.IMAP_PORT = "127.0.0.1", box.port
    settings.IMAP_USER, settings.IMAP_PASSWORD = box.user, dovecot.password
    settings.IMAP_SECURITY, settings.IMAP_FOLDER = "none", "INBOX"
    return box
