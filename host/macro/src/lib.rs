//! The `sandbox!` macro of nanoproc's host, re-exported as
//! `nanoproc_host::sandbox!`; its documentation is there.
//!
//! The macro runs wasmtime's own bindings generator on the world (the
//! types, the export lookups and the typed calls are wasmtime's), then reads
//! the calls it made and adds a handle type with one method per exported
//! function: the same parameter and result types, without the store, each
//! call going through `nanoproc_host::sandbox::Sandbox::call`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use heck::{ToSnakeCase as _, ToUpperCamelCase as _};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, ImplItem, ImplItemFn, Item, LitStr, Token, braced, bracketed};
use wit_parser_for_wasmtime::{
    Function, FunctionKind, InterfaceId, Resolve, Type, TypeDefKind, WorldItem, WorldKey,
};

/// Typed Rust calls into a component in a nanoprocess, from a native
/// program.
///
/// ```ignore
/// nanoproc_host::sandbox!({
///     // The WIT package (a file or a folder), relative to the crate's
///     // `Cargo.toml`; a list pushes several packages in order.
///     path: "../../wit/markdown",
///     // The world, when the package has more than one.
///     world: "nanoproc:markdown/markdown",
///     // Optional: the built component `Markdown::new()` loads.
///     component: "../../target/components/markdown.wasm",
/// });
///
/// let markdown = Markdown::new()?; // or Markdown::load(path), from_bytes(bytes)
/// let html = markdown.to_html("# Hello", options)?;
/// ```
///
/// makes, where it is invoked:
/// - a handle type named after the world (`Markdown`): cheap to clone,
///   `Send` and `Sync`, with one method per exported function. Parameters
///   and results are the WIT types as wasmtime's bindings generator makes
///   them (records as structs, variants and enums as enums, `option` as
///   `Option`, `result` as `Result`, `list<u8>` taken as `&[u8]`, `string`
///   as `&str`). Each method returns `Result<T, nanoproc_host::Fault>`: the
///   fault when the call trapped, ran past its deadline or hit the memory
///   limit, and otherwise the function's own result. A function named the
///   same in two exported interfaces is prefixed with its interface's name.
/// - `load(path)`, `from_bytes(bytes)` and `builder()` on the handle, and
///   `new()` when `component` is given;
/// - the exported interfaces' types, re-exported beside the handle;
/// - a type per exported resource, whose constructor takes the handle
///   (`Hasher::new(&hash, Algorithm::Sha256)`) and whose methods take
///   `&mut self`: a resource lives in one instance, which it keeps until it
///   is dropped.
///
/// Functions that pass resources other than their own `self` are refused
/// with a compile error.
#[proc_macro]
pub fn sandbox(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = syn::parse_macro_input!(input as Input);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// What the macro was given.
struct Input {
    /// WIT files or package directories, pushed in order; the world is
    /// looked for in the last.
    paths: Vec<LitStr>,
    /// The world, as `ns:pkg/world` or `world`; optional when the last
    /// package has one world.
    world: Option<LitStr>,
    /// The built component the handle's `new()` loads, if any.
    component: Option<LitStr>,
    span: Span,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let span = input.span();
        let body;
        braced!(body in input);
        let (mut paths, mut world, mut component) = (Vec::new(), None, None);
        while !body.is_empty() {
            let key: Ident = body.parse()?;
            body.parse::<Token![:]>()?;
            match key.to_string().as_str() {
                "path" if body.peek(syn::token::Bracket) => {
                    let list;
                    bracketed!(list in body);
                    paths = list
                        .parse_terminated(|p| p.parse::<LitStr>(), Token![,])?
                        .into_iter()
                        .collect();
                }
                "path" => paths = vec![body.parse()?],
                "world" => world = Some(body.parse()?),
                "component" => component = Some(body.parse()?),
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown key `{other}`: expected `path`, `world` or `component`"),
                    ));
                }
            }
            if body.is_empty() {
                break;
            }
            body.parse::<Token![,]>()?;
        }
        if paths.is_empty() {
            return Err(syn::Error::new(
                span,
                "`path` is missing: the WIT file or package directory of the world",
            ));
        }
        Ok(Self {
            paths,
            world,
            component,
            span,
        })
    }
}

/// Whether the WIT at `path` (a file, or a folder of files) names a WASI
/// package.
fn uses_wasi(path: &Path) -> bool {
    let files: Vec<PathBuf> = if path.is_dir() {
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "wit"))
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    files
        .iter()
        .any(|file| std::fs::read_to_string(file).is_ok_and(|text| text.contains("wasi:")))
}

/// The wasmtime major version whose WASI the host provides.
const WASMTIME_MAJOR: &str = "48.";

