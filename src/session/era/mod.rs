//! Protocol eras: how a session is established and what every request carries. Only the legacy
//! era (revisions 2024-11-05 … 2025-11-25: an `initialize` handshake, then plain requests) exists
//! today; the modern era (2026-07-28: `server/discover`, per-request `_meta`, no handshake) goes
//! beside it as a sibling module, chosen per session.

pub(super) mod legacy;
