//! openim-sandbox: an embedded OpenIM-compatible server.
