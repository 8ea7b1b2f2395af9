//! Webhook (callback) bodies the server POSTs to `<url>/<callbackCommand>` (http-api.md §8).