/// Pushes WASI's WIT packages as the host's wasmtime-wasi-http crate ships
/// them (the repository keeps no copy of third-party WIT), found in
/// cargo's registry: WASI 0.2's and WASI 0.3's, whose names carry their
/// versions; returns the files read.
fn push_wasi(resolve: &mut Resolve) -> Result<Vec<PathBuf>, String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .ok_or("cannot find cargo's home: neither `CARGO_HOME` nor `HOME` is set")?;
    let registry = home.join("registry/src");
    let prefix = format!("wasmtime-wasi-http-{WASMTIME_MAJOR}");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&registry)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|index| {
            std::fs::read_dir(index.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .filter(|krate| krate.join("wit/deps").is_dir())
        .collect();
    found.sort();
    let krate = found.pop().ok_or_else(|| {
        format!(
            "the world uses WASI, whose WIT comes from the `wasmtime-wasi-http` crate \
             ({prefix}*), which is not in {}: `cargo fetch` gets it",
            registry.display()
        )
    })?;
    let dir = krate.join("wit/deps");
    let mut pending = Vec::new();
    // WASI 0.2's packages, then WASI 0.3's.
    for dir in [dir.clone(), krate.join("src/p3/wit/deps")] {
        if !dir.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().is_some_and(|e| e == "wit") {
                let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
                let group = wit_parser_for_wasmtime::UnresolvedPackageGroup::parse(&path, &text)
                    .map_err(|(map, e)| e.render(&map))?;
                pending.push((path, group));
            }
        }
    }
    let mut files = Vec::new();
    // Push packages whose dependencies are all present, until none are left.
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|(_, group)| {
                group
                    .main
                    .foreign_deps
                    .keys()
                    .all(|dep| resolve.package_names.contains_key(dep))
            })
            .ok_or_else(|| {
                format!(
                    "WASI's packages in {} use each other in a cycle",
                    dir.display()
                )
            })?;
        let (path, group) = pending.remove(ready);
        resolve
            .push_group(group)
            .map_err(|e| format!("{}: {e:#}", path.display()))?;
        files.push(path);
    }
    Ok(files)
}

/// The module wasmtime's bindings give the exported interface `key`.
fn module_path(resolve: &Resolve, key: &WorldKey) -> Vec<String> {
    let mut path = vec!["exports".to_string()];
    match key {
        WorldKey::Name(name) => path.push(name.to_snake_case()),
        WorldKey::Interface(id) => {
            let interface = &resolve.interfaces[*id];
            if let Some(package) = interface.package {
                let name = &resolve.packages[package].name;
                path.push(name.namespace.to_snake_case());
                path.push(name.name.to_snake_case());
            }
            path.push(interface.name.clone().unwrap_or_default().to_snake_case());
        }
    }
    path
}

/// A path the macro was given, relative to the invoking crate's manifest.
fn resolve_path(lit: &LitStr) -> PathBuf {
    let root = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(PathBuf::new, PathBuf::from);
    root.join(lit.value())
}

