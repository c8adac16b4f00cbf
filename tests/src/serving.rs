//! A server of nanoproc's on a thread of its own, for the tests that talk
//! to it over loopback HTTP.

use std::thread::JoinHandle;

use nanoproc_host::serve::{Server, Stopped};

/// `server` listening on a free loopback port, served by two workers on a
/// thread of its own until [`Running::stop`] or until dropped.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Stopped>>,
}

impl Running {
    /// Binds `server` to a free loopback port and serves it.
    ///
    /// # Panics
    ///
    /// When no port can be bound.
    pub fn start(server: &Server) -> Self {
        let listening = server.bind("127.0.0.1:0").expect("a loopback port");
        let origin = format!("http://{}", listening.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the server's threads")
                .block_on(listening.serve(async {
                    let _ = stopped.await;
                }))
                .expect("the server serves")
        });
        Self {
            origin,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// Stops the server and waits for it.
    ///
    /// # Panics
    ///
    /// When the server failed.
    pub fn stop(mut self) -> Stopped {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.thread
            .take()
            .expect("a running server")
            .join()
            .expect("the server's thread ends")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
