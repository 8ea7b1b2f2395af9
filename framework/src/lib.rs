//! openim-bot: bots and automation for OpenIM.