fn expand(input: &Input) -> syn::Result<TokenStream> {
    let error = |message: String| syn::Error::new(input.span, message);
    let mut resolve = Resolve::default();
    let mut sources = Vec::new();
    let mut package = None;
    if input.paths.iter().any(|lit| uses_wasi(&resolve_path(lit))) {
        sources.extend(push_wasi(&mut resolve).map_err(error)?);
    }
    for lit in &input.paths {
        let path = resolve_path(lit);
        let (id, files) = resolve.push_path(&path).map_err(|e| {
            syn::Error::new(
                lit.span(),
                format!("cannot read the WIT at {}: {e:#}", path.display()),
            )
        })?;
        sources.extend(files.paths().map(Path::to_path_buf));
        package = Some(id);
    }
    let package = package.expect("at least one path");
    let world = resolve
        .select_world(
            &[package],
            input.world.as_ref().map(LitStr::value).as_deref(),
        )
        .map_err(|e| error(format!("cannot choose the world: {e:#}")))?;

    let is_async = world_is_async(&resolve, world);
    let mut opts = wasmtime_internal_wit_bindgen::Opts {
        wasmtime_crate: Some("nanoproc_host::wasmtime".into()),
        additional_derive_attributes: vec!["PartialEq".into()],
        ..Default::default()
    };
    if is_async {
        // Every export of such a world is called inside the store's event
        // loop (`call_concurrent`, given the store's accessor), its
        // parameters owned: a call may outlive the borrow of its caller.
        opts.exports.push(
            wasmtime_internal_wit_bindgen::FunctionFilter::Default,
            wasmtime_internal_wit_bindgen::FunctionFlags::ASYNC
                | wasmtime_internal_wit_bindgen::FunctionFlags::STORE,
        );
    }
    let generated = opts
        .generate(&mut resolve, world)
        .map_err(|e| error(format!("{e:#}")))?;
    let mut file: syn::File = syn::parse_str(&generated)
        .map_err(|e| error(format!("wasmtime's bindings did not parse: {e}")))?;

    let world_name = resolve.worlds[world].name.clone();
    let camel = world_name.to_upper_camel_case();
    let handle = format_ident!("{camel}");
    let world_ty = format_ident!("{camel}");
    let world_pre = format_ident!("{camel}Pre");
    let module = format_ident!("__nanoproc_sandbox_{}", world_name.to_snake_case());

    let mut reexports: Vec<(String, TokenStream)> = Vec::new();
    let mut injected: Vec<(Vec<String>, Vec<Item>)> = Vec::new();
    let mut method_names: HashMap<String, usize> = HashMap::new();
    let exports: Vec<(WorldKey, WorldItem)> = resolve.worlds[world]
        .exports
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (_, item) in &exports {
        if let WorldItem::Interface { id, .. } = item {
            for func in resolve.interfaces[*id].functions.values() {
                *method_names
                    .entry(func.item_name().to_snake_case())
                    .or_default() += 1;
            }
        }
    }
    let mut root_methods = Vec::new();
    for (key, item) in &exports {
        match item {
            WorldItem::Function(func) => {
                let found = find_call(&file, &[], &world_ty.to_string(), func)?;
                let full = func.name.clone();
                root_methods.push(free_method(
                    &resolve,
                    func,
                    &found,
                    &full,
                    quote!(world),
                    &format_ident!("{}", method_ident(&func.item_name().to_snake_case())),
                    is_async,
                    input.span,
                )?);
            }
            WorldItem::Interface { id, .. } => {
                let interface_name = resolve.name_world_key(key);
                let path = module_path(&resolve, key);
                let Some(accessor) = accessor(&file, &world_ty, &path) else {
                    return Err(error(format!(
                        "wasmtime's bindings have no accessor for `{interface_name}`"
                    )));
                };
                let items = interface_items(
                    &resolve,
                    *id,
                    &interface_name,
                    &file,
                    &path,
                    &accessor,
                    &handle,
                    &world_ty,
                    &method_names,
                    is_async,
                    input.span,
                )?;
                let module_path: Vec<Ident> = path.iter().map(|s| format_ident!("{s}")).collect();
                for ty in resolve.interfaces[*id].types.keys() {
                    let name = ty.to_upper_camel_case();
                    let ident = format_ident!("{name}");
                    reexports.push((name, quote!(#module::#(#module_path)::*::#ident)));
                }
                remove_resource_aliases(&mut file, &path, &resolve, *id);
                injected.push((path, items));
            }
            WorldItem::Type { .. } => {}
        }
    }
    for (path, items) in injected {
        inject(&mut file.items, &path, items);
    }

    // Re-export each exported interface's types once; a name two
    // interfaces share stays reachable through the bindings module only.
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (name, _) in &reexports {
        *counts.entry(name.as_str()).or_default() += 1;
    }
    let reexports: Vec<&TokenStream> = reexports
        .iter()
        .filter(|(name, _)| counts[name.as_str()] == 1)
        .map(|(_, path)| path)
        .collect();

    let docs = doc_attrs(resolve.worlds[world].docs.contents.as_deref());
    let track = sources.iter().map(|p| {
        let p = p.display().to_string();
        quote!(
            const _: &str = include_str!(#p);
        )
    });
    let component = input.component.as_ref().map(|lit| {
        let path = resolve_path(lit).display().to_string();
        let doc = format!(
            "The built component [`{camel}::new`] loads: `{}`.",
            lit.value()
        );
        quote! {
            #[doc = #doc]
            pub const COMPONENT: &'static str = #path;

            /// Loads the built component ([`Self::COMPONENT`]) with the
            /// default settings.
            ///
            /// # Errors
            ///
            /// As [`Self::load`]; build the component first if it is missing.
            pub fn new() -> nanoproc_host::anyhow::Result<Self> {
                Self::load(Self::COMPONENT)
            }
        }
    });
    let name = &world_name;
    let handle_doc = format!(
        "The component of the world `{name}` in a nanoprocess: one method per exported \
         function. Cheap to clone, and callable from any number of threads at once."
    );
    Ok(quote! {
        #[doc(hidden)]
        #[allow(
            missing_docs,
            unused,
            clippy::all,
            unused_qualifications,
            non_camel_case_types,
            non_snake_case
        )]
        pub mod #module {
            #(#track)*
            #file

            impl nanoproc_host::sandbox::World for #world_ty {
                type Pre = #world_pre<nanoproc_host::capabilities::HostState>;

                const ASYNC: bool = #is_async;

                fn prepare(
                    pre: nanoproc_host::wasmtime::component::InstancePre<
                        nanoproc_host::capabilities::HostState,
                    >,
                ) -> nanoproc_host::wasmtime::Result<Self::Pre> {
                    #world_pre::new(pre)
                }

                fn instantiate(
                    pre: &Self::Pre,
                    store: &mut nanoproc_host::wasmtime::Store<nanoproc_host::capabilities::HostState>,
                ) -> nanoproc_host::wasmtime::Result<Self> {
                    pre.instantiate(store)
                }

                fn load(
                    pre: &Self::Pre,
                    store: &mut nanoproc_host::wasmtime::Store<nanoproc_host::capabilities::HostState>,
                    instance: &nanoproc_host::wasmtime::component::Instance,
                ) -> nanoproc_host::wasmtime::Result<Self> {
                    pre.indices.load(store, instance)
                }
            }

            impl super::#handle {
                #(#root_methods)*
            }
        }

        #(pub use #reexports;)*

        #(#docs)*
        #[doc = ""]
        #[doc = #handle_doc]
        #[derive(Clone)]
        pub struct #handle(nanoproc_host::sandbox::Sandbox<#module::#world_ty>);

        impl nanoproc_host::sandbox::Sandboxed for #handle {
            type World = #module::#world_ty;
            const NAME: &'static str = #name;

            fn from_sandbox(sandbox: nanoproc_host::sandbox::Sandbox<Self::World>) -> Self {
                Self(sandbox)
            }
        }

        impl #handle {
            #component

            /// Loads the component (or composed app) in the file `path`
            /// with the default settings: instances reused, the limits it
            /// carries, refusals reported on stderr. It is compiled once,
            /// through the per-user cache of compiled components.
            ///
            /// # Errors
            ///
            /// When the file cannot be read, is no component this host can
            /// run, or does not export this world's functions.
            pub fn load(path: impl AsRef<std::path::Path>) -> nanoproc_host::anyhow::Result<Self> {
                Self::builder().load(path)
            }

            /// Loads the component (or composed app) `bytes`, for example
            /// embedded with `include_bytes!`, with the default settings.
            ///
            /// # Errors
            ///
            /// As [`Self::load`].
            pub fn from_bytes(bytes: &[u8]) -> nanoproc_host::anyhow::Result<Self> {
                Self::builder().from_bytes(bytes)
            }

            /// A builder to set a deadline, a memory limit, fresh instances
            /// per call or where refusals go, before loading.
            pub fn builder() -> nanoproc_host::sandbox::Builder<Self> {
                nanoproc_host::sandbox::Builder::new()
            }

            /// The sandbox behind the handle.
            pub fn sandbox(&self) -> &nanoproc_host::sandbox::Sandbox<#module::#world_ty> {
                &self.0
            }
        }
    })
}

