//! `nanoproc serve`: glue over `nanoproc_host::serve`.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use nanoproc_host::serve::{DEFAULT_GRACE, DEFAULT_MAX_BODY, Server, Signals, default_calls};

use crate::{AppArgs, EXIT_REFUSED, load};

/// What `nanoproc serve` serves, and where.
#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    app: AppArgs,
    /// The address to listen on; port 0 takes any free port (the address
    /// printed says which).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Request bodies longer than this are answered `413` before the app
    /// sees them.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY)]
    max_body: u64,
    /// How long to wait, once told to stop, for the requests in flight.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_GRACE.as_millis() as u64)]
    grace: u64,
    /// How many calls into the app run at once; more requests wait their
    /// turn. One per core by default; raise it for an app whose calls
    /// mostly wait on outgoing requests.
    #[arg(long, value_name = "N")]
    calls: Option<usize>,
}

/// Serves the app until SIGINT or SIGTERM; the exit status is 0 when every
/// request in flight was answered, 1 when the grace period or a second
/// signal cut some.
pub(crate) fn serve(args: &ServeArgs) -> Result<ExitCode> {
    let (app, name) = load(&args.app, Vec::new())?;
    let mut server = Server::new(&app).with_context(|| format!("cannot serve `{name}`"))?;
    server
        .max_body(args.max_body)
        .grace(Duration::from_millis(args.grace))
        .calls(args.calls.unwrap_or_else(default_calls));
    let workers = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("nanoproc-serve")
        .build()
        .context("cannot start the server's threads")?;
    let grace = args.grace;
    let stopped = workers.block_on(async {
        // Before the address is printed, so that a signal sent as soon as
        // it is seen stops the server gracefully.
        let mut signals = Signals::new()?;
        let listening = server.bind(&args.addr)?;
        println!("listening on http://{}", listening.local_addr());
        std::io::stdout().flush()?;
        let (stop, stopping) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            signals.recv().await;
            eprintln!(
                "stopping: no new connections, {grace} ms for the requests in flight \
                 (a second signal stops at once)"
            );
            let _ = stop.send(());
            signals.recv().await;
            eprintln!("stopped at once by a second signal");
            std::process::exit(EXIT_REFUSED.into());
        });
        listening
            .serve(async {
                let _ = stopping.await;
            })
            .await
    })?;
    // A guest may still be blocked in a host call (past its deadline, or
    // cut by the grace period); it ends with the process, which is not
    // made to wait for it, nor to shut down the runtime under it.
    std::mem::forget(workers);
    if stopped.unfinished > 0 {
        eprintln!(
            "stopped with {} request{} unanswered after the grace period of {} ms",
            stopped.unfinished,
            if stopped.unfinished == 1 { "" } else { "s" },
            args.grace
        );
        return Ok(ExitCode::from(EXIT_REFUSED));
    }
    eprintln!(
        "stopped after {} request{}",
        stopped.served,
        if stopped.served == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}
