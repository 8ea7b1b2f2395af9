//! Expansion of `#[handler]`: validation of every route method and generation of the
//! `EventHandler` implementation (router, route table, command metadata, error hook).

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, Pat, Type};

use crate::attrs::{
    self, CommandAttr, MatcherAttr, MatcherKind, Policy, ROUTE_ATTRS, Role, parse_items,
};

/// What one method parameter receives.
enum Param {
    Context,
    Message,
    /// A typed argument parsed from text: (name, type, shape).
    Arg(String, Box<Type>, ArgShape),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ArgShape {
    Required,
    Optional,
    Rest,
}

enum RouteKind {
    Command(CommandAttr),
    Matcher(MatcherAttr),
    On(Ident),
    OnError,
}

struct Route {
    attr: Attribute,
    method: Ident,
    kind: RouteKind,
    params: Vec<Param>,
    docs: String,
    span: Span,
}

pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let handler_attr = attrs::parse_handler(parse_items.parse2(attr)?)?;
    let mut item_impl: ItemImpl = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "#[handler] goes on an inherent impl block: `#[handler] impl MyBot { … }`",
        )
    })?;
    if let Some((_, path, _)) = &item_impl.trait_ {
        return Err(syn::Error::new(
            path.span(),
            "#[handler] goes on an inherent impl block (`impl MyBot { … }`), not on a trait impl",
        ));
    }

    let mut routes = Vec::new();
    for impl_item in &mut item_impl.items {
        if let ImplItem::Fn(func) = impl_item
            && let Some(route) = take_route(func)?
        {
            routes.push(route);
        }
    }
    check_duplicates(&routes)?;

    let self_ty = &item_impl.self_ty;
    let handler_name = handler_attr
        .name
        .clone()
        .unwrap_or_else(|| type_name(self_ty));
    let prefix = handler_attr.prefix.clone();
    let (impl_generics, _, where_clause) = item_impl.generics.split_for_impl();

    let mut on_blocks = Vec::new();
    let mut command_arms = Vec::new();
    let mut command_infos = Vec::new();
    let mut matcher_blocks = Vec::new();
    let mut statics = Vec::new();
    let mut route_infos = Vec::new();
    let mut error_hook = None;

    for (index, route) in routes.iter().enumerate() {
        let method = &route.method;
        let method_name = method.to_string();
        match &route.kind {
            RouteKind::OnError => {
                error_hook = Some(quote_spanned! {route.span=>
                    async fn on_error(
                        &self,
                        ctx: &::openim_bot::runtime::Context,
                        error: ::openim_bot::runtime::FrameworkError,
                    ) -> ::core::result::Result<(), ::openim_bot::runtime::FrameworkError> {
                        self.#method(ctx, error).await
                    }
                });
                route_infos.push(route_info("error", "on_error", "", &method_name));
            }
            RouteKind::On(variant) => {
                let call_args = route.params.iter().map(|p| match p {
                    Param::Context => quote!(ctx),
                    _ => quote!(__payload),
                });
                on_blocks.push(quote_spanned! {route.span=>
                    if let __rt::Event::#variant(__payload) = event {
                        __rt::handler_result(self.#method(#(#call_args),*).await, #handler_name, #method_name)?;
                    }
                });
                route_infos.push(route_info(
                    &variant.to_string(),
                    &format!("on({variant})"),
                    "",
                    &method_name,
                ));
            }
            RouteKind::Command(cmd) => {
                let name = cmd.name.clone().unwrap_or_else(|| method_name.clone());
                let policy_ident = format_ident!("__POLICY_{}", index);
                statics.push(policy_static(&policy_ident, &cmd.policy, &method_name));
                let cmd_index = command_infos.len();
                command_infos.push(command_info(&name, cmd, route, &prefix));
                let mut names = vec![name.clone()];
                names.extend(cmd.aliases.iter().cloned());
                let mut parse = Vec::new();
                let mut call_args = Vec::new();
                let mut last_rest = false;
                for (i, p) in route.params.iter().enumerate() {
                    match p {
                        Param::Context => call_args.push(quote!(ctx)),
                        Param::Message => call_args.push(quote!(__msg)),
                        Param::Arg(pname, ty, shape) => {
                            let var = format_ident!("__arg{}", i);
                            parse.push(quote_spanned! {ty.span()=>
                                let #var: #ty = __rt::parse_arg::<#ty>(&mut __args, &__COMMANDS[#cmd_index], #pname)?;
                            });
                            call_args.push(quote!(#var));
                            last_rest = *shape == ArgShape::Rest;
                        }
                    }
                }
                let finish = if last_rest {
                    quote!()
                } else {
                    quote!(__rt::finish_args(&__args, &__COMMANDS[#cmd_index])?;)
                };
                command_arms.push(quote_spanned! {route.span=>
                    #(#names)|* => {
                        __rt::check_command_permission(ctx, __msg, &#policy_ident, &__COMMANDS[#cmd_index]).await?;
                        let mut __args = __rt::Args::for_command(__rest, __msg, ctx.me());
                        #(#parse)*
                        #finish
                        // After the arguments: a usage error does not spend the cooldown.
                        __rt::take_command_cooldown(ctx, __msg, &#policy_ident, &__COMMANDS[#cmd_index])?;
                        return __rt::handler_result(self.#method(#(#call_args),*).await, #handler_name, #method_name);
                    }
                });
                let shown: Vec<String> = names.iter().map(|n| format!("{prefix}{n}")).collect();
                route_infos.push(route_info(
                    "NewMessage",
                    &format!("command {}", shown.join(" | ")),
                    &policy_text(&cmd.policy),
                    &method_name,
                ));
            }
            RouteKind::Matcher(m) => {
                let policy_ident = format_ident!("__POLICY_{}", index);
                statics.push(policy_static(&policy_ident, &m.policy, &method_name));
                let label = syn::Lifetime::new(&format!("'__route{index}"), Span::call_site());
                let allow_self = m.policy.allow_self;
                let (test, group_names) = matcher_test(m, index, &mut statics, &label)?;
                let captures = capture_selectors(
                    &route.params,
                    &group_names,
                    m.patterns.first().map_or(route.span, |p| p.span()),
                )?;
                let mut parse = Vec::new();
                let mut call_args = Vec::new();
                let mut arg_no = 0usize;
                for (i, p) in route.params.iter().enumerate() {
                    match p {
                        Param::Context => call_args.push(quote!(ctx)),
                        Param::Message => call_args.push(quote!(__msg)),
                        Param::Arg(pname, ty, _) => {
                            let var = format_ident!("__arg{}", i);
                            let group = captures.get(arg_no).cloned().unwrap_or_default();
                            arg_no += 1;
                            parse.push(quote_spanned! {ty.span()=>
                                let #var: #ty = __rt::parse_capture::<#ty>(&__caps, #group, __msg, #handler_name, #method_name, #pname)?;
                            });
                            call_args.push(quote!(#var));
                        }
                    }
                }
                let self_check = if allow_self {
                    quote!()
                } else {
                    quote!(if __rt::is_self(__msg) { break #label; })
                };
                matcher_blocks.push(quote_spanned! {route.span=>
                    #label: {
                        #self_check
                        #test
                        if !__rt::policy_permits(ctx, __msg, &#policy_ident).await? {
                            break #label;
                        }
                        #(#parse)*
                        if !__rt::cooldown_allows(ctx, __msg, &#policy_ident) {
                            break #label;
                        }
                        return __rt::handler_result(self.#method(#(#call_args),*).await, #handler_name, #method_name);
                    }
                });
                let pats: Vec<String> = m
                    .patterns
                    .iter()
                    .map(|p| format!("{:?}", p.value()))
                    .collect();
                let mut desc = format!("{}({})", m.kind.attr_name(), pats.join(", "));
                if m.ignore_case {
                    desc.push_str(" ignore_case");
                }
                route_infos.push(route_info(
                    "NewMessage",
                    &desc,
                    &policy_text(&m.policy),
                    &method_name,
                ));
            }
        }
    }

    let has_message_routes = !command_arms.is_empty() || !matcher_blocks.is_empty();
    let command_block = if command_arms.is_empty() {
        quote!()
    } else {
        quote! {
            if !__rt::is_self(__msg) {
                if let ::core::option::Option::Some((__name, __rest)) =
                    __rt::command_parts(__text, #prefix, __msg, ctx)
                {
                    match __name {
                        #(#command_arms)*
                        _ => {}
                    }
                }
            }
        }
    };
    let message_block = if has_message_routes {
        quote! {
            if let __rt::Event::NewMessage(__msg) = event {
                if let ::core::option::Option::Some(__text) = __rt::message_text(__msg) {
                    let __lower = __rt::LazyLower::new(__text);
                    let _ = &__lower;
                    #command_block
                    #(#matcher_blocks)*
                }
            }
        }
    } else {
        quote!()
    };
    let n_commands = command_infos.len();
    let n_routes = route_infos.len();

    let items = &item_impl.items;
    let attrs_impl = &item_impl.attrs;
    let generics = &item_impl.generics;
    let inherent = quote! {
        #(#attrs_impl)*
        impl #generics #self_ty #where_clause {
            #(#items)*
        }
    };

    Ok(quote! {
        #inherent

        const _: () = {
            use ::openim_bot::runtime::__private as __rt;

            static __COMMANDS: [::openim_bot::runtime::CommandInfo; #n_commands] = [#(#command_infos),*];
            static __ROUTES: [::openim_bot::runtime::RouteInfo; #n_routes] = [#(#route_infos),*];
            #(#statics)*

            #[__rt::async_trait]
            impl #impl_generics ::openim_bot::runtime::EventHandler for #self_ty #where_clause {
                fn name(&self) -> &'static str {
                    #handler_name
                }

                fn routes(&self) -> &'static [::openim_bot::runtime::RouteInfo] {
                    &__ROUTES
                }

                fn commands(&self) -> &'static [::openim_bot::runtime::CommandInfo] {
                    &__COMMANDS
                }

                #[allow(unreachable_code, clippy::needless_return)]
                async fn dispatch(
                    &self,
                    ctx: &::openim_bot::runtime::Context,
                    event: &__rt::Event,
                ) -> ::core::result::Result<(), ::openim_bot::runtime::FrameworkError> {
                    #(#on_blocks)*
                    #message_block
                    ::core::result::Result::Ok(())
                }

                #error_hook
            }
        };
    })
}

/// Removes our attributes from a method and turns them into a route.
fn take_route(func: &mut ImplItemFn) -> syn::Result<Option<Route>> {
    let mut found: Vec<Attribute> = Vec::new();
    func.attrs.retain(|a| {
        let ours = a
            .path()
            .get_ident()
            .is_some_and(|i| ROUTE_ATTRS.contains(&i.to_string().as_str()));
        if ours {
            found.push(a.clone());
        }
        !ours
    });
    if found.is_empty() {
        return Ok(None);
    }
    if found.len() > 1 {
        return Err(syn::Error::new_spanned(
            &found[1],
            "a method can carry only one route attribute (#[command], #[regex], #[contains], #[starts_with], #[equals], #[mentions_me], #[on] or #[on_error])",
        ));
    }
    let attr = found.remove(0);
    let attr_name = attr
        .path()
        .get_ident()
        .map(Ident::to_string)
        .unwrap_or_default();
    let span = attr.span();
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!("#[{attr_name}] methods must be `async fn`"),
        ));
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        _ => {
            return Err(syn::Error::new(
                sig.ident.span(),
                format!("#[{attr_name}] methods take `&self` as their first parameter"),
            ));
        }
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "route methods cannot be generic",
        ));
    }
    let docs = doc_text(&func.attrs);

    let args_of = |attr: &Attribute| -> syn::Result<Vec<attrs::Item>> {
        match &attr.meta {
            syn::Meta::Path(_) => Ok(Vec::new()),
            _ => attr.parse_args_with(parse_items),
        }
    };

    let kind = match attr_name.as_str() {
        "command" => RouteKind::Command(attrs::parse_command(args_of(&attr)?, &attr)?),
        "regex" => RouteKind::Matcher(attrs::parse_matcher(
            MatcherKind::Regex,
            args_of(&attr)?,
            &attr,
        )?),
        "contains" => RouteKind::Matcher(attrs::parse_matcher(
            MatcherKind::Contains,
            args_of(&attr)?,
            &attr,
        )?),
        "starts_with" => RouteKind::Matcher(attrs::parse_matcher(
            MatcherKind::StartsWith,
            args_of(&attr)?,
            &attr,
        )?),
        "equals" => RouteKind::Matcher(attrs::parse_matcher(
            MatcherKind::Equals,
            args_of(&attr)?,
            &attr,
        )?),
        "mentions_me" => RouteKind::Matcher(attrs::parse_matcher(
            MatcherKind::MentionsMe,
            args_of(&attr)?,
            &attr,
        )?),
        "on" => {
            let ident: Ident = attr.parse_args().map_err(|_| {
                syn::Error::new(
                    span,
                    "#[on] names one event variant, e.g. #[on(GroupMemberEntered)]",
                )
            })?;
            RouteKind::On(ident)
        }
        "on_error" => {
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                return Err(syn::Error::new(span, "#[on_error] takes no options"));
            }
            RouteKind::OnError
        }
        _ => unreachable!("filtered by ROUTE_ATTRS"),
    };

    let params = classify_params(func, &kind)?;
    Ok(Some(Route {
        attr,
        method: func.sig.ident.clone(),
        kind,
        params,
        docs,
        span,
    }))
}

fn classify_params(func: &ImplItemFn, kind: &RouteKind) -> syn::Result<Vec<Param>> {
    let mut params = Vec::new();
    let inputs: Vec<_> = func.sig.inputs.iter().skip(1).collect();
    match kind {
        RouteKind::On(_) => {
            let ok = inputs.len() == 2
                && matches!(inputs[0], FnArg::Typed(t) if is_ref_to(&t.ty, "Context"))
                && matches!(inputs[1], FnArg::Typed(t) if matches!(*t.ty, Type::Reference(_)));
            if !ok {
                return Err(syn::Error::new_spanned(
                    &func.sig.inputs,
                    "#[on(Event)] methods take `(&self, ctx: &Context, event: &Payload)` where Payload is the event's payload type",
                ));
            }
            params.push(Param::Context);
            params.push(Param::Message); // placeholder: the payload
            return Ok(params);
        }
        RouteKind::OnError => {
            let ok = inputs.len() == 2
                && matches!(inputs[0], FnArg::Typed(t) if is_ref_to(&t.ty, "Context"))
                && matches!(inputs[1], FnArg::Typed(t) if last_ident(&t.ty).as_deref() == Some("FrameworkError"));
            if !ok {
                return Err(syn::Error::new_spanned(
                    &func.sig.inputs,
                    "#[on_error] methods take `(&self, ctx: &Context, error: FrameworkError)` and return `Result<(), FrameworkError>` (return `Err(error)` to pass it on to the global hook)",
                ));
            }
            return Ok(vec![Param::Context, Param::Message]);
        }
        _ => {}
    }
    let mut seen_ctx = false;
    let mut seen_msg = false;
    let n = inputs.len();
    for (i, input) in inputs.into_iter().enumerate() {
        let FnArg::Typed(pt) = input else {
            unreachable!("receiver is only first")
        };
        if is_ref_to(&pt.ty, "Context") {
            if seen_ctx {
                return Err(syn::Error::new(pt.ty.span(), "`&Context` appears twice"));
            }
            seen_ctx = true;
            params.push(Param::Context);
            continue;
        }
        if is_ref_to(&pt.ty, "Message") {
            if seen_msg {
                return Err(syn::Error::new(pt.ty.span(), "`&Message` appears twice"));
            }
            seen_msg = true;
            params.push(Param::Message);
            continue;
        }
        if matches!(*pt.ty, Type::Reference(_)) {
            return Err(syn::Error::new(
                pt.ty.span(),
                "route arguments are parsed from the message text and must be owned types (String, i64, Duration, Mention, Rest, Option<T>, …); only `&Context` and `&Message` may be references",
            ));
        }
        if let RouteKind::Matcher(m) = kind
            && m.kind != MatcherKind::Regex
        {
            return Err(syn::Error::new(
                pt.ty.span(),
                format!(
                    "#[{}] methods take only `ctx: &Context` and `msg: &Message`; use #[regex(..)] to capture arguments",
                    m.kind.attr_name()
                ),
            ));
        }
        let name = match &*pt.pat {
            Pat::Ident(id) => id.ident.to_string().trim_start_matches('_').to_string(),
            _ => format!("arg{i}"),
        };
        let shape = match last_ident(&pt.ty).as_deref() {
            Some("Option") => ArgShape::Optional,
            Some("Rest") => ArgShape::Rest,
            _ => ArgShape::Required,
        };
        if shape == ArgShape::Rest && i + 1 != n {
            return Err(syn::Error::new(
                pt.ty.span(),
                "`Rest` takes the rest of the line and must be the last parameter",
            ));
        }
        params.push(Param::Arg(name, pt.ty.clone(), shape));
    }
    if let RouteKind::Matcher(m) = kind
        && m.kind == MatcherKind::Regex
    {
        let pattern = &m.patterns[0];
        let re = regex::Regex::new(&pattern.value()).map_err(|e| {
            syn::Error::new(pattern.span(), format!("invalid regular expression: {e}"))
        })?;
        let n_args = params
            .iter()
            .filter(|p| matches!(p, Param::Arg(..)))
            .count();
        let groups = re.captures_len() - 1;
        if n_args > groups {
            return Err(syn::Error::new(
                pattern.span(),
                format!(
                    "this regex has {groups} capture group(s) but the method takes {n_args} argument(s); each argument receives one capture group (by name if a group has the parameter's name, else in order)"
                ),
            ));
        }
    }
    Ok(params)
}

/// Builds the test part of a matcher block and, for regexes, the capture selector per argument.
fn matcher_test(
    m: &MatcherAttr,
    index: usize,
    statics: &mut Vec<TokenStream>,
    label: &syn::Lifetime,
) -> syn::Result<(TokenStream, Vec<Option<String>>)> {
    let texts: Vec<String> = m
        .patterns
        .iter()
        .map(|p| {
            if m.ignore_case {
                p.value().to_lowercase()
            } else {
                p.value()
            }
        })
        .collect();
    let hay = if m.ignore_case {
        quote!(__lower.get())
    } else {
        quote!(__text)
    };
    let test = match m.kind {
        MatcherKind::Contains => quote! {
            if !(#(#hay.contains(#texts))||*) { break #label; }
        },
        MatcherKind::StartsWith => quote! {
            if !(#(#hay.trim_start().starts_with(#texts))||*) { break #label; }
        },
        MatcherKind::Equals => quote! {
            if !(#(#hay.trim() == #texts)||*) { break #label; }
        },
        MatcherKind::MentionsMe => quote! {
            if !__rt::mentions_me(__msg, ctx) { break #label; }
        },
        MatcherKind::Regex => {
            let pattern = m.patterns[0].value();
            let pattern = if m.ignore_case {
                format!("(?i){pattern}")
            } else {
                pattern
            };
            let re = regex::Regex::new(&pattern).map_err(|e| {
                syn::Error::new(
                    m.patterns[0].span(),
                    format!("invalid regular expression: {e}"),
                )
            })?;
            let ident = format_ident!("__REGEX_{}", index);
            statics.push(quote! {
                static #ident: __rt::LazyRegex = __rt::LazyRegex::new(#pattern);
            });
            let test = quote! {
                let ::core::option::Option::Some(__caps) = #ident.get().captures(__text) else { break #label; };
            };
            let names: Vec<Option<String>> = re
                .capture_names()
                .skip(1)
                .map(|n| n.map(str::to_string))
                .collect();
            return Ok((test, names));
        }
    };
    Ok((test, Vec::new()))
}

/// Chooses the capture group of each argument: the group named like the parameter if there
/// is one, else the next group not claimed by name, in order.
fn capture_selectors(
    params: &[Param],
    names: &[Option<String>],
    pattern: Span,
) -> syn::Result<Vec<TokenStream>> {
    let arg_names: Vec<&str> = params
        .iter()
        .filter_map(|p| match p {
            Param::Arg(n, ..) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    let claimed: HashSet<&str> = names
        .iter()
        .flatten()
        .map(String::as_str)
        .filter(|n| arg_names.contains(n))
        .collect();
    let mut pool = names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.as_deref().is_none_or(|n| !claimed.contains(n)));
    arg_names
        .iter()
        .map(|a| {
            if claimed.contains(a) {
                return Ok(quote!(__rt::Group::Name(#a)));
            }
            match pool.next() {
                // A parameter that would take a *named* group by position is most likely a
                // typo in one of the two names (the arguments would be swapped silently).
                Some((_, Some(group))) => Err(syn::Error::new(
                    pattern,
                    format!(
                        "parameter `{a}` would take the capture group `{group}` by position: name the parameter `{group}` or the group `{a}` (only unnamed groups bind by position)"
                    ),
                )),
                Some((i, None)) => {
                    let i = i + 1;
                    Ok(quote!(__rt::Group::Index(#i)))
                }
                None => Ok(quote!(__rt::Group::Index(0usize))),
            }
        })
        .collect()
}

fn policy_static(ident: &Ident, p: &Policy, route: &str) -> TokenStream {
    let group_only = p.group_only;
    let private_only = p.private_only;
    let allow_self = p.allow_self;
    let role = match p.role {
        None => quote!(::core::option::Option::None),
        Some(Role::Admin) => quote!(::core::option::Option::Some(__rt::RequiredRole::Admin)),
        Some(Role::Owner) => quote!(::core::option::Option::Some(__rt::RequiredRole::Owner)),
    };
    let users = &p.users;
    let groups = &p.groups;
    let cooldown = match p.cooldown_ms {
        None => quote!(::core::option::Option::None),
        Some(ms) => quote!(::core::option::Option::Some(::core::time::Duration::from_millis(#ms))),
    };
    quote! {
        static #ident: __rt::Policy = __rt::Policy {
            route: #route,
            group_only: #group_only,
            private_only: #private_only,
            role: #role,
            users: &[#(#users),*],
            groups: &[#(#groups),*],
            cooldown: #cooldown,
            allow_self: #allow_self,
        };
    }
}

fn policy_text(p: &Policy) -> String {
    let mut parts = Vec::new();
    if p.group_only {
        parts.push("group_only".to_string());
    }
    if p.private_only {
        parts.push("private_only".to_string());
    }
    match p.role {
        Some(Role::Admin) => parts.push("role=admin".into()),
        Some(Role::Owner) => parts.push("role=owner".into()),
        None => {}
    }
    if !p.users.is_empty() {
        parts.push(format!("users({})", p.users.join(",")));
    }
    if !p.groups.is_empty() {
        parts.push(format!("groups({})", p.groups.join(",")));
    }
    if let Some(ms) = p.cooldown_ms {
        parts.push(format!("cooldown={ms}ms"));
    }
    if p.allow_self {
        parts.push("allow_self".into());
    }
    parts.join(", ")
}

fn route_info(event: &str, matcher: &str, filters: &str, method: &str) -> TokenStream {
    quote! {
        ::openim_bot::runtime::RouteInfo {
            event: #event,
            matcher: #matcher,
            filters: #filters,
            method: #method,
        }
    }
}

fn command_info(name: &str, cmd: &CommandAttr, route: &Route, prefix: &str) -> TokenStream {
    let aliases = &cmd.aliases;
    let description = cmd.description.clone().unwrap_or_else(|| {
        route
            .docs
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .to_string()
    });
    let help = route.docs.trim().to_string();
    let mut usage = format!("{prefix}{name}");
    for p in &route.params {
        if let Param::Arg(pname, _, shape) = p {
            match shape {
                ArgShape::Required => usage.push_str(&format!(" <{pname}>")),
                ArgShape::Optional => usage.push_str(&format!(" [{pname}]")),
                ArgShape::Rest => usage.push_str(&format!(" [{pname}...]")),
            }
        }
    }
    let hidden = cmd.hidden;
    let group_only = cmd.policy.group_only;
    let private_only = cmd.policy.private_only;
    let admin_only = cmd.policy.role.is_some();
    quote! {
        ::openim_bot::runtime::CommandInfo {
            name: #name,
            aliases: &[#(#aliases),*],
            prefix: #prefix,
            description: #description,
            help: #help,
            usage: #usage,
            hidden: #hidden,
            group_only: #group_only,
            private_only: #private_only,
            admin_only: #admin_only,
        }
    }
}

fn check_duplicates(routes: &[Route]) -> syn::Result<()> {
    let mut names = HashSet::new();
    let mut error_hooks = 0;
    for r in routes {
        match &r.kind {
            RouteKind::Command(c) => {
                let name = c.name.clone().unwrap_or_else(|| r.method.to_string());
                for n in std::iter::once(&name).chain(c.aliases.iter()) {
                    if !names.insert(n.clone()) {
                        return Err(syn::Error::new_spanned(
                            &r.attr,
                            format!("duplicate command name or alias `{n}` in this handler"),
                        ));
                    }
                }
            }
            RouteKind::OnError => {
                error_hooks += 1;
                if error_hooks > 1 {
                    return Err(syn::Error::new(
                        r.span,
                        "only one #[on_error] method per handler",
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn doc_text(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for a in attrs {
        if a.path().is_ident("doc")
            && let syn::Meta::NameValue(nv) = &a.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let v = s.value();
            lines.push(v.strip_prefix(' ').unwrap_or(&v).to_string());
        }
    }
    lines.join("\n")
}

fn is_ref_to(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Reference(r) => last_ident(&r.elem).as_deref() == Some(name),
        _ => false,
    }
}

fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Group(g) => last_ident(&g.elem),
        Type::Paren(p) => last_ident(&p.elem),
        _ => None,
    }
}

fn type_name(ty: &Type) -> String {
    last_ident(ty).unwrap_or_else(|| "handler".into())
}