/// The impl blocks among `items`, those in `const _: () = { ... };`
/// blocks included (where wasmtime's bindings put some).
fn impls(items: &[Item]) -> Vec<&syn::ItemImpl> {
    let mut found = Vec::new();
    for item in items {
        match item {
            Item::Impl(imp) => found.push(imp),
            Item::Const(c) => {
                if let syn::Expr::Block(block) = &*c.expr {
                    for stmt in &block.block.stmts {
                        if let syn::Stmt::Item(Item::Impl(imp)) = stmt {
                            found.push(imp);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// The methods of the impl blocks of `self_ty` among `items`.
fn methods<'a>(items: &'a [Item], self_ty: &str) -> impl Iterator<Item = &'a ImplItemFn> {
    impls(items)
        .into_iter()
        .filter(move |imp| {
            matches!(&*imp.self_ty, syn::Type::Path(p)
                if p.path.segments.last().is_some_and(|s| s.ident == self_ty))
        })
        .flat_map(|imp| imp.items.iter())
        .filter_map(|item| match item {
            ImplItem::Fn(f) => Some(f),
            _ => None,
        })
}

/// The world's accessor of the exported interface whose module is `path`
/// (`exports::ns::pkg::iface`): the method returning `&path::Guest`.
fn accessor(file: &syn::File, world_ty: &Ident, path: &[String]) -> Option<Ident> {
    methods(&file.items, &world_ty.to_string()).find_map(|f| {
        let syn::ReturnType::Type(_, ty) = &f.sig.output else {
            return None;
        };
        let syn::Type::Reference(r) = &**ty else {
            return None;
        };
        let syn::Type::Path(p) = &*r.elem else {
            return None;
        };
        let segments: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let (last, init) = segments.split_last()?;
        (last == "Guest" && init == path).then(|| f.sig.ident.clone())
    })
}

/// The items of the module at `path` (empty for the root).
fn module_items<'a>(items: &'a [Item], path: &[String]) -> Option<&'a [Item]> {
    let Some((first, rest)) = path.split_first() else {
        return Some(items);
    };
    items.iter().find_map(|item| match item {
        Item::Mod(m) if m.ident == first => m
            .content
            .as_ref()
            .and_then(|(_, items)| module_items(items, rest)),
        _ => None,
    })
}

fn module_items_mut<'a>(items: &'a mut Vec<Item>, path: &[String]) -> Option<&'a mut Vec<Item>> {
    let Some((first, rest)) = path.split_first() else {
        return Some(items);
    };
    items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == first => m
            .content
            .as_mut()
            .and_then(|(_, items)| module_items_mut(items, rest)),
        _ => None,
    })
}

fn inject(items: &mut Vec<Item>, path: &[String], new: Vec<Item>) {
    if let Some(items) = module_items_mut(items, path) {
        items.extend(new);
    }
}

/// Takes out the `pub type R = ResourceAny;` aliases of the interface's
/// resources: the handle types made for them take their names.
fn remove_resource_aliases(
    file: &mut syn::File,
    path: &[String],
    resolve: &Resolve,
    id: InterfaceId,
) {
    let resources: Vec<String> = resources(resolve, id)
        .map(|(name, _)| name.to_upper_camel_case())
        .collect();
    if let Some(items) = module_items_mut(&mut file.items, path) {
        items.retain(
            |item| !matches!(item, Item::Type(t) if resources.contains(&t.ident.to_string())),
        );
    }
}

/// The resources an interface defines, by name, with their docs.
fn resources(resolve: &Resolve, id: InterfaceId) -> impl Iterator<Item = (&str, Option<&str>)> {
    resolve.interfaces[id]
        .types
        .iter()
        .filter_map(|(name, ty)| {
            let def = &resolve.types[*ty];
            matches!(def.kind, TypeDefKind::Resource)
                .then(|| (name.as_str(), def.docs.contents.as_deref()))
        })
}

/// A call wasmtime's bindings made: its parameters after the store, and
/// the type inside its `wasmtime::Result`.
struct Call {
    ident: Ident,
    params: Vec<syn::Type>,
    result: syn::Type,
    docs: Vec<Attribute>,
}

/// The `call_*` method wasmtime's bindings made for `func` on `self_ty`
/// (`Guest`, `GuestR` for resource `r`, or the world) in the module `path`.
fn find_call(
    file: &syn::File,
    path: &[String],
    self_ty: &str,
    func: &Function,
) -> syn::Result<Call> {
    let wanted = match func.kind {
        FunctionKind::Constructor(_) => "call_constructor".to_string(),
        _ => format!("call_{}", func.item_name().to_snake_case()),
    };
    module_items(&file.items, path)
        .and_then(|items| methods(items, self_ty).find(|f| f.sig.ident == wanted))
        .map(call_of)
        .unwrap_or_else(|| {
            Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "wasmtime's bindings have no `{self_ty}::{wanted}` for `{}`",
                    func.name
                ),
            ))
        })
}

