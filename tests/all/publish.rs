//! The example HTTP app (`guests/publish`) served over loopback: each
//! response against pulldown-cmark and sha2 natively, the `ETag` and its
//! `304`, the other routes; and the same app with the compromised markdown
//! release (`guests/publish/compromised.toml`), whose attempts are refused
//! and reported while every response is the genuine one, byte for byte.

use std::sync::{Arc, Mutex};

use nanoproc_host::serve::{Entry, Log, Server};
use nanoproc_linker::{Manifest, compose};
use nanoproc_tests::native::markdown_extensions::extensions;
use nanoproc_tests::serving::Running;
use nanoproc_tests::{components_dir, project_root, runtime};
use sha2::{Digest as _, Sha256};

use crate::host::Refused;

/// Documents to render: the app's sample, and the extensions it turns on.
const DOCUMENTS: &[&str] = &[
    "",
    "# Title\n\nSome *emphasis*, `code` and a [link](https://example.org).\n",
    "| a | b |\n| --- | --- |\n| 1 | 2 |\n\n~~gone~~ and a footnote[^1].\n\n[^1]: Here.\n\n- [x] done\n- [ ] to do\n",
    "<script>alert(1)</script>\n\n> quoted \"text\" -- with dashes...\n",
];

/// The app of the manifest `path` (relative to the project), served on
/// loopback by this process until dropped.
struct Serving {
    running: Running,
    refused: Refused,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Serving {
    fn start(path: &str) -> Self {
        let manifest = Manifest::read(&project_root().join(path)).unwrap();
        let bytes = manifest.read_components(&components_dir()).unwrap();
        let composition = compose(&manifest, &bytes).unwrap();
        let refused = Refused::default();
        let app = runtime()
            .load(&composition.bytes, refused.options(manifest.base_dir()))
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let log = lines.clone();
        let mut server = Server::new(&app).unwrap();
        server.log(Log::Report(Arc::new(move |entry: &Entry| {
            if let Entry::Failed(failed) = entry {
                log.lock().unwrap().push(failed.to_string());
            }
        })));
        Self {
            running: Running::start(&server),
            refused,
            lines,
        }
    }

    /// Sends `method path` with `body` and the header `if_none_match`:
    /// the status, the headers that matter here and the body.
    fn ask(&self, method: &str, path: &str, body: &str, if_none_match: Option<&str>) -> Answer {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = self.running.url(path);
        let mut response = match method {
            "GET" => {
                let mut request = agent.get(&url);
                if let Some(tag) = if_none_match {
                    request = request.header("if-none-match", tag);
                }
                request.call()
            }
            "POST" => {
                let mut request = agent.post(&url);
                if let Some(tag) = if_none_match {
                    request = request.header("if-none-match", tag);
                }
                request.send(body.as_bytes())
            }
            "PUT" => agent.put(&url).send(body.as_bytes()),
            _ => unreachable!("{method}"),
        }
        .unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let (content_type, etag, allow) = (header("content-type"), header("etag"), header("allow"));
        Answer {
            status: response.status().as_u16(),
            content_type,
            etag,
            allow,
            body: response.body_mut().read_to_string().unwrap(),
        }
    }

    /// Stops the server, waits for it and returns the failures it logged.
    fn stop(self) -> Vec<String> {
        self.running.stop();
        self.lines.lock().unwrap().clone()
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    etag: Option<String>,
    allow: Option<String>,
    body: String,
}

/// What the app renders for `markdown`: pulldown-cmark with tables,
/// footnotes, strikethrough and task lists, natively.
fn native_html(markdown: &str) -> String {
    let options = extensions([true, true, true, true, false, false]);
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(markdown, options),
    );
    html
}

/// The `ETag` of `html`: its SHA-256 in lowercase hex, quoted.
fn etag(html: &str) -> String {
    let digest = Sha256::digest(html.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Every document rendered, revalidated and the other routes, each
/// answer checked against what it must be; returns the answers.
fn check_routes(serving: &Serving) -> Vec<Answer> {
    let sample =
        std::fs::read_to_string(project_root().join("guests/publish/sample/hello.md")).unwrap();
    let mut answers = Vec::new();
    for markdown in DOCUMENTS.iter().copied().chain([sample.as_str()]) {
        let html = native_html(markdown);
        let tag = etag(&html);
        let rendered = serving.ask("POST", "/render", markdown, None);
        assert_eq!(
            rendered,
            Answer {
                status: 200,
                content_type: Some("text/html; charset=utf-8".into()),
                etag: Some(tag.clone()),
                allow: None,
                body: html,
            },
            "{markdown:?}"
        );
        for header in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"other\", {tag}"),
            "*".into(),
        ] {
            let again = serving.ask("POST", "/render", markdown, Some(&header));
            assert_eq!(
                (again.status, again.etag.as_deref(), again.body.as_str()),
                (304, Some(tag.as_str()), ""),
                "{header}"
            );
            answers.push(again);
        }
        let changed = serving.ask("POST", "/render", markdown, Some("\"other\""));
        assert_eq!(changed, rendered);
        answers.push(rendered);
    }
    let routes = [
        ("GET", "/health", 200, "ok\n", None),
        ("GET", "/health?verbose=1", 200, "ok\n", None),
        ("POST", "/health", 405, "method not allowed\n", Some("GET")),
        ("GET", "/render", 405, "method not allowed\n", Some("POST")),
        ("PUT", "/render", 405, "method not allowed\n", Some("POST")),
        ("GET", "/", 404, "not found\n", None),
        ("GET", "/render/more", 404, "not found\n", None),
    ];
    for (method, path, status, body, allow) in routes {
        let answer = serving.ask(method, path, "", None);
        assert_eq!(
            answer,
            Answer {
                status,
                content_type: Some("text/plain; charset=utf-8".into()),
                etag: None,
                allow: allow.map(String::from),
                body: body.into(),
            },
            "{method} {path}"
        );
        answers.push(answer);
    }
    answers
}

#[test]
fn the_publish_app_renders_tags_and_revalidates_as_the_crates_do_natively() {
    let serving = Serving::start("guests/publish/nanoproc.toml");
    check_routes(&serving);
    assert_eq!(serving.refused.take(), Vec::<String>::new());
    assert_eq!(serving.stop(), Vec::<String>::new());
}

#[test]
fn the_compromised_release_is_refused_and_reported_while_every_response_stays_right() {
    let genuine = Serving::start("guests/publish/nanoproc.toml");
    let expected = check_routes(&genuine);
    genuine.stop();

    let compromised = Serving::start("guests/publish/compromised.toml");
    assert_eq!(check_routes(&compromised), expected);
    let refused = compromised.refused.take();
    // Each instance's first render runs the payload, and every request has
    // an instance of its own.
    for attempt in [
        "refused `markdown` opening `../.ssh/id_rsa` in a granted directory: not in its filesystem grant (not-permitted)",
        "refused `markdown` opening `../../.aws/credentials` in a granted directory: not in its filesystem grant (not-permitted)",
        "refused `markdown` a TCP connection to 203.0.113.7:443: not in its network grant (access-denied)",
    ] {
        let times = refused.iter().filter(|line| *line == attempt).count();
        assert!(
            times >= DOCUMENTS.len(),
            "{attempt}: {times} times in {refused:#?}"
        );
    }
    assert!(
        refused
            .iter()
            .all(|line| line.starts_with("refused `markdown` ")),
        "{refused:#?}"
    );
    assert_eq!(compromised.stop(), Vec::<String>::new());
}
