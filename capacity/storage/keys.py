"""Every Redis key and channel name, in one place.

Keys of one region share the hash tag ``{region}`` so that a Lua script touching a region's
sequence, state and stream stays on one slot should the deployment move to Redis Cluster.
"""

PREFIX = "cap"


def region_seq(region: str) -> str:
    """The region's last applied ``seq`` (string integer)."""
    return f"{PREFIX}:{{{region}}}:seq"


def region_state(region: str) -> str:
    """Hash: facility id -> raw facility state (JSON) of the live picture."""
    return f"{PREFIX}:{{{region}}}:state"


def region_stream(region: str) -> str:
    """Stream of the region's changes; entry id ``<seq>-0`` so ``since`` maps to an id."""
    return f"{PREFIX}:{{{region}}}:stream"


def region_channel(region: str) -> str:
    """Pub/sub channel announcing that the region's stream has grown."""
    return f"{PREFIX}:{{{region}}}:changed"


def loaded_marker() -> str:
    """Set once the live picture is built from SQL; its absence means Redis came back empty."""
    return f"{PREFIX}:loaded"


def auth_generation() -> str:
    """Changed (a new random value) on every revocation: processes drop cached access."""
    return f"{PREFIX}:auth:gen"


def key_used(key_id: int) -> str:
    """Set (for a minute) when an API key's last use was written: one process writes it."""
    return f"{PREFIX}:key:{key_id}:used"


def scheduler_lock(job: str) -> str:
    """Lock held by the one process that runs a scheduled job."""
    return f"{PREFIX}:lock:{job}"


# Login limits: one script reads and writes several of these at once, so they share a slot.
_LOGIN = f"{PREFIX}:login:{{l}}"


def login_attempts(scope: str, ident: str) -> str:
    """Counter of recent failed logins per account and address, address, or account."""
    return f"{_LOGIN}:{scope}:{ident}"


def login_in_flight(scope: str, ident: str) -> str:
    """Sorted set of login attempts whose password is being checked (score: lease end, ms)."""
    return f"{_LOGIN}:flight:{scope}:{ident}"


def login_pairs(account: str) -> str:
    """Set of an account's per-address failure counters (cleared together when lifted)."""
    return f"{_LOGIN}:pairs:{account}"


def overdue_reporters(region: str) -> str:
    """Set of facilities in the region with no fresh figure (for reminders)."""
    return f"{PREFIX}:{{{region}}}:overdue"


def job_running(job: str) -> str:
    """Marker of the run of a scheduled job in progress (expires with its lock)."""
    return f"{PREFIX}:job:{job}:running"


def job_runs(job: str) -> str:
    """Hash of a scheduled job's counters: ``runs`` and ``overlaps`` (must stay absent)."""
    return f"{PREFIX}:job:{job}:runs"


def transfer_facility_channel(facility_id: str) -> str:
    """Pub/sub channel of a ward's transfer offers (sent, withdrawn, expired, answered)."""
    return f"{PREFIX}:transfer:facility:{facility_id}"


def transfer_request_channel(request_id: int) -> str:
    """Pub/sub channel of one transfer request: every change of it or of its offers."""
    return f"{PREFIX}:transfer:request:{request_id}"


def transfer_account_channel(account_id: int) -> str:
    """Pub/sub channel of the requests one account made (its live view of all of them)."""
    return f"{PREFIX}:transfer:account:{account_id}"


def alert_armed(subscription: int, subject: str) -> str:
    """``<seq>:<0|1>``: whether a subscription's condition held at the region seq last seen
    (edge-triggered alerts fire on 0 -> 1, once, whichever process sees it first)."""
    return f"{PREFIX}:alert:{subscription}:{subject}"


def alert_subscriptions_generation() -> str:
    """Changed on every new or deleted subscription: processes reload theirs."""
    return f"{PREFIX}:alert:subs:gen"


def alert_user_channel(user_id: int) -> str:
    """Pub/sub channel of a user's in-app alerts (for a live channel)."""
    return f"{PREFIX}:alert:user:{user_id}"


def idempotency(principal: str, key_digest: str) -> str:
    """A write's record under its Idempotency-Key: pending, then its first answer (JSON)."""
    return f"{PREFIX}:idem:{principal}:{key_digest}"