fn call_of(f: &ImplItemFn) -> syn::Result<Call> {
    let params = f
        .sig
        .inputs
        .iter()
        .skip(2) // `&self`, `store`
        .filter_map(|arg| match arg {
            syn::FnArg::Typed(t) => Some((*t.ty).clone()),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let result = match &f.sig.output {
        syn::ReturnType::Type(_, ty) => inner_of_result(ty),
        syn::ReturnType::Default => None,
    }
    .ok_or_else(|| {
        syn::Error::new(
            Span::call_site(),
            format!(
                "`{}` in wasmtime's bindings returns no `Result`",
                f.sig.ident
            ),
        )
    })?;
    let docs = f
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect();
    Ok(Call {
        ident: f.sig.ident.clone(),
        params,
        result,
        docs,
    })
}

/// `T` of a `...::Result<T>`.
fn inner_of_result(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

/// `name` as a method name: Rust keywords get a trailing underscore.
fn method_ident(name: &str) -> String {
    if syn::parse_str::<Ident>(name).is_ok() {
        name.to_string()
    } else {
        format!("{name}_")
    }
}

/// Names for a function's parameters: its WIT names where they make Rust
/// identifiers, `argN` otherwise.
fn param_idents(func: &Function, skip: usize) -> Vec<Ident> {
    func.params
        .iter()
        .skip(skip)
        .enumerate()
        .map(|(i, param)| {
            let name = &param.name;
            let snake = name.to_snake_case();
            match syn::parse_str::<Ident>(&snake) {
                Ok(ident)
                    if !["self", "store", "world", "sandbox", "accessor"]
                        .contains(&snake.as_str()) =>
                {
                    ident
                }
                _ => format_ident!("arg{i}"),
            }
        })
        .collect()
}

/// Whether the world's exports use the async component model: an async
/// function, or a `stream`, `future` or `error-context` in the types of
/// an exported function.
fn world_is_async(resolve: &Resolve, world: wit_parser_for_wasmtime::WorldId) -> bool {
    let is_async = |func: &Function| {
        func.kind.is_async()
            || func
                .params
                .iter()
                .map(|p| &p.ty)
                .chain(func.result.as_ref())
                .any(|ty| has_async_type(resolve, ty))
    };
    resolve.worlds[world]
        .exports
        .values()
        .any(|item| match item {
            WorldItem::Function(func) => is_async(func),
            WorldItem::Interface { id, .. } => {
                resolve.interfaces[*id].functions.values().any(is_async)
            }
            WorldItem::Type { .. } => false,
        })
}

/// Whether `ty` holds a `stream`, a `future` or an `error-context`
/// anywhere.
fn has_async_type(resolve: &Resolve, ty: &Type) -> bool {
    let Type::Id(id) = ty else {
        return matches!(ty, Type::ErrorContext);
    };
    match &resolve.types[*id].kind {
        TypeDefKind::Future(_) | TypeDefKind::Stream(_) => true,
        TypeDefKind::Record(r) => r.fields.iter().any(|f| has_async_type(resolve, &f.ty)),
        TypeDefKind::Tuple(t) => t.types.iter().any(|t| has_async_type(resolve, t)),
        TypeDefKind::Variant(v) => v
            .cases
            .iter()
            .any(|c| c.ty.as_ref().is_some_and(|t| has_async_type(resolve, t))),
        TypeDefKind::Option(t)
        | TypeDefKind::List(t)
        | TypeDefKind::FixedLengthList(t, _)
        | TypeDefKind::Type(t) => has_async_type(resolve, t),
        TypeDefKind::Map(k, v) => has_async_type(resolve, k) || has_async_type(resolve, v),
        TypeDefKind::Result(r) => {
            r.ok.as_ref().is_some_and(|t| has_async_type(resolve, t))
                || r.err.as_ref().is_some_and(|t| has_async_type(resolve, t))
        }
        _ => false,
    }
}

/// Whether `ty` is itself a `stream` or a `future`.
fn is_stream_or_future(resolve: &Resolve, ty: &Type) -> bool {
    let Type::Id(id) = ty else { return false };
    match &resolve.types[*id].kind {
        TypeDefKind::Future(_) | TypeDefKind::Stream(_) => true,
        TypeDefKind::Type(t) => is_stream_or_future(resolve, t),
        _ => false,
    }
}

/// The members of `ty` when it is a tuple.
fn tuple_members<'a>(resolve: &'a Resolve, ty: &Type) -> Option<&'a [Type]> {
    let Type::Id(id) = ty else { return None };
    match &resolve.types[*id].kind {
        TypeDefKind::Tuple(t) => Some(&t.types),
        TypeDefKind::Type(t) => tuple_members(resolve, t),
        _ => None,
    }
}

/// What the host hands a component's `stream` or `future` as, in
/// wasmtime's bindings: `StreamReader<T>` or `FutureReader<T>`, with `T`.
enum Transmit {
    Stream(syn::Type),
    Future(syn::Type),
}

/// `ty` as a [`Transmit`], when it is wasmtime's `StreamReader<T>` or
/// `FutureReader<T>`.
fn transmit(ty: &syn::Type) -> Option<Transmit> {
    let syn::Type::Path(p) = ty else { return None };
    let mut segments = p.path.segments.iter().rev();
    let last = segments.next()?;
    if segments.next().is_none_or(|s| s.ident != "component") {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let item = args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })?;
    match last.ident.to_string().as_str() {
        "StreamReader" => Some(Transmit::Stream(item)),
        "FutureReader" => Some(Transmit::Future(item)),
        _ => None,
    }
}

