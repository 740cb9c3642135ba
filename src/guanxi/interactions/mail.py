"""Mail transport: sending through a Django mailer (SMTP) and reading an IMAP mailbox.

No database here: the services decide what to send and where fetched mail is filed. Settings
(read with defaults, see docs/interactions.md): ``INTERACTIONS_MAILER`` (a ``MAILERS``
alias), ``INTERACTIONS_FROM_EMAIL``, ``IMAP_HOST``, ``IMAP_PORT``, ``IMAP_USER``,
``IMAP_PASSWORD``, ``IMAP_FOLDER``, ``IMAP_SECURITY``, ``IMAP_TIMEOUT``.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import imaplib
import re
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage as StdMessage
from email.utils import formataddr, getaddresses, make_msgid, parseaddr, parsedate_to_datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.html import strip_tags

BODY_LIMIT = 20000
_MSGID = re.compile(r"<[^<>\s]+>")


class MailError(Exception):
    """The mail server could not be reached or refused the message."""


# Sending --------------------------------------------------------------------------------

def mailer_alias() -> str:
    return getattr(settings, "INTERACTIONS_MAILER", "default")


def from_address() -> str:
    return getattr(settings, "INTERACTIONS_FROM_EMAIL", "") or settings.DEFAULT_FROM_EMAIL


def new_message_id() -> str:
    domain = parseaddr(from_address())[1].rpartition("@")[2] or "guanxi.localhost"
    return make_msgid(domain=domain)


def send(*, to: str, subject: str, body: str, sender_name: str = "",
         message_id: str | None = None, headers: dict[str, str] | None = None) -> str:
    """Send one plain-text message through the configured mailer; returns its Message-ID.
    Replies go to the shared mailbox (the From address), which the fetch job reads."""
    message_id = message_id or new_message_id()
    address = from_address()
    sender = formataddr((sender_name, parseaddr(address)[1])) if sender_name else address
    msg = EmailMessage(subject=subject, body=body, from_email=sender, to=[to],
                       headers={"Message-ID": message_id, **(headers or {})})
    try:
        msg.send(using=mailer_alias())
    except (OSError, ValueError) as exc:  # smtplib.SMTPException is an OSError
        raise MailError(str(exc) or type(exc).__name__) from exc
    return message_id


# Reading --------------------------------------------------------------------------------

@dataclass(frozen=True)
class MailboxConfig:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    security: str = "ssl"  # "ssl", "starttls" or "none" (loopback and tests only)
    timeout: float = 30.0

    @property
    def name(self) -> str:
        """Identifies the mailbox in the fetch job's cursor."""
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"


def mailbox_config() -> MailboxConfig | None:
    """The mailbox from settings, or None when ``IMAP_HOST`` is not set."""
    host = getattr(settings, "IMAP_HOST", "")
    if not host:
        return None
    security = getattr(settings, "IMAP_SECURITY", "ssl")
    default_port = 993 if security == "ssl" else 143
    return MailboxConfig(
        host=host, port=int(getattr(settings, "IMAP_PORT", 0) or default_port),
        user=getattr(settings, "IMAP_USER", ""), password=getattr(settings, "IMAP_PASSWORD", ""),
        folder=getattr(settings, "IMAP_FOLDER", "INBOX") or "INBOX", security=security,
        timeout=float(getattr(settings, "IMAP_TIMEOUT", 30)))


@dataclass
class FetchedMail:
    uid: int
    message_id: str
    from_address: str
    from_name: str
    to: str
    subject: str
    body: str
    date: dt.datetime
    references: list[str] = field(default_factory=list)  # In-Reply-To, then References


def _text_body(msg: StdMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeDecodeError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", "replace")
    if part.get_content_type() == "text/html":
        text = strip_tags(text)
    text = text.replace("\r\n", "\n").strip()
    return text[:BODY_LIMIT]


def parse(raw: bytes, *, uid: int = 0) -> FetchedMail:
    """Read one RFC 5322 message. A message without a Message-ID gets one derived from its
    bytes, so fetching it again finds the same id."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = next(iter(_MSGID.findall(str(msg.get("Message-ID", "")))), "")
    if not message_id or len(message_id) > 255:
        message_id = f"<sha256.{hashlib.sha256(raw).hexdigest()}@guanxi.invalid>"
    name, address = parseaddr(str(msg.get("From", "")))
    to = ", ".join(a for _, a in getaddresses([str(v) for v in msg.get_all("To", [])]) if a)
    try:
        date = parsedate_to_datetime(str(msg.get("Date", "")))
        if timezone.is_naive(date):
            date = timezone.make_aware(date, dt.UTC)
    except (TypeError, ValueError):
        date = timezone.now()
    refs = _MSGID.findall(str(msg.get("In-Reply-To", "")))
    refs += [r for r in _MSGID.findall(str(msg.get("References", ""))) if r not in refs]
    return FetchedMail(uid=uid, message_id=message_id, from_address=address.strip().lower(),
                       from_name=name.strip()[:200], to=to[:500],
                       subject=str(msg.get("Subject", "")).strip()[:200],
                       body=_text_body(msg), date=date, references=refs)


class Mailbox:
    """An IMAP folder opened read-only: list UIDs after a cursor, fetch messages by UID.
    ``BODY.PEEK`` leaves the messages unread for people who read the same mailbox."""

    def __init__(self, config: MailboxConfig):
        self.config = config
        self.conn: imaplib.IMAP4 | None = None
        self.uidvalidity = 0

    def __enter__(self) -> Mailbox:
        c = self.config
        try:
            if c.security == "ssl":
                self.conn = imaplib.IMAP4_SSL(c.host, c.port, timeout=c.timeout,
                                              ssl_context=ssl.create_default_context())
            else:
                self.conn = imaplib.IMAP4(c.host, c.port, timeout=c.timeout)
                if c.security == "starttls":
                    self.conn.starttls(ssl.create_default_context())
            self.conn.login(c.user, c.password)
            status, _ = self.conn.select(_quote(c.folder), readonly=True)
            if status != "OK":
                raise MailError(f"cannot open folder {c.folder!r}")
            status, data = self.conn.response("UIDVALIDITY")
            self.uidvalidity = int(data[0]) if data and data[0] else 0
        except (OSError, imaplib.IMAP4.error) as exc:
            self.close()
            raise MailError(str(exc) or type(exc).__name__) from exc
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
            self.conn = None

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than ``last_uid``, ascending (``n:*`` always names the highest
        message, even one below n, hence the filter)."""
        assert self.conn is not None
        try:
            status, data = self.conn.uid("SEARCH", None, f"UID {last_uid + 1}:*")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailError(str(exc)) from exc
        if status != "OK":
            raise MailError("UID SEARCH failed")
        uids = sorted({int(u) for u in (data[0] or b"").split()})
        return [u for u in uids if u > last_uid]

    def fetch(self, uid: int) -> bytes:
        assert self.conn is not None
        try:
            status, data = self.conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailError(str(exc)) from exc
        if status != "OK":
            raise MailError(f"UID FETCH {uid} failed")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        return b""


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
