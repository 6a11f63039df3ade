"""Typed SQLAlchemy models. Ciphertext columns hold AES-GCM output; nothing here is plaintext
participant data (configs are study designs, not participant data, and are stored in clear)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Datetimes stored as UTC and always read back timezone-aware, whatever the backend keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class InstallKeys(Base):
    """One row: the install's public key, its wrapped private key, and the pseudonym salt."""

    __tablename__ = "install_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    recovery_wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    participant_salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(Base):
    """A researcher. The account's own X25519 key pair opens its copy of the install private
    key: the private half is wrapped under a key derived from the password (scrypt with the
    parameters stored here), the install key is sealed to the public half, so the install key
    can be rotated (re-sealed to every account) without anyone's password."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    role: Mapped[str] = mapped_column(String(32), default="researcher")
    password_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    password_verifier: Mapped[bytes] = mapped_column(LargeBinary(32))
    # scrypt cost of this account's password; raised to the current standard at next login.
    kdf_n: Mapped[int] = mapped_column(Integer, default=2**17)
    kdf_r: Mapped[int] = mapped_column(Integer, default=8)
    kdf_p: Mapped[int] = mapped_column(Integer, default=1)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    wrapped_user_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sealed_install_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # Before version 2 of the account format: the install private key wrapped directly under
    # the password's key. Converted (and emptied) at the account's next login.
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    # TOTP secrets are encrypted under a key derived from this account's private key.
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    totp_pending_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last accepted TOTP time step: a code is accepted once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    locked_by: Mapped[str | None] = mapped_column(String(150), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Bumped by a password change, a lock and a key rotation: live sessions of an older epoch
    # stop working at their next request.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)


class UserSession(Base):
    """A server-side login session. The unwrapped key itself lives only in process memory."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    mfa_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class Study(Base):
    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    runtime_mode: Mapped[str] = mapped_column(String(32), default="django")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    versions: Mapped[list[ConfigVersion]] = relationship(back_populates="study")


class ConfigVersion(Base):
    __tablename__ = "config_versions"
    __table_args__ = (UniqueConstraint("study_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(50))
    task_type: Mapped[str | None] = mapped_column(String(64))
    builder_version: Mapped[str | None] = mapped_column(String(50))
    config: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Re-publishing a label bumps this, which makes it the latest version.
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    publish_seq: Mapped[int] = mapped_column(Integer, default=0)

    study: Mapped[Study] = relationship(back_populates="versions")


class RunSession(Base):
    __tablename__ = "run_sessions"
    # A study's runs newest first (the run list's page), its runs counted by status and its
    # last result without reading the rows (the studies list and page), the few open runs
    # (start-up) and the newest runs of all studies (the Sync page): each from an index however
    # many runs the folder holds (bench/bench_scale.py, migration 0005). None of these columns
    # changes on a checkpoint.
    __table_args__ = (
        Index("ix_run_sessions_study_started", "study_id", "started_at"),
        Index(
            "ix_run_sessions_study_status", "study_id", "status", "interrupted_at", "completed_at"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4, the run_session_id
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    config_version_id: Mapped[int] = mapped_column(ForeignKey("config_versions.id"))
    participant_key: Mapped[str] = mapped_column(String(64), index=True)
    participant_id_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # started | completed | failed
    status: Mapped[str] = mapped_column(String(16), default="started", index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set at start-up for runs a previous process left running: shown as interrupted.
    interrupted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    trial_count: Mapped[int] = mapped_column(Integer, default=0)
    # Digest of the accepted final submission (salted), so a retry can be told from a change.
    submit_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    submit_digest: Mapped[str | None] = mapped_column(String(64))
    # 1 for runs recorded with a sealed manifest (services/manifest.py) binding the columns
    # above to the sealed rows; 0 for runs recorded before that (decrypted as "unverified").
    bound: Mapped[int] = mapped_column(Integer, default=0)
    manifest: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    manifest_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    study: Mapped[Study] = relationship()
    config_version: Mapped[ConfigVersion] = relationship()


class RunKey(Base):
    """A content key of a run, sealed to the install public key. A run gets another key when the
    process that held its key in memory restarted: the writer never needs to read a key back."""

    __tablename__ = "run_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(
        ForeignKey("run_sessions.id", ondelete="CASCADE"), index=True
    )
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # HMAC of the content key with itself (reveals nothing about it): lets a manifest name the
    # key, and a writer restarted mid-run carry earlier keys into its manifest.
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ResultEnvelope(Base):
    """The run's sealed result: kind 'final' (submit) or 'checkpoint' (latest partial)."""

    __tablename__ = "result_envelopes"
    __table_args__ = (UniqueConstraint("run_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("run_sessions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    trial_count: Mapped[int] = mapped_column(Integer, default=0)
    checkpoint_label: Mapped[str | None] = mapped_column(String(255))
    checkpoint_index: Mapped[int | None] = mapped_column(Integer)
    key_id: Mapped[int] = mapped_column(ForeignKey("run_keys.id"))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TrialRecord(Base):
    __tablename__ = "trial_records"
    __table_args__ = (UniqueConstraint("run_id", "trial_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("run_sessions.id", ondelete="CASCADE"))
    trial_index: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[int] = mapped_column(ForeignKey("run_keys.id"))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEvent(Base):
    """Append-only and hash-chained: each row's hash covers the previous row's hash."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(150))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))
    client: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class SyncState(Base):
    """Where each run stands with the central server (driven by the sync engine)."""

    __tablename__ = "sync_states"

    run_id: Mapped[str] = mapped_column(
        ForeignKey("run_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    # pending | started_remote | sending | acknowledged | failed
    state: Mapped[str] = mapped_column(String(24), default="pending")
    server_url: Mapped[str | None] = mapped_column(String(512))
    remote_study_slug: Mapped[str | None] = mapped_column(String(255))
    remote_config_label: Mapped[str | None] = mapped_column(String(255))
    remote_run_session_id: Mapped[str | None] = mapped_column(String(64))
    # The central config version the run was started on (checked against the one meant).
    remote_config_version_id: Mapped[str | None] = mapped_column(String(64))
    pieces_total: Mapped[int] = mapped_column(Integer, default=0)
    pieces_acked: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retryable: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SyncPublication(Base):
    """What a central server said when a config version was published to it: where it stored
    it and which of its accounts own the study (shown by `sync status` and the Sync page)."""

    __tablename__ = "sync_publications"
    __table_args__ = (UniqueConstraint("server_url", "config_version_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_url: Mapped[str] = mapped_column(String(512))
    config_version_id: Mapped[int] = mapped_column(
        ForeignKey("config_versions.id", ondelete="CASCADE")
    )
    remote_study_slug: Mapped[str] = mapped_column(String(255))
    remote_config_label: Mapped[str] = mapped_column(String(255))
    remote_config_version_id: Mapped[str | None] = mapped_column(String(64))
    # null: the server did not say; []: it said the study has no owner.
    owner_usernames: Mapped[list | None] = mapped_column(JSON, nullable=True)
    account: Mapped[str] = mapped_column(String(150))  # who sync was logged in as
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MediaAsset(Base):
    """A file a study uses (e.g. an image), stored by content hash under the data folder."""

    __tablename__ = "media_assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