/// A method of the handle for a function of a world on the async
/// component model, blocking, and its `_async` twin, which awaits: both
/// run the call in the store's event loop. A `stream<T>` parameter is
/// taken as `Vec<T>` (its items, then its end) and a `future<T>` one as
/// `T`; a `stream<T>` in the result (alone or in its tuple) is given as
/// `Vec<T>`, everything the component wrote until the stream ended, and a
/// `future<T>` as `T`, its value: the call returns once they are complete.
#[allow(clippy::too_many_arguments)]
fn concurrent_method(
    resolve: &Resolve,
    func: &Function,
    call: &Call,
    full: &str,
    receiver: TokenStream,
    name: &Ident,
    names: &[Ident],
    span: Span,
) -> syn::Result<TokenStream> {
    let nested = |what: &str| {
        syn::Error::new(
            span,
            format!(
                "`{full}` passes a stream, a future or an error-context inside {what}, which \
                 sandbox handles do not support: they take them as parameters and give them \
                 as the result, or as a member of its tuple"
            ),
        )
    };
    let Call {
        ident,
        params,
        result,
        docs,
    } = call;
    let sandbox = quote!(nanoproc_host::sandbox);
    let mut handle_params = Vec::new();
    let mut conversions = Vec::new();
    for ((param, ty), name) in func.params.iter().zip(params).zip(names) {
        if !is_stream_or_future(resolve, &param.ty) && has_async_type(resolve, &param.ty) {
            return Err(nested("a parameter"));
        }
        match transmit(ty) {
            Some(Transmit::Stream(item)) => {
                handle_params.push(quote!(::std::vec::Vec<#item>));
                conversions.push(quote!(let #name = #sandbox::stream_of(accessor, #name)?;));
            }
            Some(Transmit::Future(item)) => {
                handle_params.push(quote!(#item));
                conversions.push(quote!(let #name = #sandbox::future_of(accessor, #name)?;));
            }
            None => handle_params.push(quote!(#ty)),
        }
    }
    // The result: what the handle gives, how each part is received, and
    // how the parts are waited for (after all are received).
    let received = |ty: &syn::Type, value: &Ident| match transmit(ty) {
        Some(Transmit::Stream(item)) => (
            quote!(::std::vec::Vec<#item>),
            quote!(let #value = #sandbox::receive_stream(accessor, #value)?;),
            quote!(#value.value().await?),
        ),
        Some(Transmit::Future(item)) => (
            quote!(#item),
            quote!(let #value = #sandbox::receive_future(accessor, #value)?;),
            quote!(#value.value().await?),
        ),
        None => (quote!(#ty), quote!(), quote!(#value)),
    };
    let wit_result = func.result.as_ref();
    let members = wit_result.and_then(|ty| tuple_members(resolve, ty));
    let (out, finish) = match (wit_result, members, result) {
        (Some(_), Some(members), syn::Type::Tuple(tuple)) if members.len() == tuple.elems.len() => {
            for member in members {
                if !is_stream_or_future(resolve, member) && has_async_type(resolve, member) {
                    return Err(nested("the result"));
                }
            }
            let values: Vec<Ident> = (0..members.len())
                .map(|i| format_ident!("__nanoproc_result{i}"))
                .collect();
            let parts: Vec<_> = tuple
                .elems
                .iter()
                .zip(&values)
                .map(|(ty, value)| received(ty, value))
                .collect();
            let outs = parts.iter().map(|(out, _, _)| out);
            let receives = parts.iter().map(|(_, receive, _)| receive);
            let waits = parts.iter().map(|(_, _, wait)| wait);
            (
                quote!((#(#outs,)*)),
                quote! {
                    let (#(#values,)*) = __nanoproc_result;
                    #(#receives)*
                    Ok((#(#waits,)*))
                },
            )
        }
        (Some(ty), _, result) => {
            if !is_stream_or_future(resolve, ty) && has_async_type(resolve, ty) {
                return Err(nested("the result"));
            }
            let value = format_ident!("__nanoproc_result");
            let (out, receive, wait) = received(result, &value);
            (out, quote! { #receive Ok(#wait) })
        }
        (None, _, _) => (quote!(()), quote!(Ok(__nanoproc_result))),
    };
    let twin = format_ident!("{}_async", name.to_string().trim_end_matches('_'));
    let twin_doc = format!(
        "As [`Self::{name}`], awaited rather than blocking the thread: for async code, \
         on a tokio runtime."
    );
    let blocking_doc = format!(
        "Blocks the calling thread until the call is complete, with the streams and \
         futures it returned; from async code, await [`Self::{twin}`] instead."
    );
    let twin_errors = format!("As [`Self::{name}`].");
    Ok(quote! {
        #(#docs)*
        ///
        #[doc = #blocking_doc]
        ///
        /// # Errors
        ///
        /// A [`nanoproc_host::Fault`] when the call traps, runs past the
        /// deadline or goes over a limit.
        pub fn #name(&self, #(#names: #handle_params),*) -> ::core::result::Result<#out, nanoproc_host::Fault> {
            #sandbox::block_on(self.#twin(#(#names),*))
        }

        #[doc = #twin_doc]
        ///
        /// # Errors
        ///
        #[doc = #twin_errors]
        pub async fn #twin(&self, #(#names: #handle_params),*) -> ::core::result::Result<#out, nanoproc_host::Fault> {
            self.0
                .call_concurrent(#full, async move |accessor, world| {
                    #(#conversions)*
                    let __nanoproc_result = #receiver.#ident(accessor, #(#names),*).await?;
                    #finish
                })
                .await
        }
    })
}

/// Whether `ty` holds a resource handle anywhere.
fn has_handle(resolve: &Resolve, ty: &Type) -> bool {
    let Type::Id(id) = ty else { return false };
    match &resolve.types[*id].kind {
        TypeDefKind::Handle(_) | TypeDefKind::Resource => true,
        TypeDefKind::Record(r) => r.fields.iter().any(|f| has_handle(resolve, &f.ty)),
        TypeDefKind::Tuple(t) => t.types.iter().any(|t| has_handle(resolve, t)),
        TypeDefKind::Variant(v) => v
            .cases
            .iter()
            .any(|c| c.ty.as_ref().is_some_and(|t| has_handle(resolve, t))),
        TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::Type(t) => {
            has_handle(resolve, t)
        }
        TypeDefKind::Result(r) => {
            r.ok.as_ref().is_some_and(|t| has_handle(resolve, t))
                || r.err.as_ref().is_some_and(|t| has_handle(resolve, t))
        }
        _ => false,
    }
}

/// A method of the handle for a freestanding function: `receiver` reaches
/// the function's owner from the world (`world` or `world.accessor()`).
#[allow(clippy::too_many_arguments)]
fn free_method(
    resolve: &Resolve,
    func: &Function,
    call: &Call,
    full: &str,
    receiver: TokenStream,
    name: &Ident,
    is_async: bool,
    span: Span,
) -> syn::Result<TokenStream> {
    if func.params.iter().any(|p| has_handle(resolve, &p.ty))
        || func.result.as_ref().is_some_and(|t| has_handle(resolve, t))
    {
        return Err(syn::Error::new(
            span,
            format!(
                "`{full}` passes a resource outside its own methods, which sandbox handles do not support yet"
            ),
        ));
    }
    let Call {
        ident,
        params,
        result,
        docs,
    } = call;
    let names = param_idents(func, 0);
    if is_async {
        return concurrent_method(resolve, func, call, full, receiver, name, &names, span);
    }
    Ok(quote! {
        #(#docs)*
        ///
        /// # Errors
        ///
        /// A [`nanoproc_host::Fault`] when the call traps, runs past the
        /// deadline or goes over a limit.
        pub fn #name(&self, #(#names: #params),*) -> ::core::result::Result<#result, nanoproc_host::Fault> {
            self.0.call(#full, |store, world| #receiver.#ident(store, #(#names),*))
        }
    })
}

/// What the handle and the interface's resources get for one exported
/// interface: an impl block of the handle, and a type per resource.
#[allow(clippy::too_many_arguments)]
fn interface_items(
    resolve: &Resolve,
    id: InterfaceId,
    interface_name: &str,
    file: &syn::File,
    path: &[String],
    accessor: &Ident,
    handle: &Ident,
    world_ty: &Ident,
    method_names: &HashMap<String, usize>,
    is_async: bool,
    span: Span,
) -> syn::Result<Vec<Item>> {
    // From the interface's module: up to the bindings module, then to the
    // module the macro was invoked in.
    let up: Vec<TokenStream> = (0..path.len()).map(|_| quote!(super::)).collect();
    let handle_path = quote!(#(#up)* super::#handle);
    let world_path = quote!(#(#up)* #world_ty);
    let short = resolve.interfaces[id]
        .name
        .clone()
        .unwrap_or_default()
        .to_snake_case();
    let mut handle_methods = Vec::new();
    let mut by_resource: HashMap<wit_parser_for_wasmtime::TypeId, Vec<TokenStream>> =
        HashMap::new();
    for func in resolve.interfaces[id].functions.values() {
        let full = format!("{interface_name}#{}", func.name);
        match func.kind {
            FunctionKind::Freestanding | FunctionKind::AsyncFreestanding => {
                let call = find_call(file, path, "Guest", func)?;
                let snake = func.item_name().to_snake_case();
                let name = if method_names.get(&snake).copied().unwrap_or(0) > 1 {
                    format!("{short}_{snake}")
                } else {
                    snake
                };
                handle_methods.push(free_method(
                    resolve,
                    func,
                    &call,
                    &full,
                    quote!(world.#accessor()),
                    &format_ident!("{}", method_ident(&name)),
                    is_async,
                    span,
                )?);
            }
            FunctionKind::Method(_)
            | FunctionKind::Static(_)
            | FunctionKind::Constructor(_)
            | FunctionKind::AsyncMethod(_)
            | FunctionKind::AsyncStatic(_)
                if is_async =>
            {
                return Err(syn::Error::new(
                    span,
                    format!(
                        "`{full}` is a function of a resource in a world on the async component model, \
                         which sandbox handles do not support yet"
                    ),
                ));
            }
            FunctionKind::Method(res)
            | FunctionKind::Static(res)
            | FunctionKind::Constructor(res) => {
                let res_name = resolve.types[res].name.clone().unwrap_or_default();
                let guest_res = format!("Guest{}", res_name.to_upper_camel_case());
                let getter = format_ident!("{}", res_name.to_snake_case());
                let call = find_call(file, path, &guest_res, func)?;
                let skip = usize::from(matches!(func.kind, FunctionKind::Method(_)));
                let own_params = &func.params[skip..];
                if own_params.iter().any(|p| has_handle(resolve, &p.ty))
                    || (!matches!(func.kind, FunctionKind::Constructor(_))
                        && func.result.as_ref().is_some_and(|t| has_handle(resolve, t)))
                {
                    return Err(syn::Error::new(
                        span,
                        format!(
                            "`{full}` passes a resource besides its own, which sandbox handles do not support yet"
                        ),
                    ));
                }
                let Call {
                    ident,
                    params,
                    result,
                    docs,
                } = &call;
                let names = param_idents(func, skip);
                let params: Vec<&syn::Type> = params.iter().skip(skip).collect();
                let errors = quote! {
                    ///
                    /// # Errors
                    ///
                    /// A [`nanoproc_host::Fault`] when the call traps, runs past
                    /// the deadline or goes over a limit.
                };
                let method = match func.kind {
                    FunctionKind::Constructor(_) => quote! {
                        #(#docs)*
                        #errors
                        pub fn new(sandbox: &#handle_path, #(#names: #params),*) -> ::core::result::Result<Self, nanoproc_host::Fault> {
                            let mut lease = sandbox.0.lease()?;
                            let resource = lease.call(#full, |store, world| {
                                world.#accessor().#getter().#ident(store, #(#names),*)
                            })?;
                            Ok(Self { lease, resource })
                        }
                    },
                    FunctionKind::Static(_) => {
                        let name =
                            format_ident!("{}", method_ident(&func.item_name().to_snake_case()));
                        quote! {
                            #(#docs)*
                            #errors
                            pub fn #name(sandbox: &#handle_path, #(#names: #params),*) -> ::core::result::Result<#result, nanoproc_host::Fault> {
                                sandbox.0.call(#full, |store, world| {
                                    world.#accessor().#getter().#ident(store, #(#names),*)
                                })
                            }
                        }
                    }
                    _ => {
                        let name =
                            format_ident!("{}", method_ident(&func.item_name().to_snake_case()));
                        quote! {
                            #(#docs)*
                            #errors
                            pub fn #name(&mut self, #(#names: #params),*) -> ::core::result::Result<#result, nanoproc_host::Fault> {
                                let resource = self.resource;
                                self.lease.call(#full, |store, world| {
                                    world.#accessor().#getter().#ident(store, resource, #(#names),*)
                                })
                            }
                        }
                    }
                };
                by_resource.entry(res).or_default().push(method);
            }
            // An async function makes the world async: refused above.
            FunctionKind::AsyncMethod(_) | FunctionKind::AsyncStatic(_) => {
                unreachable!("`{full}` is async in a world that is not")
            }
        }
    }
    let mut items: Vec<Item> = vec![syn::parse_quote! {
        impl #handle_path {
            #(#handle_methods)*
        }
    }];
    for (name, docs) in resources(resolve, id) {
        let ty = resolve.interfaces[id].types[name];
        let ident = format_ident!("{}", name.to_upper_camel_case());
        let docs = doc_attrs(docs);
        let methods = by_resource.remove(&ty).unwrap_or_default();
        let note = format!(
            "A `{name}` of the component: it lives in one instance, which stays \
             reserved for it until it is dropped."
        );
        items.push(syn::parse_quote! {
            #(#docs)*
            #[doc = ""]
            #[doc = #note]
            pub struct #ident {
                lease: nanoproc_host::sandbox::Lease<#world_path>,
                resource: nanoproc_host::wasmtime::component::ResourceAny,
            }
        });
        items.push(syn::parse_quote! {
            impl #ident {
                #(#methods)*
            }
        });
        items.push(syn::parse_quote! {
            impl Drop for #ident {
                fn drop(&mut self) {
                    self.lease.drop_resource(self.resource);
                }
            }
        });
    }
    Ok(items)
}

fn doc_attrs(docs: Option<&str>) -> Vec<TokenStream> {
    docs.map(|d| d.lines().map(|l| quote!(#[doc = #l])).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `sandbox!` says of `input`, or `ok` when it expands.
    fn outcome(input: TokenStream) -> String {
        match syn::parse2::<Input>(input).and_then(|input| expand(&input)) {
            Ok(_) => "ok".to_string(),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn every_world_of_the_project_that_exports_functions_expands() {
        for (path, world) in [
            ("../../wit/markdown", "markdown"),
            ("../../wit/hash", "hash"),
            ("../../wit/json", "json"),
            ("../../wit/logger", "logger"),
            ("../../wit/logger", "console-logger"),
            ("../../wit/hostile", "hostile"),
            ("../../wit/bench", "callee-side"),
            ("../../wit/hash-stream", "hash-stream"),
            ("../../wit/gzip-stream", "gzip-stream"),
        ] {
            assert_eq!(
                outcome(quote!({ path: #path, world: #world })),
                "ok",
                "{path} {world}"
            );
        }
    }

    #[test]
    fn bad_input_is_refused_with_a_message_that_says_what_to_do() {
        assert_eq!(
            outcome(quote!({ world: "markdown" })),
            "`path` is missing: the WIT file or package directory of the world"
        );
        assert_eq!(
            outcome(quote!({ path: "../../wit/markdown", wrold: "markdown" })),
            "unknown key `wrold`: expected `path`, `world` or `component`"
        );
        assert_eq!(
            outcome(quote!({ path: "../../wit/markdown", world: "nowhere" })),
            "cannot choose the world: World `nowhere` not found in package `nanoproc:markdown@0.1.0`"
        );
        let missing = outcome(quote!({ path: "../../wit/no-such-package" }));
        assert!(
            missing.starts_with("cannot read the WIT at ")
                && missing.contains("wit/no-such-package"),
            "{missing}"
        );
    }
}
