//! Ready-made OpenIM bots.
