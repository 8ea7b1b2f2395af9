//! The innermost step of the chain: every handler in turn, each isolated (panics caught),
//! errors routed handler hook → global hook → default.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;

use crate::event::Event;
use crate::runtime::context::Context;
use crate::runtime::error::{ErrorHook, FrameworkError, default_error_handler};
use crate::runtime::handler::EventHandler;

pub(crate) struct Router {
    pub(crate) handlers: Vec<Arc<dyn EventHandler>>,
    pub(crate) global_hook: Option<Arc<dyn ErrorHook>>,
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

impl Router {
    /// Runs every handler on `event`; never fails (errors go to the hooks).
    pub(crate) async fn route(&self, ctx: &Context, event: &Event) {
        for handler in &self.handlers {
            let outcome = AssertUnwindSafe(handler.dispatch(ctx, event))
                .catch_unwind()
                .await;
            let error = match outcome {
                Ok(Ok(())) => continue,
                Ok(Err(error)) => error,
                Err(payload) => FrameworkError::Panic {
                    handler: handler.name().to_string(),
                    message: panic_message(&*payload),
                },
            };
            let hook = AssertUnwindSafe(handler.on_error(ctx, error))
                .catch_unwind()
                .await;
            match hook {
                Ok(Ok(())) => {}
                Ok(Err(error)) => self.global_error(ctx, error).await,
                Err(payload) => {
                    tracing::error!(handler = handler.name(), panic = %panic_message(&*payload), "error hook panicked")
                }
            }
        }
    }

    /// The global hook, then the default.
    pub(crate) async fn global_error(&self, ctx: &Context, error: FrameworkError) {
        let error = match &self.global_hook {
            None => error,
            Some(hook) => match AssertUnwindSafe(hook.on_error(ctx, error))
                .catch_unwind()
                .await
            {
                Ok(Ok(())) => return,
                Ok(Err(error)) => error,
                Err(payload) => {
                    tracing::error!(panic = %panic_message(&*payload), "global error hook panicked");
                    return;
                }
            },
        };
        default_error_handler(ctx, error).await;
    }
}
